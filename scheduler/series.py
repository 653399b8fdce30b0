"""Recurring series on the scheduler's side: each due occurrence becomes a normal post, exactly
once across processes and restarts (the protocol is storage/series.py's: commit under a claim,
write the post if absent, settle), and each series hears how its occurrences went — pausing itself
after failures in a row.

An occurrence is made at its time by the exact-time job of that instant (one per instant, shared
by every series due then: see scheduler/jobs.py), or by the sweep after downtime or a dead worker,
and published at once by the same worker, with every guarantee of the
engine: the post is written already claimed, as a claim would have left it. Posts beyond the
places free in this worker are written due instead, for the sweep's claims to take."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

from scheduler.engine import MISSED_MESSAGE, STORE_RETRY_DELAYS, Publication
from storage.base import STORE_UNAVAILABLE, Store, finished_post
from storage.models import Claim, DeliveryStatus, ErrorKind, Post, utc_now
from storage.series import Series, committed, occurrence_post, taken_over, with_outcome

log = logging.getLogger(__name__)

# Series taken per query (a backlog after downtime is worked through in batches).
BATCH = 500
# Tries of a series' guarded write that another worker (or the owner) changed meanwhile.
WRITE_TRIES = 5


def missed_post(post: Post, now: datetime) -> Post:
    """An occurrence that the bot, offline, missed by more than MAX_LATENESS: finished as failed,
    each target missed (the words the engine uses for a post missed that way), its report due."""
    missed = replace(post, claim=None, status=post.status)
    for delivery in missed.deliveries.values():
        delivery.status, delivery.error_kind = DeliveryStatus.MISSED, ErrorKind.MISSED
        delivery.error_code, delivery.error_message, delivery.updated_at = "missed", MISSED_MESSAGE, now
    finished = finished_post(missed, None, now)
    assert finished is not None, "every delivery is final"
    return finished[1]


class Recurrences:
    """Makes the due occurrences of series into posts from this worker and publishes them."""

    def __init__(
        self,
        store: Store,
        publication: Publication,
        *,
        lease: timedelta,
        max_lateness: timedelta,
        on_scheduled: Callable[[], Awaitable[None]] | None = None,
        clock: Callable[[], datetime] = utc_now,
        batch: int = BATCH,
    ) -> None:
        self.store = store
        self.publication = publication
        self.lease = lease
        self.max_lateness = max_lateness
        # Told when occurrences were written due for the sweep (no place was free to publish them).
        self.on_scheduled = on_scheduled
        self._clock = clock
        self.batch = batch
        self._claims = itertools.count(1)

    def _token(self, kind: str) -> str:
        """A claim token of this worker's ("…/s3" on a series, "…/o3" on a post it wrote claimed):
        never shared by two claims, and ended with the worker's other claims when it dies."""
        return f"{self.publication.worker_id}/{kind}{next(self._claims)}"

    async def make_due(self, now: datetime | None = None, *, take_over: bool = True) -> list[Post]:
        """Every occurrence due by `now` made into a post (with `take_over`, first those whose
        worker died: the sweep's part, not an exact-time job's); the posts this call wrote."""
        now = now or self._clock()
        made: list[Post] = []
        while take_over and not self.publication.stopping:
            abandoned = await self.store.abandoned_series(now, self.batch)
            made += [post for post in await asyncio.gather(*(self._take_over(s, now) for s in abandoned)) if post]
            if len(abandoned) < self.batch:
                break
        # Occurrences are made as places to publish them free up, each written claimed and
        # published at once: a burst (thousands of series due at the same minute) flows through
        # the publication, none waits for a sweep's claim. Without places of this call's own to
        # wait for (other posts hold them all), they are written due for the sweep instead.
        working: set[asyncio.Task[Post | None]] = set()
        refill = max(1, min(self.batch, self.publication.concurrency // 4))
        while not self.publication.stopping:
            free = self.publication.free_places
            if free < refill and working:
                while working and self.publication.free_places < refill:
                    _, working = await asyncio.wait(working, return_when=asyncio.FIRST_COMPLETED)
                continue
            limit = min(self.batch, free) if free else self.batch
            due = await self.store.due_series(now, limit)
            made += await self._make(due, now, working)
            if len(due) < limit:
                break
        return made

    async def _make(
        self, due: list[Series], now: datetime, working: set[asyncio.Task[Post | None]] | None = None
    ) -> list[Post]:
        """Commits each series' due occurrence (those another worker commits first are skipped)
        and writes their posts: claimed and published at once while this worker has places."""
        commits = [
            one
            for one in (committed(series, now, self.max_lateness, self._token("s"), self.lease) for series in due)
            if one is not None
        ]
        held = await asyncio.gather(*(self.store.save_series(one) for one in commits))
        ours = [one for one, ok in zip(commits, held, strict=True) if ok]
        places = self.publication.free_places
        writes = []
        for series in ours:
            assert series.pending is not None
            publish = not series.pending.missed and places > 0
            places -= publish
            writes.append(self._write(series, now, publish=publish, working=working))
        made = [post for post in await asyncio.gather(*writes) if post is not None]
        if any(post.claim is None and not post.status.is_final for post in made) and self.on_scheduled:
            await self.on_scheduled()
        return made

    async def _take_over(self, series: Series, now: datetime) -> Post | None:
        """A pending occurrence whose worker died or stalled past its lease: its post written (if
        that worker had not) for the sweep to publish, and settled."""
        taken = taken_over(series, now, self._token("s"), self.lease)
        if taken is None or not await self.store.save_series(taken):
            return None
        assert taken.pending is not None
        log.info("took over occurrence %d of series %s", taken.pending.number, series.series_id)
        post = await self._write(taken, now, publish=False)
        if post is not None and not post.status.is_final and self.on_scheduled:
            await self.on_scheduled()
        return post

    async def _write(
        self, series: Series, now: datetime, *, publish: bool, working: set[asyncio.Task[Post | None]] | None = None
    ) -> Post | None:
        """Writes the pending occurrence's post if absent — claimed by this worker and published
        when `publish` (its publication added to `working`) — then settles the series; the post
        if this call wrote it."""
        pending, claim = series.pending, series.claim
        assert pending is not None and claim is not None
        post_claim = Claim(self._token("o"), now + self.lease, now) if publish else None
        post = occurrence_post(series, pending, now, post_claim)
        if pending.missed:
            post = missed_post(post, now)
        written = await self._durably(lambda: self.store.add_post_if_absent(post), series)
        if written and post_claim is not None:
            started = self.publication.start_claimed(post)
            if working is not None:
                working.add(started)
        if written:
            log.info(
                "series %s: occurrence %d is post %s (%s)",
                series.series_id,
                pending.number,
                post.post_id,
                "missed" if pending.missed else "publishing" if post_claim else "due",
            )
        # Lost only if another worker took the claim over: it writes (finds) the same post.
        await self._durably(lambda: self.store.settle_series(series.series_id, claim.holder), series)
        return post if written else None

    async def _durably(self, write: Callable[[], Awaitable[bool]], series: Series) -> bool:
        """A write of a committed occurrence, tried again while the database is away (within the
        lease; after it another worker takes the occurrence over and writes the same post)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lease.total_seconds() / 2
        for delay in itertools.chain(STORE_RETRY_DELAYS, itertools.repeat(STORE_RETRY_DELAYS[-1])):
            try:
                return await write()
            except STORE_UNAVAILABLE as error:
                if loop.time() + delay > deadline:
                    raise
                log.warning("series %s: the database refused a write (%s); trying again", series.series_id, error)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def record_outcomes(self, posts: list[Post]) -> None:
        """Tells each series how its finished occurrences among `posts` went (before their
        report is sent, so that a series paused by its third failure in a row says so in it).
        The series are told side by side (their writes group-committed); one series' own
        occurrences in order."""
        by_series: dict[str, list[Post]] = {}
        for post in posts:
            if post.occurrence is not None and post.status.is_final:
                by_series.setdefault(post.occurrence.series_id, []).append(post)
        await asyncio.gather(*(self._record(series_posts) for series_posts in by_series.values()))

    async def _record(self, posts: list[Post]) -> None:
        for post in posts:
            assert post.occurrence is not None
            for _ in range(WRITE_TRIES):
                series = await self.store.load_series(post.occurrence.series_id)
                told = with_outcome(series, post) if series is not None else None
                if told is None or await self.store.save_series(told):
                    if told is not None and told.paused_post == post.post_id:
                        log.warning("series %s paused after failures in a row", told.series_id)
                    break
