"""Publishing claimed posts: one delivery per target, recorded as it happens, retried until it can
no longer matter, then the owner's report made due."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

import metrics
from i18n import N_
from logs import POST_ID, publishing
from publishers.base import Outcome, Publisher, Withdrawn
from storage.base import STORE_UNAVAILABLE, Store
from storage.models import (
    Delivery,
    DeliveryStatus,
    ErrorKind,
    Platform,
    Post,
    Target,
    follow_ups_for,
    utc_now,
)

log = logging.getLogger(__name__)

# Why a delivery was closed without a try: stored in English, shown in the reader's language.
MISSED_MESSAGE = N_("missed while the bot was offline")
HAND_POST_WINDOW = timedelta(days=1)
HAND_POST_MISSED = N_("not confirmed as posted within a day")
CUT_OFF_MESSAGE = N_(
    "the bot stopped while this was being sent, so it may or may not have been posted — check {name} before retrying"
)
# An outage longer than this gets the owner one notice that the post is delayed.
DELAY_NOTICE_AFTER = timedelta(minutes=5)
# A retry planned for the deadline may be claimed a little after it: it still gets its try.
DEADLINE_SLACK = timedelta(minutes=1)
# Between two tries of a database write that failed (the file locked, the server away).
STORE_RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)
Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How patiently a retryable failure is tried again: growing backoff, until the post's
    MAX_LATENESS has passed (then it can no longer matter)."""

    base_delay: float = 1.0
    max_delay: float = 300.0
    # Spreads the tries of posts that failed together, so they do not all come back at once.
    jitter: float = 0.1

    def delay(self, retries: int, retry_after: float | None) -> float:
        """Seconds to wait before the next try, after `retries` failures in a row: the platform's
        word if it gave one (never sooner), else exponential backoff."""
        backoff = min(self.base_delay * 2 ** max(retries - 1, 0), self.max_delay)
        backoff *= 1 + random.uniform(-self.jitter, self.jitter)
        if retry_after is not None:
            return max(retry_after, 0.0)
        return float(backoff)


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
        try:
            held = await store.renew_lease(self._post_id, self._holder, utc_now(), lease)
        except STORE_UNAVAILABLE as error:
            # The database is away: nobody else can claim the post meanwhile either. Try again.
            log.debug("could not renew the lease on post %s: %s", self._post_id, error)
            held = True
        if held and not self._stopped:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._beat)

    def stop(self) -> None:
        self._stopped = True
        self._timer.cancel()
        if self._renewal is not None:
            self._renewal.cancel()


def new_worker_id() -> str:
    """An id naming this process in claims: host, pid-like randomness."""
    return f"{socket.gethostname()}-{secrets.token_hex(4)}"


def _nothing(*_: object) -> None:
    return None


