"""Follow-up actions (unpin, delete) on each store: kept durably, claimed like posts — atomically,
under a lease, taken over when the lease runs out or the worker dies, settled only by their holder,
never run twice — and the owner's report of a failed one claimed once. Delivery options are kept on
posts and posters, and survive retry and reschedule."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from publishers.base import Outcome, Publisher, Sending, untracked
from scheduler.engine import RetryPolicy
from scheduler.follow_ups import MISSED_FOLLOW_UP, FollowUps
from storage.base import Store
from storage.crypto import CredentialCipher
from storage.models import (
    DeliveryOptions,
    DeliveryStatus,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Platform,
    Post,
    Poster,
    PostStatus,
    Target,
    new_id,
    new_post,
    settled_follow_up,
    utc_now,
)
from storage.mongo import MongoStore
from storage.sqlite import SQLiteStore
from tests.conftest import opened
from tests.contract.helpers import LEASE, add_account, record
from tests.contract.test_concurrency import PROCESSES, TASKS, run_claimers

USER = 2001


def action(
    due: datetime, kind: FollowUpKind = FollowUpKind.DELETE, *, post_id: str | None = None, user: int = USER
) -> FollowUp:
    post_id = post_id or new_id()
    return FollowUp(
        action_id=f"{post_id}:tg-1001:{kind.value}",
        post_id=post_id,
        user_id=user,
        target_id="tg-1001",
        target_name="Shop news",
        chat_id="-1001",
        message_ids=["7", "8", "9"],
        kind=kind,
        due_at=due,
    )


async def test_an_action_made_twice_is_stored_once_with_everything_it_needs(store: Store) -> None:
    now = utc_now()
    first = action(now + timedelta(hours=24))
    assert await store.add_follow_ups([first, action(now, FollowUpKind.UNPIN, post_id=first.post_id)]) == 2
    assert await store.add_follow_ups([replace(first, due_at=now)]) == 0

    stored = await store.follow_ups_of(first.post_id)
    assert [item.kind for item in stored] == [FollowUpKind.UNPIN, FollowUpKind.DELETE]
    delete = stored[1]
    assert delete.due_at == first.due_at, "the second add changed nothing"
    assert delete.message_ids == ["7", "8", "9"] and delete.chat_id == "-1001" and delete.target_name == "Shop news"
    assert delete.status is FollowUpStatus.PENDING and delete.claim is None and delete.attempts == 0


async def test_only_due_actions_are_claimed_soonest_first(store: Store) -> None:
    now = utc_now()
    later, due, earlier = action(now + timedelta(minutes=1)), action(now), action(now - timedelta(minutes=5))
    await store.add_follow_ups([later, due, earlier])

    claimed = await store.claim_follow_ups("w1/a1", now, LEASE)

    assert [item.action_id for item in claimed] == [earlier.action_id, due.action_id]
    assert all(item.claim is not None and item.claim.worker_id == "w1/a1" for item in claimed)
    assert all(item.attempts == 1 for item in claimed)
    assert claimed[0].claim is not None and claimed[0].claim.lease_until == now + LEASE


async def test_a_held_action_is_not_claimed_again_until_its_lease_runs_out(store: Store) -> None:
    now = utc_now()
    await store.add_follow_ups([action(now)])
    assert len(await store.claim_follow_ups("w1/a1", now, LEASE)) == 1

    assert await store.claim_follow_ups("w2/a1", now + LEASE - timedelta(seconds=1), LEASE) == []
    taken = await store.claim_follow_ups("w2/a1", now + LEASE + timedelta(seconds=1), LEASE)

    assert len(taken) == 1 and taken[0].attempts == 2
    assert taken[0].claim is not None and taken[0].claim.worker_id == "w2/a1"


async def test_only_the_holder_settles_an_action_and_a_settled_one_is_never_claimed_again(store: Store) -> None:
    now = utc_now()
    await store.add_follow_ups([action(now)])
    [held] = await store.claim_follow_ups("w1/a1", now, LEASE)
    [taken] = await store.claim_follow_ups("w2/a1", now + LEASE * 2, LEASE)

    assert not await store.settle_follow_up(settled_follow_up(held, FollowUpStatus.DONE, now), "w1/a1")
    assert await store.settle_follow_up(settled_follow_up(taken, FollowUpStatus.DONE, now + LEASE * 2), "w2/a1")

    [stored] = await store.follow_ups_of(held.post_id)
    assert stored.status is FollowUpStatus.DONE and stored.done_at == now + LEASE * 2 and stored.claim is None
    assert await store.claim_follow_ups("w3/a1", now + timedelta(days=3), LEASE) == []
    assert stored.report_due_at is None, "a done action reports nothing"


async def test_a_released_action_waits_until_its_new_time_with_the_last_error(store: Store) -> None:
    now = utc_now()
    await store.add_follow_ups([action(now)])
    [held] = await store.claim_follow_ups("w1/a1", now, LEASE)

    assert await store.release_follow_up(held.action_id, "w1/a1", now + timedelta(seconds=30), "Telegram is down")
    assert not await store.release_follow_up(held.action_id, "w1/a1", now, None), "released once only"

    assert await store.claim_follow_ups("w2/a1", now + timedelta(seconds=29), LEASE) == []
    [again] = await store.claim_follow_ups("w2/a1", now + timedelta(seconds=31), LEASE)
    assert again.attempts == 2 and again.error_message == "Telegram is down"
    assert again.due_at == now, "its lateness still counts from its time"


async def test_a_dead_workers_actions_and_reports_are_taken_over_at_once(store: Store) -> None:
    now = utc_now()
    mine, others = action(now), action(now)
    failing = action(now)
    await store.add_follow_ups([mine, others, failing])
    [first] = await store.claim_follow_ups("dead-1/a1", now, LEASE, limit=1)
    await store.claim_follow_ups("alive-1/a1", now, LEASE, limit=1)
    [third] = await store.claim_follow_ups("dead-1/a2", now, LEASE, limit=1)
    await store.settle_follow_up(settled_follow_up(third, FollowUpStatus.FAILED, now, "no right"), "dead-1/a2")
    assert len(await store.claim_follow_up_reports("dead-1/r1", now, LEASE)) == 1

    assert await store.expire_claims("dead-1", now) >= 2

    taken = await store.claim_follow_ups("new-1/a1", now, LEASE)
    assert [item.action_id for item in taken] == [first.action_id], "only the dead worker's, at once"
    reports = await store.claim_follow_up_reports("new-1/r1", now, LEASE)
    assert [item.action_id for item in reports] == [third.action_id]


async def test_a_failed_actions_report_is_claimed_once_and_marked_once(store: Store) -> None:
    now = utc_now()
    await store.add_follow_ups([action(now), action(now)])
    held = await store.claim_follow_ups("w1/a1", now, LEASE)
    await store.settle_follow_up(settled_follow_up(held[0], FollowUpStatus.FAILED, now, "lost the right"), "w1/a1")
    await store.settle_follow_up(settled_follow_up(held[1], FollowUpStatus.DONE, now), "w1/a1")

    [report] = await store.claim_follow_up_reports("w1/r1", now, LEASE)
    assert report.action_id == held[0].action_id and report.error_message == "lost the right"
    assert await store.claim_follow_up_reports("w2/r1", now, LEASE) == [], "held while being sent"

    assert await store.postpone_follow_up_reports([report.action_id], "w1/r1", now + timedelta(seconds=5)) == 1
    [again] = await store.claim_follow_up_reports("w2/r1", now + timedelta(seconds=5), LEASE)
    assert await store.mark_follow_ups_reported([again.action_id], "w1/r1", now) == 0, "no longer w1's"
    assert await store.mark_follow_ups_reported([again.action_id], "w2/r1", now) == 1
    assert await store.claim_follow_up_reports("w3/r1", now + timedelta(days=1), LEASE) == []
    [stored] = await store.follow_ups_of(report.post_id)
    assert stored.notified_at == now and stored.status is FollowUpStatus.FAILED


async def test_actions_outlive_a_restart_of_the_store(
    request: pytest.FixtureRequest, tmp_path: Path, encryption_key: str
) -> None:
    cipher = CredentialCipher(encryption_key)
    url = request.getfixturevalue("mongo_url")
    for kind in ("sqlite", "mongo"):

        def fresh(kind: str = kind, url: str = url) -> Store:
            return SQLiteStore(tmp_path / f"{kind}.db", cipher) if kind == "sqlite" else MongoStore(url, cipher)

        now = utc_now()
        pending, done = action(now), action(now)
        async with opened(fresh()) as before:
            await before.add_follow_ups([pending, done])
            claimed = await before.claim_follow_ups("gone-1/a1", now, LEASE)
            finished = next(item for item in claimed if item.action_id == done.action_id)
            await before.settle_follow_up(settled_follow_up(finished, FollowUpStatus.DONE, now), "gone-1/a1")
        async with opened(fresh()) as after:
            taken = await after.claim_follow_ups("next-1/a1", now + LEASE + timedelta(seconds=1), LEASE)
            assert [item.action_id for item in taken] == [pending.action_id], kind


async def test_actions_claimed_by_many_tasks_at_once_go_to_one_each(store: Store) -> None:
    now = utc_now()
    actions = [action(now) for _ in range(120)]
    await store.add_follow_ups(actions)

    async def claimer(name: str) -> list[str]:
        taken: list[str] = []
        for number in range(1000):
            claimed = await store.claim_follow_ups(f"{name}/a{number}", utc_now(), LEASE, limit=4)
            if not claimed:
                return taken
            taken.extend(item.action_id for item in claimed)
            await asyncio.sleep(0)
        return taken

    claims = await asyncio.gather(*(claimer(f"t{n}") for n in range(6)))
    counted = Counter(action_id for claimed in claims for action_id in claimed)
    assert set(counted) == {item.action_id for item in actions}
    assert max(counted.values()) == 1, "an action was claimed twice"


@pytest.mark.parametrize("kind", ["sqlite", "mongo"])
async def test_two_processes_racing_for_300_due_actions_claim_each_once(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, encryption_key: str
) -> None:
    cipher = CredentialCipher(encryption_key)
    location = str(tmp_path / "race.db") if kind == "sqlite" else request.getfixturevalue("mongo_url")
    store: Store = SQLiteStore(Path(location), cipher) if kind == "sqlite" else MongoStore(location, cipher)
    async with opened(store):
        now = utc_now()
        actions = [action(now - timedelta(seconds=1)) for _ in range(300)]
        await store.add_follow_ups(actions)

        claims = await run_claimers(kind, location, encryption_key, 4, "follow_ups")

        counted = Counter(action_id for claimed in claims.values() for action_id in claimed)
        assert set(counted) == {item.action_id for item in actions}
        assert max(counted.values()) == 1, "an action was claimed twice"
        assert all(any(claims[f"p{n}-{t}"] for t in range(TASKS)) for n in range(PROCESSES)), "no real race"


OPTIONS = DeliveryOptions(silent=True, protect=True, pin=True, unpin_after=3600, delete_after=86400)


async def test_delivery_options_are_kept_on_posts_through_retry_and_reschedule(store: Store) -> None:
    account = await add_account(store, USER)
    later = new_post(
        user_id=USER,
        account=account,
        targets=account.targets,
        main_caption="1/24",
        scheduled_time=utc_now() + timedelta(hours=2),
        options=OPTIONS,
    )
    await store.create_post(later)
    moved = await store.reschedule_post(USER, later.post_id, utc_now() + timedelta(hours=3))
    assert moved is not None and moved.options == OPTIONS

    now = utc_now()
    due = new_post(
        user_id=USER, account=account, targets=account.targets, main_caption="x", scheduled_time=now, options=OPTIONS
    )
    await store.create_post(due)
    claimed = await store.claim_post(due.post_id, "w1", now, LEASE)
    assert claimed is not None and claimed.options == OPTIONS
    failed = [replace(d, status=DeliveryStatus.FAILED, error_message="down") for d in claimed.deliveries.values()]
    await record(store, claimed, "w1", *failed)
    assert await store.finish_post(claimed, "w1", now) is not None
    retried = await store.retry_failed(USER, due.post_id, now)
    assert retried is not None and retried.status is PostStatus.SCHEDULED and retried.options == OPTIONS
    reloaded = await store.load_post(due.post_id)
    assert reloaded is not None and reloaded.options == OPTIONS

    stored = await store.get_post(USER, later.post_id)
    assert stored is not None and stored.options == OPTIONS


async def test_delivery_options_are_kept_on_posters(store: Store) -> None:
    poster = Poster(new_id(), USER, "Ad slot", "Buy now", options=OPTIONS)
    await store.save_poster(poster)
    [stored] = await store.list_posters(USER)
    assert stored.options == OPTIONS


async def test_each_users_delivery_defaults_are_their_own(store: Store) -> None:
    assert await store.delivery_defaults(USER) == DeliveryOptions()
    await store.set_delivery_defaults(USER, OPTIONS)
    await store.set_delivery_defaults(USER + 1, DeliveryOptions(silent=True))
    assert await store.delivery_defaults(USER) == OPTIONS
    await store.set_delivery_defaults(USER, DeliveryOptions(delete_after=7200))
    assert await store.delivery_defaults(USER) == DeliveryOptions(delete_after=7200)
    assert await store.delivery_defaults(USER + 1) == DeliveryOptions(silent=True)


# -- the engine: FollowUps running actions on each store --------------------------------------------
class ScriptedFollowUps(Publisher):
    """Answers each action with the outcomes queued for it (default: done), and counts calls."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.script: dict[str, list[Outcome]] = {}
        self.calls: Counter[str] = Counter()

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        raise AssertionError("only follow-ups here")

    async def follow_up(self, action: FollowUp) -> Outcome:
        self.calls[action.action_id] += 1
        await asyncio.sleep(0.001)
        queued = self.script.get(action.action_id) or []
        return queued.pop(0) if queued else Outcome.sent(action.message_ids[0])


