"""Stopping and restarting Herald as an operator does: `python bot.py` processes against the fake
Bot API, stopped with SIGTERM (a graceful stop) or SIGKILL (a crash), and started again."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path
from typing import Any

from config import Settings
from storage import Store, build_store
from storage.models import DeliveryStatus, Post, PostStatus
from tests.e2e.conftest import ALICE, Person, bot_settings, eventually
from tests.e2e.processes import bot_process
from tests.e2e.steps import add_channels, texts_in
from tests.e2e.test_publish import CHANNELS, final_posts, make_post
from tests.fakes.bot_api import FakeBotAPI

# How long the fake holds each answer to sendMessage: the message is posted first, so for this
# long the request is "in flight" (a stop must wait for its answer, a kill cuts it off).
HOLD = 2.0
# A request whose `sending` mark was being written when SIGTERM came still goes out (it is under
# way), within this many seconds; anything later was begun after the stop.
MARKING = 0.5


def sends_in_flight(api: FakeBotAPI, chats: Collection[int]) -> int:
    """sendMessage requests to these chats that the fake has taken but not yet answered."""
    now = time.monotonic()
    return sum(1 for call in api.calls_of("sendMessage") if call.at > now - HOLD and _chat_of(call.params) in chats)


def _chat_of(params: dict[str, Any]) -> int | None:
    try:
        return int(params.get("chat_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


async def open_store(settings: Settings) -> Store:
    store = build_store(settings)
    await store.open()
    return store


async def load_all(store: Store, ids: list[str]) -> list[Post]:
    posts = [await store.load_post(post_id) for post_id in ids]
    assert all(post is not None for post in posts)
    return [post for post in posts if post is not None]


def claims_left(posts: list[Post]) -> list[str]:
    """Every claim a stopped process left behind, described (none is expected)."""
    left = []
    for post in posts:
        if post.claim is not None:
            left.append(f"{post.short_id} claimed by {post.claim.worker_id} ({post.status})")
        if post.report_holder is not None:
            left.append(f"{post.short_id} report held by {post.report_holder}")
        for delivery in post.deliveries.values():
            if delivery.status is DeliveryStatus.SENDING:
                left.append(f"{post.short_id} → {delivery.target_id} still sending")
    return left


def reports_of(api: FakeBotAPI, post: Post) -> list[str]:
    """The owner's messages that report on this post."""
    return [str(m.get("text") or "") for m in api.bot_messages(ALICE) if f"#{post.short_id}" in (m.get("text") or "")]


