"""Publishing claimed posts: one delivery per target, recorded as it happens, then a report."""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from publishers.base import Outcome, Publisher
from publishers.registry import platform_of
from storage.base import Store
from storage.models import (
    Delivery,
    DeliveryStatus,
    ErrorKind,
    Platform,
    Post,
    Target,
    utc_now,
)

log = logging.getLogger(__name__)

MISSED_MESSAGE = "missed while the bot was offline"
HAND_POST_WINDOW = timedelta(days=1)
HAND_POST_MISSED = "not confirmed as posted within a day"
CUT_OFF_MESSAGE = (
    "the bot stopped while this was being sent, so it may or may not have been posted — "
    "check {name} before retrying"
)
Notify = Callable[[Post], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a retryable failure is tried again."""

    attempts: int = 4  # the first try and three retries
    base_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before try number `attempt + 1`: the platform's word, else backoff."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay * 5)
        return float(min(self.base_delay * 2 ** (attempt - 1), self.max_delay))


class _Slot:
    """One publication's hold on a slot of `Publication._slots`, which it may give back while
    it waits (a retry's sleep) and take again; released at most once per acquire."""

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self._slots = slots
        self._held = False

    async def acquire(self) -> None:
        await self._slots.acquire()
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots.release()


class _Heartbeat:
    """Renews a post's claim every third of the lease while a slow publication (rate limits, big
    uploads) goes on. A timer, not a task per post: most publications end long before it fires."""

    def __init__(self, publication: Publication, post: Post) -> None:
        assert post.claim is not None
        self._publication, self._post_id, self._holder = publication, post.post_id, post.claim.worker_id
        self._interval = publication.lease.total_seconds() / 3
        self._renewal: asyncio.Task[None] | None = None
        self._stopped = False
        self._timer = asyncio.get_running_loop().call_later(self._interval, self._beat)

    def _beat(self) -> None:
        self._renewal = asyncio.create_task(self._renew())

    async def _renew(self) -> None:
        store, lease = self._publication.store, self._publication.lease
        if await store.renew_lease(self._post_id, self._holder, utc_now(), lease) and not self._stopped:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._beat)

    def stop(self) -> None:
        self._stopped = True
        self._timer.cancel()
        if self._renewal is not None:
            self._renewal.cancel()


def new_worker_id() -> str:
    """An id naming this process in claims: host, pid-like randomness."""
    return f"{socket.gethostname()}-{secrets.token_hex(4)}"


class Publication:
    """Claims due posts and publishes them, exactly once per target, through the publishers."""

    def __init__(
        self,
        store: Store,
        publishers: dict[Platform, Publisher],
        notify: Notify,
        *,
        worker_id: str | None = None,
        lease: timedelta = timedelta(seconds=60),
        max_lateness: timedelta = timedelta(hours=24),
        retry: RetryPolicy | None = None,
        concurrency: int = 8,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store = store
        self.publishers = publishers
        self.notify = notify
        self.worker_id = worker_id or new_worker_id()
        self.lease = lease
        self.max_lateness = max_lateness
        self.retry = retry or RetryPolicy()
        # How many posts publish at once (a post sleeping before a retry does not count).
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._claims = itertools.count(1)
        self._sleep = sleep
        self._running: set[str] = set()

    def _claim_id(self) -> str:
        """A fencing token for one claim: two claims, even by this process, never share one."""
        return f"{self.worker_id}/{next(self._claims)}"

    async def sweep(self, now: datetime | None = None) -> int:
        """Claims every due post and every post whose worker's lease ran out; publishes them."""
        # Claims as places free up: a post that waits (for a channel's rate window, before a retry)
        # holds its own place, not the posts behind it. No more is claimed than can start at once,
        # so claims do not wait long in the queue; places are refilled a few at a time.
        handled = 0
        working: set[asyncio.Task[Post | None]] = set()
        drained = False
        try:
            while True:
                free = self.concurrency - len(self._running)
                if not drained and (free > 0 or not working):
                    limit = max(free, 1)
                    claimed = await self.store.claim_due_posts(self._claim_id(), now or utc_now(), self.lease, limit)
                    handled += len(claimed)
                    working.update(asyncio.create_task(self._guarded(post)) for post in claimed)
                    drained = len(claimed) < limit
                if not working:
                    return handled
                if drained:
                    # Nothing more was due: finish what was claimed, then look once more.
                    await asyncio.wait(working)
                    working.clear()
                    drained = False
                    continue
                refill = max(1, self.concurrency // 4)
                while working:
                    _, working = await asyncio.wait(working, return_when=asyncio.FIRST_COMPLETED)
                    if self.concurrency - len(self._running) >= refill:
                        break
        finally:
            for task in working:  # the sweep was cancelled (shutdown): so are its publications
                task.cancel()

    async def publish_now(self, post_id: str) -> Post | None:
        """Claims one post at its exact time and publishes it; None if another worker has it."""
        post = await self.store.claim_post(post_id, self._claim_id(), utc_now(), self.lease)
        if post is None:
            return None
        return await self._guarded(post)

    async def _guarded(self, post: Post) -> Post | None:
        """Publishes a claimed post when a slot is free, keeping its lease alive meanwhile."""
        self._running.add(post.post_id)
        heartbeat = _Heartbeat(self, post)
        slot = _Slot(self._slots)
        try:
            await slot.acquire()
            return await self._publish(post, slot)
        except Exception:
            # The claim stays; when its lease runs out a sweep takes the post over.
            log.exception("publishing post %s failed unexpectedly", post.post_id)
            return None
        finally:
            slot.release()
            heartbeat.stop()
            self._running.discard(post.post_id)


    async def publish(self, post: Post) -> Post | None:
        """Runs every open delivery of a post this worker has claimed, then finishes it."""
        return await self._publish(post, None)

    async def _publish(self, post: Post, slot: _Slot | None) -> Post | None:
        assert post.claim is not None, "publish only a claimed post"
        holder = post.claim.worker_id
        overdue = utc_now() - post.scheduled_time
        missed = post.attempts <= 1 and overdue > self.max_lateness
        # Closed deliveries not yet written: written by themselves before the next request goes
        # out (a crash during it then loses no known outcome), else by finish_post, which writes
        # every delivery with the final status in one statement.
        unrecorded: list[Delivery] = []
        for target_id in post.group_ids:
            delivery = post.deliveries.get(target_id) or Delivery(target_id)
            if delivery.status.is_final:
                continue
            if delivery.status is DeliveryStatus.AWAITING_YOU:
                if utc_now() - delivery.updated_at < HAND_POST_WINDOW:
                    continue  # the owner still has time to post it by hand
                delivery = self._closed(
                    delivery, DeliveryStatus.MISSED, ErrorKind.MISSED, "not_confirmed", HAND_POST_MISSED
                )
            target = post.target(target_id) or Target(target_id, target_id, target_id)
            if missed:
                delivery = self._closed(delivery, DeliveryStatus.MISSED, ErrorKind.MISSED, "missed", MISSED_MESSAGE)
            elif delivery.status is DeliveryStatus.SENDING:
                # A worker died with this request in flight: never resend on our own.
                delivery = self._closed(
                    delivery,
                    DeliveryStatus.UNCONFIRMED,
                    ErrorKind.UNCONFIRMED,
                    "interrupted",
                    CUT_OFF_MESSAGE.format(name=target.name),
                )
            else:
                if not await self._record(post, holder, unrecorded):
                    return None
                finished = await self._deliver(post, holder, target, delivery, slot)
                if finished is None:
                    return None  # the claim was lost; whoever holds it now carries on
                delivery = finished
            post.deliveries[target_id] = delivery
            unrecorded.append(delivery)
        if any(d.status is DeliveryStatus.AWAITING_YOU for d in post.deliveries.values()):
            if not await self._record(post, holder, unrecorded):
                return None
            # Parked until the owner confirms (which finishes the post) or the window closes.
            await self.store.renew_lease(post.post_id, holder, utc_now(), HAND_POST_WINDOW)
            return post
        done = await self.store.finish_post(post, holder, utc_now())
        if done is None:
            # Not finished (the claim was lost, or a delivery is still open): the outcomes are
            # still written if this worker holds the claim.
            await self._record(post, holder, unrecorded)
            return None
        if missed:
            log.warning("post %s missed: %s late", post.post_id, overdue)
        await self.report(done)
        return done

    async def _record(self, post: Post, holder: str, unrecorded: list[Delivery]) -> bool:
        """Writes the closed deliveries not yet written (emptying the list); False if the claim is lost."""
        while unrecorded:
            if not await self.store.record_delivery(post.post_id, holder, unrecorded[0]):
                log.warning("lost the claim on post %s", post.post_id)
                return False
            unrecorded.pop(0)
        return True

    async def _deliver(
        self, post: Post, holder: str, target: Target, delivery: Delivery, slot: _Slot | None
    ) -> Delivery | None:
        """Tries one target until sent, failed for good, unconfirmed, or out of retries."""
        publisher = self.publishers.get(platform_of(target))
        if publisher is None:
            return self._closed(delivery, DeliveryStatus.FAILED, ErrorKind.PERMANENT, "platform", "no publisher for it")
        tries = 0
        while True:
            tries += 1
            delivery.status, delivery.updated_at = DeliveryStatus.SENDING, utc_now()
            delivery.attempts += 1
            # Marked before the request goes out, so a crash mid-request is recognisable; refused if
            # the claim was lost (the heartbeat keeps it while this worker is alive).
            if not await self.store.record_delivery(post.post_id, holder, delivery):
                return None
            outcome = await publisher.publish(post, target)
            if not outcome.is_retryable or tries >= self.retry.attempts:
                return self._apply(delivery, outcome)
            wait = self.retry.delay(tries, outcome.retry_after)
            log.info("post %s to %s: %s, retrying in %.1fs", post.post_id, target.target_id, outcome.error_code, wait)
            delivery.status, delivery.error_code, delivery.error_message = (
                DeliveryStatus.PENDING,
                outcome.error_code,
                outcome.error_message,
            )
            if not await self.store.record_delivery(post.post_id, holder, delivery):
                return None
            # Waiting out a rate limit or a backoff holds no slot: other posts publish meanwhile.
            if slot is not None:
                slot.release()
            await self._sleep(wait)
            if slot is not None:
                await slot.acquire()

    @staticmethod
    def _apply(delivery: Delivery, outcome: Outcome) -> Delivery:
        delivery.status = outcome.status
        delivery.message_id, delivery.url = outcome.message_id, outcome.url
        delivery.error_kind, delivery.error_code = outcome.error_kind, outcome.error_code
        delivery.error_message = outcome.error_message
        delivery.updated_at = utc_now()
        return delivery

    @staticmethod
    def _closed(delivery: Delivery, status: DeliveryStatus, kind: ErrorKind, code: str, message: str) -> Delivery:
        delivery.status, delivery.error_kind = status, kind
        delivery.error_code, delivery.error_message = code, message
        delivery.updated_at = utc_now()
        return delivery

    async def report(self, post: Post) -> None:
        """Tells the owner how a finished post went, and remembers that they were told."""
        try:
            await self.notify(post)
        except Exception:
            log.exception("could not notify the owner of post %s", post.post_id)
            return
        await self.store.mark_notified(post.post_id, utc_now())

    async def report_unreported(self, now: datetime | None = None) -> int:
        """Tells owners about posts finished by a worker that died before reporting them."""
        grace = max(self.lease, timedelta(seconds=30))
        posts = await self.store.claim_unreported(now or utc_now(), grace)
        for post in posts:
            try:
                await self.notify(post)
            except Exception:
                log.exception("could not notify the owner of post %s", post.post_id)
        return len(posts)

    @property
    def busy(self) -> bool:
        """True while any post is being published by this worker."""
        return bool(self._running)