class Told:
    def __init__(self) -> None:
        self.messages: list[tuple[int, list[str]]] = []

    async def __call__(self, owner: int, actions: list[FollowUp]) -> None:
        self.messages.append((owner, [action.action_id for action in actions]))


def engine(store: Store, publisher: Publisher, told: Told, worker: str = "w1", **clock: Any) -> FollowUps:
    return FollowUps(
        store,
        {Platform.TELEGRAM: publisher},
        told,
        worker_id=worker,
        lease=LEASE,
        max_lateness=timedelta(hours=24),
        retry=RetryPolicy(base_delay=60, jitter=0),
        **clock,
    )


async def test_an_action_first_claimed_after_max_lateness_is_missed_and_reported_once(store: Store) -> None:
    now = utc_now()
    late, fresh = action(now - timedelta(hours=25)), action(now - timedelta(hours=23))
    await store.add_follow_ups([late, fresh])
    publisher, told = ScriptedFollowUps(), Told()

    assert await engine(store, publisher, told).run() == 2
    assert await engine(store, publisher, told, "w2").run() == 0

    assert publisher.calls == Counter({fresh.action_id: 1}), "the missed one is not done late"
    [missed] = await store.follow_ups_of(late.post_id)
    assert missed.status is FollowUpStatus.MISSED and missed.error_message == MISSED_FOLLOW_UP
    assert told.messages == [(USER, [late.action_id])]
    [done] = await store.follow_ups_of(fresh.post_id)
    assert done.status is FollowUpStatus.DONE and done.done_at is not None