async def test_sigterm_with_sends_in_flight_exits_in_grace_and_the_next_process_finishes_at_once(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    grace = 5.0
    # A lease of two minutes: the next process finishing "at once" (in a quarter of it, on a busy
    # machine with the MongoDB stand-in) cannot be a lease running out.
    settings = bot_settings(
        api, database_url, encryption_key, claim_lease=120, publish_concurrency=30, shutdown_grace=grace
    )
    store = await open_store(settings)
    try:
        count = 90
        posts = [await make_post(store, f"stop post {n}", timedelta(0)) for n in range(count)]
        ids = [post.post_id for post in posts]
        caption_of = {post.main_caption: post.post_id for post in posts}
        api.delay("sendMessage", HOLD, times=100_000)
        channels = set(CHANNELS)
        async with bot_process(settings) as first:
            # The first 30 posts go to their three channels one after another (3 × HOLD s); once
            # their last sends are out, the next posts' admin checks (getChatMember, before any
            # send) are the next calls: five of them are held, so that the stop finds those five
            # publications outside a request, and the others (twenty or more) sending.
            await eventually(lambda: sum(len(api.bot_messages(chat)) for chat in channels) >= 90, timeout=20)
            held_from = time.monotonic()
            api.delay("getChatMember", HOLD + 1.5, times=5, before=True)
            # The five admin checks held, twenty channel sends held open, and the first posts' reports
            # on their way too. (On a slow machine the first posts start spread out, so their own
            # sends and reports can meet the last two conditions before any check is held.)
            await eventually(
                lambda: (
                    len([call for call in api.calls_of("getChatMember") if call.at >= held_from]) >= 5
                    and sends_in_flight(api, channels) >= 20
                    and sends_in_flight(api, {ALICE}) >= 1
                ),
                timeout=30,
            )
            stopped_at = time.monotonic()
            first.send_signal(signal.SIGTERM)

            def in_request() -> set[str]:
                """Posts with a request under way at SIGTERM: sent in the HOLD before it, or just
                after it (see MARKING)."""
                return {
                    caption_of[str(call.params.get("text"))]
                    for call in api.calls_of("sendMessage")
                    if stopped_at - HOLD < call.at < stopped_at + MARKING and _chat_of(call.params) in channels
                }

            async def only_requests_hold_claims() -> bool:
                posts = await load_all(store, ids)
                return {post.post_id for post in posts if post.claim is not None} <= in_request()

            # Claims whose sends have not begun are given back at once, not after the grace.
            await eventually(only_requests_hold_claims, timeout=2.0)
            code = await asyncio.wait_for(first.wait(), grace + 10)
            took = time.monotonic() - stopped_at
        # The stop found five publications in their admin check, and twenty or more sending.
        checks = [call.at for call in api.calls_of("getChatMember") if call.at >= held_from][:5]
        assert len(checks) == 5 and all(stopped_at - HOLD - 1.5 < at < stopped_at for at in checks)
        assert len(in_request()) >= 20
        assert code == 0
        # Within grace + 2 s, as promised; in fact as soon as the requests under way were answered.
        assert took <= grace + 2, f"exit took {took:.1f} s after SIGTERM"
        assert took < grace, f"exit took {took:.1f} s: the stop waited for more than the requests under way"
        # Nothing new was begun after SIGTERM, to a channel or to the owner.
        begun = [call for call in api.calls_of("sendMessage") if call.at >= stopped_at + MARKING]
        assert begun == [], f"{len(begun)} messages were begun after SIGTERM"
        posts = await load_all(store, ids)
        assert claims_left(posts) == []
        assert not any(d.status is DeliveryStatus.UNCONFIRMED for post in posts for d in post.deliveries.values())
        assert sum(not post.status.is_final for post in posts) == count - 30

        api.clear_faults()
        restarted = time.monotonic()
        async with bot_process(settings):
            await eventually(lambda: _all_final(store, ids), timeout=30)
            finished_in = time.monotonic() - restarted
            await eventually(lambda: all(reports_of(api, p) for p in posts), timeout=20)
            await asyncio.sleep(1)  # a report sent twice would show now
        assert finished_in < settings.claim_lease / 4, f"the rest took {finished_in:.1f} s"
        posts = await load_all(store, ids)
        assert {post.status for post in posts} == {PostStatus.PUBLISHED}
        for chat_id in CHANNELS:
            counted = Counter(texts_in(api, chat_id))
            assert len(counted) == count and set(counted.values()) == {1}, f"{CHANNELS[chat_id]}: {counted}"
        for post in posts:
            assert len(reports_of(api, post)) == 1, (post.short_id, reports_of(api, post))
    finally:
        await store.close()


async def _all_final(store: Store, ids: list[str]) -> bool:
    return len(await final_posts(store, ids)) == len(ids)


async def kill_mid_publish(
    api: FakeBotAPI, settings: Settings, store: Store, count: int
) -> tuple[list[str], dict[str, Post]]:
    """Runs a bot process on `count` posts due now, each send held HOLD seconds, and SIGKILLs it
    once posts have gone out and PUBLISH_CONCURRENCY sends are in flight. The posts' ids, and
    the posts it held claims on when it died, as the database has them then."""
    ids = [(await make_post(store, f"killed post {n}", timedelta(0))).post_id for n in range(count)]
    api.delay("sendMessage", HOLD, times=100_000)
    async with bot_process(settings) as first:
        await eventually(
            lambda: (
                sum(len(api.bot_messages(chat)) for chat in CHANNELS) >= settings.publish_concurrency * 2
                and sends_in_flight(api, CHANNELS) >= settings.publish_concurrency
            ),
            timeout=30,
        )
        first.send_signal(signal.SIGKILL)
        await first.wait()
    api.clear_faults()
    return ids, {post.post_id: post for post in await load_all(store, ids) if post.claim is not None}


async def first_taken_over(store: Store, interrupted: dict[str, Post], timeout: float) -> float:
    """Waits until a post the dead process held is claimed by another or finished; the time.time()."""

    async def taken() -> float | None:
        for post_id, before in interrupted.items():
            now = await store.load_post(post_id)
            assert now is not None and before.claim is not None
            if now.status.is_final or now.claim is None or now.claim.worker_id != before.claim.worker_id:
                return time.time()
        return None

    found: float = await eventually(taken, timeout=timeout)
    return found


async def test_a_restart_after_sigkill_resumes_the_interrupted_posts_at_once_and_sends_none_twice(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    # A lease of two minutes and a sweep a second: resuming within seconds is the lock files' doing.
    settings = bot_settings(api, database_url, encryption_key, claim_lease=120, publish_concurrency=10)
    store = await open_store(settings)
    try:
        count = 30
        ids, interrupted = await kill_mid_publish(api, settings, store, count)
        assert len(interrupted) == settings.publish_concurrency
        restarted, calls_before = time.time(), len(api.calls)
        async with bot_process(settings):
            resumed = await first_taken_over(store, interrupted, timeout=20)
            await eventually(lambda: _all_final(store, list(interrupted)), timeout=10)
            finished = time.time()
            await eventually(lambda: _all_final(store, ids), timeout=10)
            await eventually(lambda: all(reports_of(api, p) for p in interrupted.values()), timeout=10)
        # When the new process was up (its first request): start-up time is not the takeover's.
        up = api.calls[calls_before].at + time.time() - time.monotonic()
        # At its first sweeps (at start), far from the lease: nothing waited for a dead claim. (A few
        # sweeps on a busy machine with the MongoDB stand-in; waiting for the lease would be 120 s.)
        assert resumed - up < settings.claim_lease / 6, f"resumed {resumed - up:.1f} s after start-up"
        assert finished - up < settings.claim_lease / 6, f"finished {finished - up:.1f} s after start-up"
        assert finished - restarted < settings.claim_lease / 4, (
            f"finished {finished - restarted:.1f} s after the restart"
        )
        for post in interrupted.values():
            assert post.claim is not None and finished < post.claim.lease_until.timestamp() - settings.claim_lease / 2
        posts = await final_posts(store, list(interrupted))
        for chat_id in CHANNELS:
            counted = Counter(texts_in(api, chat_id))
            assert len(counted) == count and set(counted.values()) == {1}, f"{CHANNELS[chat_id]}: {counted}"
        # Cut off mid-request: unconfirmed, one per post at most (a post sends to one target at a
        # time), and the owner is told to check it.
        for post in posts:
            not_sent = [d for d in post.deliveries.values() if d.status is not DeliveryStatus.SENT]
            assert all(d.status is DeliveryStatus.UNCONFIRMED for d in not_sent), post.deliveries
            assert len(not_sent) <= 1
            if not_sent:
                (report,) = reports_of(api, post)
                assert "❓" in report, report
        assert sum(post.status is PostStatus.PARTIAL for post in posts) >= settings.publish_concurrency // 2
    finally:
        await store.close()


async def test_without_the_dead_process_lock_file_a_restart_waits_for_the_lease(
    api: FakeBotAPI, database_url: str, encryption_key: str, tmp_path: Path
) -> None:
    add_channels(api, CHANNELS)
    settings = bot_settings(api, database_url, encryption_key, claim_lease=10, publish_concurrency=10)
    store = await open_store(settings)
    try:
        _, interrupted = await kill_mid_publish(api, settings, store, 10)
        assert len(interrupted) == 10
        # Another data folder: the restarted process cannot see the dead one's lock file, as a
        # process on another machine could not.
        elsewhere = settings.model_copy(update={"data_dir": tmp_path / "elsewhere"})
        async with bot_process(elsewhere):
            resumed = await first_taken_over(store, interrupted, timeout=20)
            await eventually(lambda: _all_final(store, list(interrupted)), timeout=10)
        expiry = min(post.claim.lease_until.timestamp() for post in interrupted.values() if post.claim)
        assert resumed >= expiry, f"taken over {expiry - resumed:.1f} s before the lease ran out"
        assert resumed <= expiry + 3 * settings.scheduler_interval + 1
    finally:
        await store.close()


async def test_a_post_waiting_to_retry_waits_through_a_stop_and_the_next_process_retries_it_on_time(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    archive = list(CHANNELS)[2]
    settings = bot_settings(api, database_url, encryption_key, claim_lease=60)
    store = await open_store(settings)
    try:
        post = await make_post(store, "Through the outage", timedelta(0))
        api.start_outage(error_code=500, methods=["sendMessage"], chats=lambda chat: str(chat) == str(archive))

        async def waiting_a_while() -> Post | None:
            # After a few failures the backoff is seconds long: long enough to stop and start again.
            stored = await store.load_post(post.post_id)
            assert stored is not None
            due = stored.retry_at
            return stored if due is not None and stored.claim is None and due.timestamp() - time.time() >= 3 else None

        async with bot_process(settings) as first:
            waiting: Post = await eventually(waiting_a_while, timeout=20)
            tries = len([c for c in api.calls_of("sendMessage") if _chat_of(c.params) == archive])
            first.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(first.wait(), settings.shutdown_grace + 2) == 0
        assert len([c for c in api.calls_of("sendMessage") if _chat_of(c.params) == archive]) == tries
        left = await store.load_post(post.post_id)
        assert left is not None and left.status is PostStatus.PUBLISHING and left.claim is None
        assert left.retry_at == waiting.retry_at
        failing = left.deliveries[f"tg{archive}"]
        assert failing.status is DeliveryStatus.PENDING and failing.retries == tries >= 3
        assert [d.status for t, d in left.deliveries.items() if t != f"tg{archive}"] == [DeliveryStatus.SENT] * 2

        api.end_outage()
        retry_at = waiting.retry_at
        assert retry_at is not None
        restarted = time.monotonic()
        async with bot_process(settings):
            await Person(api, ALICE).expect(f"Published #{post.short_id} to 3/3", timeout=20)
        offset = time.time() - time.monotonic()
        retried = [c.at + offset for c in api.calls_of("sendMessage") if _chat_of(c.params) == archive][tries:]
        # When the new process was up (its first request), in case that was after the retry time.
        started = min(c.at + offset for c in api.calls if c.at >= restarted)
        assert len(retried) == 1, "the archive was tried more than once after the outage"
        assert retried[0] >= retry_at.timestamp() - 0.01, f"{retry_at.timestamp() - retried[0]:.2f} s early"
        assert retried[0] <= max(retry_at.timestamp(), started) + 3
        assert texts_in(api, archive) == ["Through the outage"]
        assert len(reports_of(api, post)) == 1
    finally:
        await store.close()
