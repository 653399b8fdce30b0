"""What /metrics and /healthz ask of each store: how many posts wait to be claimed, and a ping."""

from __future__ import annotations

from datetime import timedelta

from storage.base import Store
from storage.models import utc_now
from tests.contract.helpers import LEASE, add_account, schedule

USER = 1701


async def test_the_queue_counts_due_posts_due_retries_and_lapsed_claims_but_not_live_ones(store: Store) -> None:
    account = await add_account(store, USER)
    now = utc_now()
    assert await store.count_due_posts(now) == 0
    due = [await schedule(store, USER, account, when=now - timedelta(minutes=20 + n)) for n in range(4)]
    await schedule(store, USER, account, when=now + timedelta(hours=1))  # not yet due
    assert await store.count_due_posts(now) == 4

    live = await store.claim_post(due[0].post_id, "w-live", now, LEASE)
    lapsing = await store.claim_post(due[1].post_id, "w-dead", now - LEASE * 2, LEASE)
    waiting = await store.claim_post(due[2].post_id, "w-retry", now, LEASE)
    assert live and lapsing and waiting
    assert await store.release_post(waiting, "w-retry", now + timedelta(minutes=5))
    # Still due: the lapsed claim and the untouched post; the retry waits five minutes.
    assert await store.count_due_posts(now) == 2
    # Six minutes on, the retry is due and the live claim's lease (five minutes) has lapsed too.
    assert await store.count_due_posts(now + timedelta(minutes=6)) == 4
    await store.cancel_post(USER, due[3].post_id)
    assert await store.count_due_posts(now) == 1


async def test_an_open_store_answers_a_ping(store: Store) -> None:
    await store.ping(2.0)