class Publication:
    """Claims due posts and publishes them, exactly once per target, through the publishers."""

    def __init__(
        self,
        store: Store,
        publishers: dict[Platform, Publisher],
        *,
        on_finished: Callable[[Post], None] = _nothing,
        on_retry: Callable[[str, datetime], None] = _nothing,
        worker_id: str | None = None,
        lease: timedelta = timedelta(seconds=60),
        max_lateness: timedelta = timedelta(hours=24),
        retry: RetryPolicy | None = None,
        deadline_slack: timedelta = DEADLINE_SLACK,
        concurrency: int = 8,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.publishers = publishers
        # Told of each post this worker finished (its report is due), and of each post given back
        # to wait for a retry (so that something wakes up at that time).
        self.on_finished = on_finished
        self.on_retry = on_retry
        self.worker_id = worker_id or new_worker_id()
        self.lease = lease
        self.max_lateness = max_lateness
        self.retry = retry or RetryPolicy()
        self.deadline_slack = deadline_slack
        # How many posts publish at once.
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._claims = itertools.count(1)
        self._sleep = sleep
        self._clock = clock
        # Post id → the task publishing it; and the posts with a request under way right now.
        self._running: dict[str, asyncio.Task[object] | None] = {}
        self._in_request: set[str] = set()
        self._stopping = False

    def _claim_id(self) -> str:
        """A fencing token for one claim: two claims, even by this process, never share one."""
        return f"{self.worker_id}/{next(self._claims)}"

    @property
    def stopping(self) -> bool:
        """True once `stop` was called: nothing more is claimed or started."""
        return self._stopping

    async def sweep(self, now: datetime | None = None) -> int:
        """Claims every due post and every post whose worker's lease ran out; publishes them."""
        # Claims as places free up: a post that waits (for a channel's rate window) holds its own
        # place, not the posts behind it. No more is claimed than can start at once, so claims do
        # not wait long in the queue; places are refilled a few at a time.
        handled = 0
        working: set[asyncio.Task[Post | None]] = set()
        drained = False
        try:
            while True:
                free = self.concurrency - len(self._running)
                if not drained and not self._stopping and (free > 0 or not working):
                    limit = max(free, 1)
                    claimed = await self.store.claim_due_posts(
                        self._claim_id(), now or self._clock(), self.lease, limit, exclude=set(self._running)
                    )
                    handled += len(claimed)
                    working.update(asyncio.create_task(self._guarded(post)) for post in claimed)
                    drained = len(claimed) < limit
                if not working:
                    return handled
                if drained or self._stopping:
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
        if self._stopping or post_id in self._running:
            return None
        post = await self.store.claim_post(post_id, self._claim_id(), self._clock(), self.lease)
        if post is None:
            return None
        # A task of its own: `stop` may cancel the publication, never the job that started it.
        publishing = asyncio.create_task(self._guarded(post))
        try:
            return await asyncio.shield(publishing)
        except asyncio.CancelledError:
            if publishing.cancelled():
                return None
            # The job itself was cancelled: so is the publication, which gives its post back first.
            publishing.cancel()
            await asyncio.wait({publishing})
            raise

    async def stop(self, grace: float) -> None:
        """Stops claiming at once. A publication with a request under way gets up to `grace`
        seconds to hear how it went; every other one is withdrawn now and gives its post back,
        its deliveries as far as they got, to whichever worker sweeps next."""
        self._stopping = True
        tasks = {post_id: task for post_id, task in self._running.items() if task is not None}
        for post_id, task in tasks.items():
            if post_id not in self._in_request:
                task.cancel()
        if not tasks:
            return
        _, late = await asyncio.wait(tasks.values(), timeout=grace)
        for task in late:
            task.cancel()
        if late:
            # Each gives its post back on the way out (a few quick writes).
            await asyncio.wait(late, timeout=2)

    async def _guarded(self, post: Post) -> Post | None:
        """Publishes a claimed post when a slot is free, keeping its lease alive meanwhile."""
        assert post.claim is not None
        self._running[post.post_id] = asyncio.current_task()
        # A task of its own: every line it logs names the post (LOG_FORMAT=json).
        POST_ID.set(post.post_id)
        holder = post.claim.worker_id
        if self._stopping:
            # Claimed by a claim that was on its way when the stop began (`stop` never saw this
            # publication): given straight back, before any check or wait that could hold it up.
            try:
                await asyncio.shield(self._give_back(post, holder))
            finally:
                self._running.pop(post.post_id, None)
            return None
        heartbeat = _Heartbeat(self, post)
        try:
            async with self._slots:
                return await self._publish(post)
        except asyncio.CancelledError:
            # Stopping: give the post back now, with what is known, rather than leave it to a lease.
            await asyncio.shield(self._give_back(post, holder))
            raise
        except Withdrawn:
            await self._give_back(post, holder)
            return None
        except Exception:
            # The claim stays; when its lease runs out a sweep takes the post over.
            log.exception("publishing post %s failed unexpectedly", post.post_id)
            return None
        finally:
            heartbeat.stop()
            self._running.pop(post.post_id, None)
            self._in_request.discard(post.post_id)

    async def _give_back(self, post: Post, holder: str) -> None:
        try:
            await self.store.release_post(post, holder, self._clock())
        except Exception as error:
            log.warning("could not give post %s back (%s): its lease will expire", post.post_id, error)

    async def publish(self, post: Post) -> Post | None:
        """Runs every open delivery of a post this worker has claimed, then finishes it."""
        return await self._publish(post)

    async def _publish(self, post: Post) -> Post | None:
        assert post.claim is not None, "publish only a claimed post"
        holder = post.claim.worker_id
        now = self._clock()
        deadline = post.scheduled_time + self.max_lateness
        # First claimed after MAX_LATENESS: the bot was offline at the time.
        offline = post.attempts <= 1 and now - post.scheduled_time > self.max_lateness
        # Closed deliveries not yet written: written by themselves before the next request goes
        # out (a crash during it then loses no known outcome), else with the post's last write.
        unrecorded: list[Delivery] = []
        next_tries: list[datetime] = []
        for target in post.targets:
            target_id = target.target_id
            # Changed in place, so that a post given back when stopping carries every outcome known.
            delivery = post.deliveries.setdefault(target_id, Delivery(target_id))
            if delivery.status.is_final:
                continue
            if delivery.status is DeliveryStatus.AWAITING_YOU:
                if self._clock() - delivery.updated_at < HAND_POST_WINDOW:
                    continue  # the owner still has time to post it by hand
                delivery = self._closed(
                    delivery, DeliveryStatus.MISSED, ErrorKind.MISSED, "not_confirmed", HAND_POST_MISSED, target
                )
                # Closed: never handed to the owner (or sent) again.
                post.deliveries[target_id] = delivery
                unrecorded.append(delivery)
                continue
            if offline:
                delivery = self._closed(
                    delivery, DeliveryStatus.MISSED, ErrorKind.MISSED, "missed", MISSED_MESSAGE, target
                )
            elif delivery.status is DeliveryStatus.SENDING:
                # A worker died with this request in flight: never resend on our own.
                delivery = self._closed(
                    delivery,
                    DeliveryStatus.UNCONFIRMED,
                    ErrorKind.UNCONFIRMED,
                    "interrupted",
                    CUT_OFF_MESSAGE.format(name=target.name),
                    target,
                )
            elif delivery.retry_since is not None and self._clock() > deadline + self.deadline_slack:
                # Retried until it could no longer matter: failed, with the last reason.
                delivery.status, delivery.updated_at = DeliveryStatus.FAILED, self._clock()
            else:
                if not await self._record(post, holder, unrecorded):
                    return None
                with publishing(post.post_id, target_id):
                    tried = await self._deliver(post, holder, target, delivery)
                if tried is None:
                    return None  # the claim was lost; whoever holds it now carries on
                delivery, next_try = tried
                if delivery.status is DeliveryStatus.SENT and post.options.has_follow_ups:
                    await self._plan_follow_ups(post, target, delivery)
                if next_try is not None and next_try > deadline:
                    # One last try at the deadline; after it, the failure can no longer wait.
                    next_try = deadline if self._clock() < deadline else None
                    if next_try is None:
                        delivery.status = DeliveryStatus.FAILED
                if next_try is not None:
                    next_tries.append(next_try)
            post.deliveries[target_id] = delivery
            unrecorded.append(delivery)
        if any(d.status is DeliveryStatus.AWAITING_YOU for d in post.deliveries.values()) and not next_tries:
            if not await self._record(post, holder, unrecorded):
                return None
            # Parked until the owner confirms (which finishes the post) or the window closes.
            await self._durably(
                lambda: self.store.renew_lease(post.post_id, holder, self._clock(), HAND_POST_WINDOW), post
            )
            return post
        if next_tries:
            return await self._wait_for_retry(post, holder, min(next_tries))
        done = await self._durably(lambda: self.store.finish_post(post, holder, self._clock()), post)
        if done is None:
            # Not finished (the claim was lost, or a delivery is still open): the outcomes are
            # still written if this worker holds the claim.
            await self._record(post, holder, unrecorded)
            return None
        if offline:
            log.warning("post %s missed: %s late", post.post_id, now - post.scheduled_time)
        self.on_finished(done)
        return done

    async def _plan_follow_ups(self, post: Post, target: Target, delivery: Delivery) -> None:
        """Stores the unpin and delete due after this delivery before its outcome is written: from
        then on they run at their times whatever becomes of this worker (and, made twice, they
        are stored once)."""
        actions = follow_ups_for(post, target, delivery, self._clock())
        if actions:
            await self._durably(lambda: self.store.add_follow_ups(actions), post)

    async def _wait_for_retry(self, post: Post, holder: str, retry_at: datetime) -> Post | None:
        """Gives the post back to wait in the database until `retry_at`; a long outage makes a
        delay notice due (once), so the owner is not left wondering."""
        notice_at = None
        if post.delay_noticed_at is None:
            since = min(d.retry_since for d in post.deliveries.values() if d.retry_since is not None)
            notice_at = since + DELAY_NOTICE_AFTER
        released = await self._durably(lambda: self.store.release_post(post, holder, retry_at, notice_at), post)
        if not released:
            log.warning("lost the claim on post %s", post.post_id)
            return None
        log.info("post %s waits until %s to try again", post.post_id, retry_at.isoformat())
        post.claim, post.retry_at = None, retry_at
        self.on_retry(post.post_id, retry_at)
        return post

    async def _record(self, post: Post, holder: str, unrecorded: list[Delivery]) -> bool:
        """Writes the closed deliveries not yet written (emptying the list); False if the claim is lost."""
        while unrecorded:
            delivery = unrecorded[0]
            if not await self._durably(partial(self.store.record_delivery, post.post_id, holder, delivery), post):
                log.warning("lost the claim on post %s", post.post_id)
                return False
            unrecorded.pop(0)
        return True

    async def _durably(self, write: Callable[[], Awaitable[T]], post: Post) -> T:
        """Runs a write of the publication until the database takes it: an outcome known here
        (a message that went out) must not be lost to a locked file or a server away for a while,
        nor the claim abandoned for it. Errors other than the database's are raised."""
        failures = 0
        while True:
            try:
                return await write()
            except STORE_UNAVAILABLE as error:
                if failures == 0:
                    log.warning("post %s: the database refused a write (%s); trying again", post.post_id, error)
                delay = STORE_RETRY_DELAYS[min(failures, len(STORE_RETRY_DELAYS) - 1)]
                failures += 1
                await self._sleep(delay)

    async def _deliver(
        self, post: Post, holder: str, target: Target, delivery: Delivery
    ) -> tuple[Delivery, datetime | None] | None:
        """One try on one target: the delivery as it ended, and when to try again if it may be
        tried again; None if the claim was lost."""
        publisher = self.publishers.get(target.platform)
        if publisher is None:
            message = N_("no publisher for it")
            closed = self._closed(delivery, DeliveryStatus.FAILED, ErrorKind.PERMANENT, "platform", message, target)
            return closed, None
        marked = False

        async def sending() -> None:
            # Marked just before the request goes out, so that a crash mid-request is recognisable
            # and nothing before it (checks, rate-limit waits, reading files) can leave the
            # delivery unconfirmed. Refused if the claim was lost, or while stopping.
            nonlocal marked
            if marked:
                return
            if self._stopping:
                raise Withdrawn("the worker is stopping")
            before = delivery.status, delivery.updated_at
            delivery.status, delivery.updated_at = DeliveryStatus.SENDING, self._clock()
            delivery.attempts += 1
            try:
                held = await self._durably(lambda: self.store.record_delivery(post.post_id, holder, delivery), post)
            except BaseException:
                # Stopped while marking: no request left, whatever the database heard.
                (delivery.status, delivery.updated_at), delivery.attempts = before, delivery.attempts - 1
                raise
            if not held:
                raise Withdrawn("the claim was lost")
            marked = True
            self._in_request.add(post.post_id)

        try:
            outcome = await publisher.publish(post, target, sending)
        except Withdrawn:
            if self._stopping:
                raise
            return None
        finally:
            self._in_request.discard(post.post_id)
        metrics.delivery_tried(post, target, outcome.status, outcome.is_retryable, self._clock())
        if not outcome.is_retryable:
            return self._apply(delivery, outcome), None
        now = self._clock()
        delivery.status, delivery.updated_at = DeliveryStatus.PENDING, now
        delivery.error_kind, delivery.error_code = outcome.error_kind, outcome.error_code
        delivery.error_message = outcome.error_message
        delivery.retry_since = delivery.retry_since or now
        delivery.retries += 1
        wait = self.retry.delay(delivery.retries, outcome.retry_after)
        log.info("post %s to %s: %s, trying again in %.1fs", post.post_id, target.target_id, outcome.error_code, wait)
        return delivery, now + timedelta(seconds=wait)

    def _apply(self, delivery: Delivery, outcome: Outcome) -> Delivery:
        delivery.status = outcome.status
        delivery.message_id, delivery.url = outcome.message_id, outcome.url
        delivery.message_ids = list(outcome.message_ids)
        delivery.pinned = outcome.pinned
        delivery.error_kind, delivery.error_code = outcome.error_kind, outcome.error_code
        delivery.error_message = outcome.error_message
        delivery.updated_at = self._clock()
        return delivery

    def _closed(
        self, delivery: Delivery, status: DeliveryStatus, kind: ErrorKind, code: str, message: str, target: Target
    ) -> Delivery:
        """The delivery closed without a try (missed, cut off by a crash, no publisher), counted."""
        metrics.DELIVERIES.labels(platform=target.platform.value, outcome=status.value).inc()
        delivery.status, delivery.error_kind = status, kind
        delivery.error_code, delivery.error_message = code, message
        delivery.updated_at = self._clock()
        return delivery

    @property
    def busy(self) -> bool:
        """True while any post is being published by this worker."""
        return bool(self._running)

    # -- posts this worker claimed itself (an occurrence of a series it just wrote) -------------
    @property
    def free_places(self) -> int:
        """How many more posts this worker can start publishing now without waiting for a place."""
        return max(self.concurrency - len(self._running), 0)

    def start_claimed(self, post: Post) -> asyncio.Task[Post | None]:
        """Publishes, in a task of its own, a post written already claimed by this worker (see
        scheduler/series.py), as if a claim had just taken it; a worker that is stopping gives it
        back instead. The task, for whoever wants to wait for it."""
        assert post.claim is not None, "start only a post this worker claimed"
        return asyncio.create_task(self._guarded(post))
