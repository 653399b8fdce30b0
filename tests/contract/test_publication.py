"""The publication engine on each store, with a scripted publisher standing in for a platform."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from publishers.base import Outcome, Publisher, Sending, untracked
from scheduler.engine import HAND_POST_WINDOW, MISSED_MESSAGE, Publication, RetryPolicy
from storage.base import Store
from storage.models import (
    Delivery,
    DeliveryStatus,
    ErrorKind,
    Platform,
    Post,
    PostStatus,
    Target,
    new_post,
    utc_now,
)
from tests.contract.helpers import add_account

USER = 1001


class ScriptedPublisher(Publisher):
    """Answers each target with the outcomes queued for it (default: sent), and counts calls.
    A request "goes out" (`sending`) for every outcome except those queued as `not_sent`."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.script: dict[str, list[Outcome]] = defaultdict(list)
        self.not_sent: set[int] = set()  # ids of scripted outcomes that fail before any request
        self.calls: Counter[tuple[str, str]] = Counter()

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        self.calls[(post.post_id, target.target_id)] += 1
        await asyncio.sleep(0)
        queued = self.script[target.target_id]
        outcome = queued.pop(0) if queued else None
        if outcome is None or id(outcome) not in self.not_sent:
            await sending()
            await self.request_leaves(post, target)
        if outcome is not None:
            return outcome
        return Outcome.sent(message_id=str(self.calls.total()), url=f"https://t.me/c/1/{self.calls.total()}")

    async def request_leaves(self, post: Post, target: Target) -> None:
        """Called as the request goes out (after `sending`)."""


class Recorder:
    def __init__(self) -> None:
        self.reports: list[Post] = []
        self.retries: list[tuple[str, datetime]] = []

    def finished(self, post: Post) -> None:
        self.reports.append(post)

    def retry_planned(self, post_id: str, when: datetime) -> None:
        self.retries.append((post_id, when))


def engine(store: Store, publisher: Publisher, recorder: Recorder, **kwargs: Any) -> Publication:
    kwargs.setdefault("retry", RetryPolicy(base_delay=1.0, jitter=0))
    return Publication(
        store,
        {Platform.TELEGRAM: publisher},
        on_finished=recorder.finished,
        on_retry=recorder.retry_planned,
        **kwargs,
    )


async def due_post(store: Store, targets: int = 3, late: timedelta = timedelta(0)) -> Post:
    account = await add_account(store, USER)
    chosen = [Target(f"tg-10{n}", f"Channel {n}", f"-10{n}", "channel") for n in range(targets)]
    post = new_post(user_id=USER, account=account, targets=chosen, main_caption="Hi", scheduled_time=utc_now() - late)
    return await store.create_post(post)


async def stored_post(store: Store, post_id: str) -> Post:
    stored = await store.load_post(post_id)
    assert stored is not None
    return stored


async def test_every_target_sent_makes_the_post_published(store: Store) -> None:
    post = await due_post(store)
    publisher, recorder = ScriptedPublisher(), Recorder()
    assert await engine(store, publisher, recorder).sweep() == 1
    stored = await store.get_post(USER, post.post_id)
    assert stored is not None and stored.status is PostStatus.PUBLISHED
    assert all(d.status is DeliveryStatus.SENT and d.url for d in stored.deliveries.values())
    assert sorted(publisher.calls.values()) == [1, 1, 1]
    assert [p.post_id for p in recorder.reports] == [post.post_id]


async def test_a_permanent_failure_makes_it_partial_and_is_not_retried(store: Store) -> None:
    post = await due_post(store)
    publisher, recorder = ScriptedPublisher(), Recorder()
    publisher.script["tg-101"] = [Outcome.permanent("403", "the bot is no longer an admin there")]
    await engine(store, publisher, recorder).sweep()
    stored = await store.get_post(USER, post.post_id)
    assert stored is not None and stored.status is PostStatus.PARTIAL
    failed = stored.deliveries["tg-101"]
    assert failed.status is DeliveryStatus.FAILED and failed.error_code == "403"
    assert failed.error_message == "the bot is no longer an admin there"
    assert publisher.calls[(post.post_id, "tg-101")] == 1
    assert recorder.retries == []
    assert recorder.reports[0].status is PostStatus.PARTIAL


