"""The owners' reports, delivered like posts: claimed from the database with a lease, one message
per owner for the posts that end together, marked only once Telegram took it, and tried again
after any transient error — an outage delays a report, it never loses one."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from scheduler.engine import STORE_RETRY_DELAYS, RetryPolicy
from storage.base import STORE_UNAVAILABLE, Store
from storage.models import Post, utc_now

log = logging.getLogger(__name__)

# Posts told of in one message at most (each has its own buttons).
POSTS_PER_MESSAGE = 6


class ReportRefused(Exception):
    """The owner cannot be told, now or later (they blocked the bot): the reports are given up."""


class ReportDelayed(Exception):
    """Telegram asked to wait `retry_after` seconds before the next message."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:g} s")
        self.retry_after = retry_after


# Sends one message to an owner about these posts; raises ReportRefused, ReportDelayed, or
# anything else for a transient failure.
SendReport = Callable[[int, list[Post]], Awaitable[None]]


class Reporter:
    """Sends every report that is due, from this process, exactly once across processes."""

    def __init__(
        self,
        store: Store,
        send: SendReport,
        *,
        worker_id: str,
        lease: timedelta = timedelta(seconds=60),
        retry: RetryPolicy | None = None,
        gather: float = 0.3,
        batch: int = 200,
        prepare: Callable[[list[Post]], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.send = send
        self.worker_id = worker_id
        self.lease = lease
        self.retry = retry or RetryPolicy(base_delay=2.0)
        # Reports that fall due within this many seconds of each other go out together.
        self.gather = gather
        self.batch = batch
        self._claims = itertools.count(1)
        self._failures: dict[int, int] = {}  # owner → transient failures in a row
        self._owner_waits: dict[int, datetime] = {}  # owner → when their chat is tried again
        self._timer: asyncio.TimerHandle | None = None
        self._runs: set[asyncio.Task[int]] = set()
        self._lock = asyncio.Lock()
        self._stopping = False
        # Runs before each message about these posts goes out (a series learns how its occurrence
        # went, and may pause, before the report says so); raising makes it a transient failure.
        self.prepare = prepare

    def kick(self, delay: float | None = None) -> None:
        """A report fell due (or will in `delay` seconds): send it, with the others due, soon."""
        if self._stopping:
            return
        loop = asyncio.get_running_loop()
        when = loop.time() + (self.gather if delay is None else max(delay, self.gather))
        if self._timer is not None:
            if self._timer.when() <= when:
                return
            self._timer.cancel()
        self._timer = loop.call_at(when, self._start)

    def _start(self) -> None:
        self._timer = None
        run = asyncio.create_task(self.run())
        self._runs.add(run)
        run.add_done_callback(self._runs.discard)
        run.add_done_callback(_log_failure)

    async def run(self, now: datetime | None = None) -> int:
        """Claims every due report and sends them, one message per owner; the posts reported."""
        total = 0
        async with self._lock:
            while not self._stopping:
                holder = f"{self.worker_id}/r{next(self._claims)}"
                posts = await self.store.claim_reports(holder, now or utc_now(), self.lease, self.batch)
                if not posts:
                    break
                by_owner: dict[int, list[Post]] = {}
                for post in posts:
                    by_owner.setdefault(post.user_id, []).append(post)
                await asyncio.gather(*(self._tell(holder, owner, owned) for owner, owned in by_owner.items()))
                total += len(posts)
                if len(posts) < self.batch or now is not None:
                    break
        return total

    async def _tell(self, holder: str, owner: int, posts: list[Post]) -> None:
        """Sends one owner their reports, a few posts a message, and settles each message's posts."""
        waiting = self._owner_waits.get(owner)
        if waiting is not None and waiting > utc_now():
            # The owner's chat failed a moment ago: these wait for the same retry as the reports
            # before them, so that all go out together, in one message, once it works again.
            await self._postpone(holder, posts, waiting)
            return
        for start in range(0, len(posts), POSTS_PER_MESSAGE):
            chunk = posts[start : start + POSTS_PER_MESSAGE]
            ids = [post.post_id for post in chunk]
            if self._stopping:
                # No new message once stopping (it could be cut off mid-request and sent again):
                # the rest are due now, for the next process, rather than held until the lease ends.
                await self._postpone(holder, posts[start:], utc_now())
                return
            try:
                if self.prepare is not None:
                    await self.prepare(chunk)
                await self.send(owner, chunk)
            except asyncio.CancelledError:
                # Stopping: whether this message went out is unknown; the next process tells
                # them (again), and the messages not begun are its to send too.
                rest = [post.post_id for post in posts[start:]]
                await asyncio.shield(self._settle(partial(self.store.postpone_reports, rest, holder, utc_now())))
                raise
            except ReportRefused as refused:
                log.warning("gave up reporting %d post(s) to owner %s: %s", len(ids), owner, refused)
                await self._settle(partial(self._marked, ids, holder))
            except ReportDelayed as delayed:
                until = self._owner_waits[owner] = utc_now() + timedelta(seconds=delayed.retry_after)
                await self._postpone(holder, posts[start:], until)
                return
            except Exception as error:
                failures = self._failures[owner] = self._failures.get(owner, 0) + 1
                wait = self.retry.delay(failures, None)
                log.warning(
                    "could not report %d post(s) to owner %s (%s); trying again in %.0f s", len(ids), owner, error, wait
                )
                until = self._owner_waits[owner] = utc_now() + timedelta(seconds=wait)
                await self._postpone(holder, posts[start:], until)
                return
            else:
                self._failures.pop(owner, None)
                self._owner_waits.pop(owner, None)
                await self._settle(partial(self._marked, ids, holder))

    async def _postpone(self, holder: str, posts: list[Post], until: datetime) -> None:
        await self._settle(partial(self.store.postpone_reports, [post.post_id for post in posts], holder, until))
        self.kick(max((until - utc_now()).total_seconds(), 0))

    async def _marked(self, ids: list[str], holder: str) -> int:
        return await self.store.mark_reported(ids, holder, utc_now())

    async def _settle(self, write: Callable[[], Awaitable[int]]) -> None:
        """Records a report's fate; a database briefly away is waited for (within the lease),
        since a report marked late is a report sent twice."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lease.total_seconds() / 2
        for delay in itertools.chain(STORE_RETRY_DELAYS, itertools.repeat(STORE_RETRY_DELAYS[-1])):
            try:
                await write()
                return
            except STORE_UNAVAILABLE as error:
                if loop.time() + delay > deadline:
                    log.warning("could not record a report's fate (%s): it may be sent again", error)
                    return
                await asyncio.sleep(delay)

    async def stop(self, grace: float) -> None:
        """Claims no more reports; one being sent gets `grace` seconds, the rest wait in the
        database for the next process."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._runs:
            _, late = await asyncio.wait(set(self._runs), timeout=grace)
            for run in late:
                run.cancel()
            if late:
                await asyncio.wait(late, timeout=2)


def _log_failure(run: asyncio.Task[int]) -> None:
    if not run.cancelled() and run.exception() is not None:
        log.error("sending reports failed", exc_info=run.exception())