async def test_a_transient_failure_is_tried_again_later_and_a_refusal_fails_and_is_reported(store: Store) -> None:
    now = utc_now()
    flaky, refused = action(now), action(now)
    await store.add_follow_ups([flaky, refused])
    publisher, told = ScriptedFollowUps(), Told()
    publisher.script[flaky.action_id] = [Outcome.retryable("network", "could not reach Telegram")]
    publisher.script[refused.action_id] = [Outcome.permanent("400", "the bot lost its delete right")]
    moment = [now]
    runner = engine(store, publisher, told, clock=lambda: moment[0])

    await runner.run()
    [waiting] = await store.follow_ups_of(flaky.post_id)
    assert waiting.status is FollowUpStatus.PENDING and waiting.error_message == "could not reach Telegram"
    [failed] = await store.follow_ups_of(refused.post_id)
    assert failed.status is FollowUpStatus.FAILED and failed.error_message == "the bot lost its delete right"
    assert told.messages == [(USER, [refused.action_id])]

    moment[0] = now + timedelta(seconds=30)
    await runner.run()
    assert publisher.calls[flaky.action_id] == 1, "not before its retry time"
    moment[0] = now + timedelta(seconds=61)
    await runner.run()
    [done] = await store.follow_ups_of(flaky.post_id)
    assert done.status is FollowUpStatus.DONE and done.attempts == 2
    assert publisher.calls == Counter({flaky.action_id: 2, refused.action_id: 1})
    assert len(told.messages) == 1, "told once"