async def test_a_retryable_failure_waits_in_the_database_and_is_tried_again_at_its_time(store: Store) -> None:
    post = await due_post(store, targets=2)
    publisher, recorder = ScriptedPublisher(), Recorder()
    publisher.script["tg-100"] = [
        Outcome.retryable("429", "slow down", retry_after=7),
        Outcome.retryable("500", "oops"),
    ]
    worker = engine(store, publisher, recorder)
    started = utc_now()
    assert await worker.sweep() == 1
    # Given back, holding nothing: publishing, no claim, claimable again at the platform's word.
    waiting = await stored_post(store, post.post_id)
    assert waiting.status is PostStatus.PUBLISHING and waiting.claim is None and waiting.retry_at is not None
    assert timedelta(seconds=7) <= waiting.retry_at - started < timedelta(seconds=8)
    assert recorder.retries == [(post.post_id, waiting.retry_at)] and recorder.reports == []
    first = waiting.deliveries["tg-100"]
    assert first.status is DeliveryStatus.PENDING and first.error_code == "429" and first.retries == 1
    assert first.retry_since is not None and waiting.deliveries["tg-101"].status is DeliveryStatus.SENT

    assert await worker.sweep(now=waiting.retry_at - timedelta(seconds=1)) == 0  # not yet
    # Tried again at its time by any worker (here a fresh one, as after a restart): backoff next.
    # (Its clock 7 s ahead, this sweep also finds the next retry, 2 s after the second try, due.)
    rescuer = engine(store, publisher, recorder)
    assert await rescuer.sweep(now=waiting.retry_at + timedelta(milliseconds=10)) == 2
    (_, second_retry) = recorder.retries[1]
    assert timedelta(seconds=1.9) < second_retry - started < timedelta(seconds=3)  # backoff: 2 s
    done = await stored_post(store, post.post_id)
    assert done.deliveries["tg-100"].retry_since == first.retry_since
    assert done.deliveries["tg-100"].retries == 2
    assert done.status is PostStatus.PUBLISHED and done.retry_at is None and done.claim is None
    assert done.deliveries["tg-100"].attempts == 3
    assert publisher.calls[(post.post_id, "tg-100")] == 3 and publisher.calls[(post.post_id, "tg-101")] == 1
    assert [p.post_id for p in recorder.reports] == [post.post_id]  # told once, at the end


