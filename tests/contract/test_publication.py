"""The publication engine on each store, with a scripted publisher standing in for a platform."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta

from publishers.base import Outcome, Publisher
from scheduler.engine import MISSED_MESSAGE, Publication, RetryPolicy
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
    """Answers each target with the outcomes queued for it (default: sent), and counts calls."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.script: dict[str, list[Outcome]] = defaultdict(list)
        self.calls: Counter[tuple[str, str]] = Counter()

    async def publish(self, post: Post, target: Target) -> Outcome:
        self.calls[(post.post_id, target.target_id)] += 1
        await asyncio.sleep(0)
        queued = self.script[target.target_id]
        if queued:
            return queued.pop(0)
        return Outcome.sent(message_id=str(self.calls.total()), url=f"https://t.me/c/1/{self.calls.total()}")


class Recorder:
    def __init__(self) -> None:
        self.reports: list[Post] = []
        self.sleeps: list[float] = []

    async def notify(self, post: Post) -> None:
        self.reports.append(post)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def engine(store: Store, publisher: Publisher, recorder: Recorder, **kwargs: object) -> Publication:
    return Publication(
        store,
        {Platform.TELEGRAM: publisher},
        recorder.notify,
        sleep=recorder.sleep,
        retry=RetryPolicy(attempts=3, base_delay=1.0),
        **kwargs,  # type: ignore[arg-type]
    )


async def due_post(store: Store, targets: int = 3, late: timedelta = timedelta(0)) -> Post:
    account = await add_account(store, USER)
    chosen = [Target(f"tg-10{n}", f"Channel {n}", f"-10{n}", "channel") for n in range(targets)]
    post = new_post(
        user_id=USER, account=account, targets=chosen, main_caption="Hi", scheduled_time=utc_now() - late
    )
    return await store.create_post(post)


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
    assert recorder.sleeps == []
    assert recorder.reports[0].status is PostStatus.PARTIAL


async def test_rate_limits_are_waited_out_and_sent_once(store: Store) -> None:
    post = await due_post(store, targets=1)
    publisher, recorder = ScriptedPublisher(), Recorder()
    publisher.script["tg-100"] = [
        Outcome.retryable("429", "slow down", retry_after=7),
        Outcome.retryable("500", "oops"),
    ]
    await engine(store, publisher, recorder).sweep()
    stored = await store.get_post(USER, post.post_id)
    assert stored is not None and stored.status is PostStatus.PUBLISHED
    assert stored.deliveries["tg-100"].attempts == 3
    assert recorder.sleeps == [7, 2.0]  # the platform's retry_after, then exponential backoff


async def test_retries_run_out_and_the_last_reason_is_kept(store: Store) -> None:
    post = await due_post(store, targets=1)
    publisher, recorder = ScriptedPublisher(), Recorder()
    publisher.script["tg-100"] = [Outcome.retryable("network", f"down {n}") for n in range(5)]
    await engine(store, publisher, recorder).sweep()
    stored = await store.get_post(USER, post.post_id)
    assert stored is not None and stored.status is PostStatus.FAILED
    assert stored.deliveries["tg-100"].error_message == "down 2"
    assert publisher.calls[(post.post_id, "tg-100")] == 3


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

    async def publish(self, post: Post, target: Target) -> Outcome:
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


async def test_reports_are_remembered_and_a_lost_one_is_sent_once_later(store: Store) -> None:
    reported = await due_post(store, targets=1)
    orphan = await due_post(store, targets=1)
    publisher, recorder = ScriptedPublisher(), Recorder()
    worker = engine(store, publisher, recorder)
    await worker.sweep()
    assert {p.post_id for p in recorder.reports} == {reported.post_id, orphan.post_id}
    stored = await store.get_post(USER, reported.post_id)
    assert stored is not None and stored.notified_at is not None

    # As if the worker had died between finishing `orphan` and telling its owner.
    other = await store.claim_post(orphan.post_id, "x", utc_now(), timedelta(seconds=5))
    assert other is None  # finished posts stay finished
    lost = await store.retry_failed(USER, orphan.post_id, utc_now())
    assert lost is None  # a published post has nothing to retry
    await _forget_report(store, orphan.post_id)

    recorder.reports.clear()
    assert await worker.report_unreported() == 0  # within the grace period the finisher may still report
    later = utc_now() + timedelta(minutes=5)
    assert await worker.report_unreported(now=later) == 1
    assert [p.post_id for p in recorder.reports] == [orphan.post_id]
    assert await worker.report_unreported(now=later) == 0
    assert await engine(store, publisher, recorder).report_unreported(now=later) == 0


async def _forget_report(store: Store, post_id: str) -> None:
    """Clears notified_at the way a crash before the report would have left it."""
    from storage.mongo import MongoStore
    from storage.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        await store.db.execute("UPDATE posts SET notified_at = NULL WHERE post_id = ?", (post_id,))
    else:
        assert isinstance(store, MongoStore)
        await store.db.scheduled_posts.update_one({"post_id": post_id}, {"$set": {"notified_at": None}})


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

    async def publish(self, post: Post, target: Target) -> Outcome:
        stored = await self.witness.load_post(post.post_id)
        assert stored is not None
        delivery = stored.deliveries[target.target_id]
        self.seen.append((target.target_id, delivery.status, delivery.attempts))
        if target.target_id == "tg-101":
            self.others.append(stored.deliveries["tg-100"].status)
        return await super().publish(post, target)


async def test_every_request_goes_out_after_its_sending_mark_is_committed(store: Store) -> None:
    posts = [await due_post(store, targets=2) for _ in range(12)]
    witness = _second_store(store)
    await witness.open()
    try:
        publisher, recorder = WitnessPublisher(witness), Recorder()
        publisher.script["tg-101"] = [Outcome.retryable("429", "slow down", retry_after=1)]
        assert await engine(store, publisher, recorder).sweep() == 12
        assert len(publisher.seen) == 25  # 2 targets × 12 posts, one retry
        # Another process sees each delivery marked `sending` (this try counted) before its request;
        # the first target's outcome is committed before the second target's request goes out.
        assert [(target, status) for target, status, _ in publisher.seen if status is not DeliveryStatus.SENDING] == []
        assert max(attempts for target, _, attempts in publisher.seen if target == "tg-101") == 2
        assert publisher.others == [DeliveryStatus.SENT] * 13
        for post in posts:
            stored = await witness.load_post(post.post_id)
            assert stored is not None and stored.status is PostStatus.PUBLISHED
            assert stored.notified_at is not None and stored.claim is None
            assert {d.status for d in stored.deliveries.values()} == {DeliveryStatus.SENT}
    finally:
        await witness.close()


async def test_a_report_is_marked_only_after_it_was_sent(store: Store) -> None:
    post = await due_post(store, targets=1)
    publisher = ScriptedPublisher()
    seen_at_report: list[object] = []

    async def failing_notify(done: Post) -> None:
        stored = await store.load_post(done.post_id)
        assert stored is not None
        seen_at_report.append(stored.notified_at)
        raise RuntimeError("Telegram is down")

    worker = Publication(store, {Platform.TELEGRAM: publisher}, failing_notify, sleep=Recorder().sleep)
    assert await worker.sweep() == 1
    assert seen_at_report == [None]
    stored = await store.load_post(post.post_id)
    assert stored is not None and stored.status is PostStatus.PUBLISHED
    assert stored.notified_at is None  # not told: report_unreported sends it later