async def test_a_transient_failure_past_max_lateness_fails_with_its_reason(store: Store) -> None:
    now = utc_now()
    due = action(now - timedelta(hours=23, minutes=59, seconds=30))
    await store.add_follow_ups([due])
    publisher, told = ScriptedFollowUps(), Told()
    publisher.script[due.action_id] = [Outcome.retryable("network", "could not reach Telegram")]

    await engine(store, publisher, told).run()

    [failed] = await store.follow_ups_of(due.post_id)
    assert failed.status is FollowUpStatus.FAILED and failed.error_message == "could not reach Telegram"
    assert told.messages == [(USER, [due.action_id])]


async def test_two_engines_on_one_store_run_each_action_once(store: Store) -> None:
    now = utc_now()
    actions = [action(now - timedelta(seconds=1)) for _ in range(60)]
    await store.add_follow_ups(actions)
    publisher, told = ScriptedFollowUps(), Told()
    first, second = engine(store, publisher, told, "p1"), engine(store, publisher, told, "p2")
    first.batch = second.batch = 7

    ran = await asyncio.gather(first.run(), second.run())

    assert sum(ran) == 60 and all(ran), "both took part"
    assert set(publisher.calls) == {item.action_id for item in actions}
    assert set(publisher.calls.values()) == {1}


async def test_an_action_cut_off_by_a_stop_is_given_back_at_once(store: Store) -> None:
    now = utc_now()
    due = action(now)
    await store.add_follow_ups([due])
    started = asyncio.Event()

    class Hanging(ScriptedFollowUps):
        async def follow_up(self, action: FollowUp) -> Outcome:
            started.set()
            await asyncio.sleep(3600)
            raise AssertionError("not reached")

    running = asyncio.create_task(engine(store, Hanging(), Told(), "stopping").run())
    await asyncio.wait_for(started.wait(), 5)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    publisher = ScriptedFollowUps()
    assert await engine(store, publisher, Told(), "next").run() == 1, "not held until the lease ends"
    [done] = await store.follow_ups_of(due.post_id)
    assert done.status is FollowUpStatus.DONE and done.attempts == 2