async def test_backoff_grows_and_honours_the_platforms_word() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=60.0, jitter=0)
    assert [policy.delay(n, None) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert policy.delay(3, 45.0) == 45.0
    jittered = RetryPolicy(base_delay=10.0, jitter=0.1)
    assert all(9.0 <= jittered.delay(1, None) <= 11.0 for _ in range(50))


async def test_retries_go_on_until_max_lateness_then_fail_with_the_last_reason(store: Store) -> None:
    post = await due_post(store, targets=1)
    publisher, recorder = ScriptedPublisher(), Recorder()
    publisher.script["tg-100"] = [Outcome.retryable("500", f"down {n}") for n in range(100)]
    worker = engine(
        store,
        publisher,
        recorder,
        max_lateness=timedelta(seconds=1.5),
        deadline_slack=timedelta(seconds=0.2),
        retry=RetryPolicy(base_delay=0.1, max_delay=0.4, jitter=0),
    )
    for _ in range(60):
        await worker.sweep()
        if (await stored_post(store, post.post_id)).status is not PostStatus.PUBLISHING:
            break
        await asyncio.sleep(0.1)
    stored = await stored_post(store, post.post_id)
    assert stored.status is PostStatus.FAILED
    delivery = stored.deliveries["tg-100"]
    tries = publisher.calls[(post.post_id, "tg-100")]
    assert tries >= 4  # 0, 0.1, 0.3, 0.7, 1.1, then the last one at the deadline
    assert delivery.error_message == f"down {tries - 1}" and delivery.error_kind is ErrorKind.RETRYABLE
    assert delivery.retry_since is not None and delivery.updated_at - delivery.retry_since >= timedelta(seconds=1)
    # The last try was no later than the deadline.
    assert delivery.updated_at <= post.scheduled_time + timedelta(seconds=1.5 + 0.2 + 0.5)
    assert [p.post_id for p in recorder.reports] == [post.post_id]


async def test_a_retry_claimed_long_after_the_deadline_fails_without_trying(store: Store) -> None:
    post = await due_post(store, targets=1)
    publisher, recorder = ScriptedPublisher(), Recorder()
    publisher.script["tg-100"] = [Outcome.retryable("500", "down")]
    worker = engine(store, publisher, recorder, max_lateness=timedelta(hours=1))
    await worker.sweep()
    waiting = await stored_post(store, post.post_id)
    assert waiting.retry_at is not None
    # The bot was offline from then until two hours later.
    two_hours_on = utc_now() + timedelta(hours=2)
    later = engine(store, publisher, recorder, max_lateness=timedelta(hours=1), clock=lambda: two_hours_on)
    stale = await store.claim_post(post.post_id, later._claim_id(), two_hours_on, later.lease)
    assert stale is not None
    done = await later.publish(stale)
    assert done is not None and done.status is PostStatus.FAILED
    assert publisher.calls[(post.post_id, "tg-100")] == 1
    assert done.deliveries["tg-100"].error_message == "down"


async def test_a_failure_before_any_request_never_counts_as_unconfirmed(store: Store) -> None:
    post = await due_post(store, targets=1)
    publisher, recorder = ScriptedPublisher(), Recorder()
    checked = Outcome.retryable("network", "could not reach Telegram (timed out)")
    publisher.script["tg-100"] = [checked]
    publisher.not_sent.add(id(checked))
    await engine(store, publisher, recorder).sweep()
    stored = await stored_post(store, post.post_id)
    delivery = stored.deliveries["tg-100"]
    # Never marked `sending` (no request left): a crash now would resend it, not doubt it.
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 0
    assert stored.retry_at is not None


async def test_an_unconfirmed_send_is_never_retried(store: Store) -> None:
    post = await due_post(store, targets=2)
    publisher, recorder = ScriptedPublisher(), Recorder()
    publisher.script["tg-100"] = [Outcome.unconfirmed("Telegram did not confirm")]
    await engine(store, publisher, recorder).sweep()
    stored = await store.get_post(USER, post.post_id)
    assert stored is not None and stored.status is PostStatus.PARTIAL
    assert stored.deliveries["tg-100"].status is DeliveryStatus.UNCONFIRMED
    assert publisher.calls[(post.post_id, "tg-100")] == 1


async def test_a_post_overdue_beyond_max_lateness_is_failed_as_missed(store: Store) -> None:
    late = await due_post(store, targets=2, late=timedelta(hours=2))
    fresh = await due_post(store, targets=1, late=timedelta(minutes=30))
    publisher, recorder = ScriptedPublisher(), Recorder()
    await engine(store, publisher, recorder, max_lateness=timedelta(hours=1)).sweep()
    missed = await store.get_post(USER, late.post_id)
    assert missed is not None and missed.status is PostStatus.FAILED
    assert {d.status for d in missed.deliveries.values()} == {DeliveryStatus.MISSED}
    assert {d.error_message for d in missed.deliveries.values()} == {MISSED_MESSAGE}
    sent = await store.get_post(USER, fresh.post_id)
    assert sent is not None and sent.status is PostStatus.PUBLISHED
    assert all(key[0] != late.post_id for key in publisher.calls)
    assert {p.post_id for p in recorder.reports} == {late.post_id, fresh.post_id}


async def test_a_takeover_keeps_sent_and_marks_the_cut_off_request_unconfirmed(store: Store) -> None:
    post = await due_post(store, targets=3)
    lease = timedelta(seconds=30)
    crashed_at = utc_now()
    assert await store.claim_post(post.post_id, "dead-worker", crashed_at, lease)
    await store.record_delivery(post.post_id, "dead-worker", Delivery("tg-100", DeliveryStatus.SENT, 1, "9"))
    await store.record_delivery(post.post_id, "dead-worker", Delivery("tg-101", DeliveryStatus.SENDING, 1))

    publisher, recorder = ScriptedPublisher(), Recorder()
    rescuer = engine(store, publisher, recorder, lease=lease)
    assert await rescuer.sweep(now=crashed_at + timedelta(seconds=10)) == 0  # lease still holds
    assert await rescuer.sweep(now=crashed_at + lease + timedelta(seconds=1)) == 1
    stored = await store.get_post(USER, post.post_id)
    assert stored is not None and stored.status is PostStatus.PARTIAL
    assert stored.deliveries["tg-100"].message_id == "9"
    assert stored.deliveries["tg-101"].status is DeliveryStatus.UNCONFIRMED
    assert stored.deliveries["tg-101"].error_kind is ErrorKind.UNCONFIRMED
    assert stored.deliveries["tg-102"].status is DeliveryStatus.SENT
    assert dict(publisher.calls) == {(post.post_id, "tg-102"): 1}


async def test_two_workers_sweeping_together_publish_each_target_once(store: Store) -> None:
    posts = [await due_post(store, targets=2) for _ in range(40)]
    publisher, recorder = ScriptedPublisher(), Recorder()
    first, second = engine(store, publisher, recorder), engine(store, publisher, recorder)
    await asyncio.gather(first.sweep(), second.sweep(), first.sweep())
    assert len(publisher.calls) == 80 and set(publisher.calls.values()) == {1}
    assert sorted(p.post_id for p in recorder.reports) == sorted(p.post_id for p in posts)


async def test_publish_now_takes_only_a_due_post_once(store: Store) -> None:
    post = await due_post(store, targets=1)
    publisher, recorder = ScriptedPublisher(), Recorder()
    worker = engine(store, publisher, recorder)
    other = engine(store, publisher, recorder)
    results = await asyncio.gather(worker.publish_now(post.post_id), other.publish_now(post.post_id))
    assert sum(result is not None for result in results) == 1
    assert publisher.calls[(post.post_id, "tg-100")] == 1


class SlowPublisher(ScriptedPublisher):
    """Holds every publication until `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        await sending()  # refused to a claim that was lost: no request then
        self.calls[(post.post_id, target.target_id)] += 1
        await self.release.wait()
        return Outcome.sent(message_id="1")


async def test_a_stale_claim_of_the_same_process_sends_nothing(store: Store) -> None:
    post = await due_post(store, targets=1, late=timedelta(minutes=10))
    publisher, recorder = SlowPublisher(), Recorder()
    worker = engine(store, publisher, recorder, lease=timedelta(seconds=30))
    # This process claimed the post long ago (it waited behind slow publications) ...
    stale = await store.claim_post(post.post_id, worker._claim_id(), utc_now() - timedelta(minutes=5), worker.lease)
    assert stale is not None
    # ... its lease ran out and its own sweep took the post over, and is sending it now.
    sweeping = asyncio.create_task(worker.sweep())
    await eventually_true(lambda: sum(publisher.calls.values()) == 1)
    # The old claim wakes up meanwhile: every write it tries is refused, nothing is sent twice.
    late_run = asyncio.create_task(worker.publish(stale))
    await asyncio.sleep(0.2)
    publisher.release.set()
    assert await late_run is None
    assert await sweeping == 1
    assert publisher.calls[(post.post_id, "tg-100")] == 1
    stored = await store.get_post(USER, post.post_id)
    assert stored is not None and stored.status is PostStatus.PUBLISHED


async def eventually_true(check: Callable[[], bool], timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")


async def test_a_slow_publication_keeps_its_lease(store: Store) -> None:
    post = await due_post(store, targets=1)
    publisher, recorder = SlowPublisher(), Recorder()
    slow = engine(store, publisher, recorder, lease=timedelta(seconds=0.6))
    running = asyncio.create_task(slow.sweep())
    await asyncio.sleep(1.5)  # well past one lease: the heartbeat must have renewed it
    rival = engine(store, publisher, recorder, lease=timedelta(seconds=0.6))
    assert await rival.sweep() == 0
    publisher.release.set()
    assert await running == 1
    assert sum(publisher.calls.values()) == 1
    stored = await store.get_post(USER, post.post_id)
    assert stored is not None and stored.status is PostStatus.PUBLISHED


def _second_store(store: Store) -> Store:
    """Another connection to the same database, as another process would have."""
    from storage.mongo import MongoStore
    from storage.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return SQLiteStore(store.path, store.cipher)
    assert isinstance(store, MongoStore)
    return MongoStore(store.url, store.cipher, store._database_name)


class WitnessPublisher(ScriptedPublisher):
    """Looks, through another connection, at what the database holds when a request goes out."""

    def __init__(self, witness: Store) -> None:
        super().__init__()
        self.witness = witness
        self.seen: list[tuple[str, DeliveryStatus, int]] = []
        self.others: list[DeliveryStatus] = []  # tg-100's status when tg-101's request goes out

    async def request_leaves(self, post: Post, target: Target) -> None:
        stored = await self.witness.load_post(post.post_id)
        assert stored is not None
        delivery = stored.deliveries[target.target_id]
        self.seen.append((target.target_id, delivery.status, delivery.attempts))
        if target.target_id == "tg-101":
            self.others.append(stored.deliveries["tg-100"].status)


async def test_every_request_goes_out_after_its_sending_mark_is_committed(store: Store) -> None:
    posts = [await due_post(store, targets=2) for _ in range(12)]
    witness = _second_store(store)
    await witness.open()
    try:
        publisher, recorder = WitnessPublisher(witness), Recorder()
        # The wait outlasts a sweep of 12 posts on a loaded machine, so the retry is not due in it.
        publisher.script["tg-101"] = [Outcome.retryable("429", "slow down", retry_after=2.0)]
        worker = engine(store, publisher, recorder)
        assert await worker.sweep() == 12
        await asyncio.sleep(2.1)
        assert await worker.sweep() == 1  # the one that was told to wait
        assert len(publisher.seen) == 25  # 2 targets × 12 posts, one retry
        # Another process sees each delivery marked `sending` (this try counted) before its request;
        # the first target's outcome is committed before the second target's request goes out.
        assert [(target, status) for target, status, _ in publisher.seen if status is not DeliveryStatus.SENDING] == []
        assert max(attempts for target, _, attempts in publisher.seen if target == "tg-101") == 2
        assert publisher.others == [DeliveryStatus.SENT] * 13
        for post in posts:
            stored = await witness.load_post(post.post_id)
            assert stored is not None and stored.status is PostStatus.PUBLISHED
            assert stored.report_due_at is not None and stored.claim is None
            assert {d.status for d in stored.deliveries.values()} == {DeliveryStatus.SENT}
    finally:
        await witness.close()


async def test_a_post_left_to_its_owner_past_the_window_is_missed_and_not_sent_again(store: Store) -> None:
    post = await due_post(store, targets=2)
    publisher, recorder = ScriptedPublisher(), Recorder()
    publisher.script["tg-101"] = [Outcome(DeliveryStatus.AWAITING_YOU, message_id="77")]
    assert await engine(store, publisher, recorder).sweep() == 1
    parked = await stored_post(store, post.post_id)
    assert parked.deliveries["tg-101"].status is DeliveryStatus.AWAITING_YOU and recorder.reports == []
    # A day and more later the owner has not confirmed: the lease ends, the post is claimed again.
    later = engine(store, publisher, recorder, clock=lambda: utc_now() + HAND_POST_WINDOW + timedelta(minutes=5))
    assert await later.sweep() == 1
    stored = await stored_post(store, post.post_id)
    missed = stored.deliveries["tg-101"]
    assert missed.status is DeliveryStatus.MISSED and missed.error_code == "not_confirmed"
    assert stored.status is PostStatus.PARTIAL
    # Never handed to its owner (nor sent) a second time.
    assert publisher.calls[(post.post_id, "tg-101")] == 1 and publisher.calls[(post.post_id, "tg-100")] == 1
    assert [p.post_id for p in recorder.reports] == [post.post_id]
