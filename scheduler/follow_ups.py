"""The follow-up actions of published posts (unpin, delete), run like posts: claimed from the
database under a lease (a dead worker's taken over), each run once, retried after a transient
failure until MAX_LATENESS has passed, missed when first claimed later than that, and the owner told
once — in the Reporter's way — of every one that failed."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from i18n import N_
from publishers.base import Publisher
from scheduler.engine import STORE_RETRY_DELAYS, RetryPolicy
from scheduler.reporting import ReportDelayed, ReportRefused
from storage.base import STORE_UNAVAILABLE, Store
from storage.models import FollowUp, FollowUpStatus, Platform, settled_follow_up, utc_now

log = logging.getLogger(__name__)

MISSED_FOLLOW_UP = N_("its time passed while the bot was offline")
# Sends one message to an owner about these failed actions; raises ReportRefused, ReportDelayed,
# or anything else for a transient failure (as scheduler.reporting.SendReport).
SendFollowUpReport = Callable[[int, list[FollowUp]], Awaitable[None]]


class FollowUps:
    """Runs every due follow-up action from this process, exactly once across processes."""

    def __init__(
        self,
        store: Store,
        publishers: dict[Platform, Publisher],
        send_report: SendFollowUpReport,
        *,
        worker_id: str,
        lease: timedelta = timedelta(seconds=60),
        max_lateness: timedelta = timedelta(hours=24),
        retry: RetryPolicy | None = None,
        batch: int = 50,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.publishers = publishers
        self.send_report = send_report
        self.worker_id = worker_id
        self.lease = lease
        self.max_lateness = max_lateness
        self.retry = retry or RetryPolicy()
        self.batch = batch
        self._clock = clock
        self._claims = itertools.count(1)
        self._lock = asyncio.Lock()
        self._stopping = False

    def _token(self, kind: str) -> str:
        """A claim token of this worker's (so that `expire_claims` finds it once it died)."""
        return f"{self.worker_id}/{kind}{next(self._claims)}"

    async def run(self) -> int:
        """Claims and runs every due action, then sends the owners' reports of failed ones; the
        actions run."""
        handled = 0
        async with self._lock:
            while not self._stopping:
                holder = self._token("a")
                actions = await self.store.claim_follow_ups(holder, self._clock(), self.lease, self.batch)
                if not actions:
                    break
                await asyncio.gather(*(self._run_one(action, holder) for action in actions))
                handled += len(actions)
                if len(actions) < self.batch:
                    break
            if not self._stopping:
                await self._report()
        return handled

    async def _run_one(self, action: FollowUp, holder: str) -> None:
        now = self._clock()
        deadline = action.due_at + self.max_lateness
        if action.attempts <= 1 and now > deadline:
            log.warning("follow-up %s missed: %s late", action.action_id, now - action.due_at)
            await self._settle(settled_follow_up(action, FollowUpStatus.MISSED, now, MISSED_FOLLOW_UP), holder)
            return
        publisher = self.publishers.get(Platform.TELEGRAM)
        if publisher is None:
            await self._settle(settled_follow_up(action, FollowUpStatus.FAILED, now, N_("no publisher for it")), holder)
            return
        try:
            outcome = await publisher.follow_up(action)
        except asyncio.CancelledError:
            # Stopping mid-request: given back for the next process now rather than after the
            # lease (doing it again is harmless: a message already gone counts as done).
            at_once = self._clock() - timedelta(milliseconds=1)  # claimable from now, not the next millisecond
            release = self.store.release_follow_up(action.action_id, holder, at_once, action.error_message)
            await asyncio.shield(release)
            raise
        now = self._clock()
        if not outcome.is_retryable:
            status = FollowUpStatus.DONE if outcome.error_kind is None else FollowUpStatus.FAILED
            error = None if status is FollowUpStatus.DONE else outcome.error_message
            await self._settle(settled_follow_up(action, status, now, error), holder)
            return
        retries = max(action.attempts, 1)
        next_try = now + timedelta(seconds=self.retry.delay(retries, outcome.retry_after))
        if next_try > deadline:
            # Retried until it could no longer matter: failed, with the last reason.
            await self._settle(settled_follow_up(action, FollowUpStatus.FAILED, now, outcome.error_message), holder)
            return
        log.info("follow-up %s: %s, trying again at %s", action.action_id, outcome.error_code, next_try.isoformat())
        await self._durably(
            partial(self.store.release_follow_up, action.action_id, holder, next_try, outcome.error_message)
        )

    async def _settle(self, action: FollowUp, holder: str) -> None:
        if not await self._durably(partial(self.store.settle_follow_up, action, holder)):
            log.warning("lost the claim on follow-up %s: its new holder settles it", action.action_id)

    async def _durably(self, write: Callable[[], Awaitable[bool]]) -> bool:
        """Runs a write until the database takes it: what was done (a message deleted) must not be
        lost to a locked file or a server away for a while."""
        for failures in itertools.count():
            try:
                return await write()
            except STORE_UNAVAILABLE as error:
                if failures == 0:
                    log.warning("the database refused a follow-up's write (%s); trying again", error)
                await asyncio.sleep(STORE_RETRY_DELAYS[min(failures, len(STORE_RETRY_DELAYS) - 1)])
        raise AssertionError("unreachable")

    async def _report(self) -> None:
        """Tells each owner, in one message, which of their actions failed (each action once)."""
        holder = self._token("ar")
        actions = await self.store.claim_follow_up_reports(holder, self._clock(), self.lease)
        by_owner: dict[int, list[FollowUp]] = {}
        for action in actions:
            by_owner.setdefault(action.user_id, []).append(action)
        for owner, owned in by_owner.items():
            ids = [action.action_id for action in owned]
            try:
                await self.send_report(owner, owned)
            except ReportRefused as refused:
                log.warning("gave up telling owner %s of %d failed follow-up(s): %s", owner, len(ids), refused)
            except ReportDelayed as delayed:
                until = self._clock() + timedelta(seconds=delayed.retry_after)
                await self.store.postpone_follow_up_reports(ids, holder, until)
                continue
            except Exception as error:
                wait = self.retry.delay(1, None)
                log.warning(
                    "could not tell owner %s of failed follow-ups (%s); trying again in %.0f s", owner, error, wait
                )
                await self.store.postpone_follow_up_reports(ids, holder, self._clock() + timedelta(seconds=wait))
                continue
            await self.store.mark_follow_ups_reported(ids, holder, self._clock())

    def stop(self) -> None:
        """Claims nothing more; an action under way finishes (one short request), the rest wait in
        the database for the next process."""
        self._stopping = True
