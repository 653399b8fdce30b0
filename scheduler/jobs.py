"""The JobQueue side of the scheduler: a sweep every SCHEDULER_INTERVAL, a one-off job per post (and
per retry), the owners' reports, and taking over the posts of dead processes of this machine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta

from apscheduler.job import Job as APSJob
from apscheduler.jobstores.base import JobLookupError
from telegram.ext import Application, ContextTypes, Job

import metrics
from publishers.facebook_groups import HandPostPrompt
from publishers.registry import Wiring, build_publishers
from scheduler.engine import Publication, RetryPolicy
from scheduler.follow_ups import FollowUps, SendFollowUpReport
from scheduler.reporting import Reporter, SendReport
from scheduler.series import Recurrences
from scheduler.workers import WorkerRegistry
from services import PostEvent, Services
from storage.models import FollowUp, Post, utc_now
from storage.series import Series, SeriesStatus

log = logging.getLogger(__name__)

SWEEP_JOB = "herald-sweep"
SCHEDULER_KEY = "herald.scheduler"  # where bot.py keeps the Scheduler in bot_data
# One-off jobs exist only for posts due this soon; later posts get theirs at a later sweep,
# so a year of scheduled posts costs no memory in the job queue.
MIN_HORIZON = timedelta(minutes=5)
# Posts planned per sweep at most; a larger backlog is taken by the sweep's own claims.
PLAN_LIMIT = 100_000
# Jobs planned between two yields to the event loop.
PLAN_BATCH = 500
# A retry's job fires this much after the retry time, when the post is surely claimable.
RETRY_JOB_MARGIN = timedelta(milliseconds=50)


async def _untold(owner: int, actions: list[FollowUp]) -> None:
    log.warning("no way to tell owner %s of %d failed follow-up(s)", owner, len(actions))


def post_job_name(post_id: str) -> str:
    return f"post:{post_id}"


def series_job_name(when: datetime) -> str:
    """The job of one instant at which series are due: shared by all of them (rules fall on whole
    minutes, so thousands of series may be due at the same instant)."""
    return f"series-at:{round(when.timestamp() * 1000)}"


class Scheduler:
    """Runs publication from the Application's JobQueue, in the bot or in a worker process."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        services: Services,
        send_report: SendReport,
        *,
        hand_post: HandPostPrompt,
        send_follow_up_report: SendFollowUpReport | None = None,
    ) -> None:
        self.application = application
        self.services = services
        settings = services.settings
        self.interval = settings.scheduler_interval
        self.max_lateness = timedelta(seconds=settings.max_lateness)
        self._sweeping = asyncio.Lock()
        self.horizon = max(MIN_HORIZON, timedelta(seconds=settings.scheduler_interval * 3))
        retry = RetryPolicy(max_delay=settings.retry_max_delay)
        lease = timedelta(seconds=settings.claim_lease)
        self.publication = Publication(
            services.store,
            build_publishers(Wiring(application.bot, services.store, settings, hand_post)),
            on_finished=self._post_finished,
            on_retry=self._retry_planned,
            lease=lease,
            max_lateness=self.max_lateness,
            retry=retry,
            concurrency=settings.publish_concurrency,
        )
        self.recurrences = Recurrences(
            services.store,
            self.publication,
            lease=lease,
            max_lateness=self.max_lateness,
            on_scheduled=self._publish_due,
        )
        self.reporter = Reporter(
            services.store,
            send_report,
            worker_id=self.publication.worker_id,
            lease=lease,
            retry=RetryPolicy(base_delay=2.0, max_delay=settings.retry_max_delay),
            prepare=self.recurrences.record_outcomes,
        )
        # Occurrences were written due while a sweep was publishing: it looks once more.
        self._sweep_again = False
        # One making of due occurrences at a time; a job firing meanwhile asks for one more.
        self._making = asyncio.Lock()
        self._make_again = False
        self._take_over_again = False
        self.workers = WorkerRegistry(settings.data_folder / "workers")
        # When the last sweep ended (monotonic); start-up counts as one, for /healthz.
        self.last_sweep_ended = time.monotonic()
        # Unpin and delete after publishing: claimed and run by the same sweeps, under the same lease.
        self.follow_ups = FollowUps(
            services.store,
            self.publication.publishers,
            send_follow_up_report or _untold,
            worker_id=self.publication.worker_id,
            lease=lease,
            max_lateness=self.max_lateness,
            retry=retry,
        )

    @property
    def job_queue(self):  # type: ignore[no-untyped-def]
        queue = self.application.job_queue
        assert queue is not None, "python-telegram-bot[job-queue] is required"
        return queue

    def install(self) -> Scheduler:
        """Starts the sweeps (the first at once: catch-up after downtime) and hooks into handlers."""
        self.workers.join(self.publication.worker_id)
        # The catch-up sweep is a one-off job with no misfire grace: the JobQueue may start well
        # after this call (warm-up, initialisation), and a repeating job's first run would then be
        # moved to the next interval — overdue posts waiting a whole SCHEDULER_INTERVAL.
        self.job_queue.run_once(
            self._sweep, when=0, name=SWEEP_JOB, job_kwargs={"misfire_grace_time": None, "id": SWEEP_JOB + ":first"}
        )
        # A sweep held up by a busy database is not an error: the next one just finds it running.
        self.job_queue.run_repeating(
            self._sweep, interval=self.interval, first=self.interval, name=SWEEP_JOB, job_kwargs={"max_instances": 2}
        )
        self.services.listener = self.post_changed
        self.services.series_listener = self.series_changed
        return self

    async def shutdown(self, grace: float) -> None:
        """Stops claiming posts and reports at once; sends under way get `grace` seconds; every
        other claim is given back for the next process."""
        self.follow_ups.stop()
        await asyncio.gather(self.publication.stop(grace), self.reporter.stop(grace))
        self.workers.leave()

    async def _sweep(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Plans exact-time jobs for what comes soon, then publishes what is due or abandoned and
        sends due reports."""
        if self._sweeping.locked() or self.publication.stopping:
            return  # the previous sweep is still working through a backlog
        async with self._sweeping:
            began = time.monotonic()
            await self.take_over_dead_workers()
            # Occurrences due (after downtime) become posts before the claims below.
            await self.make_due_series()
            # Planned first: posts due while this sweep works through a backlog go out at their
            # time, not after the backlog.
            await self.plan_upcoming()
            metrics.QUEUE_DEPTH.set(await self.services.store.count_due_posts(utc_now()))
            await self._publish_until_drained()
            if self.publication.stopping:
                return  # what was given back is the next process's to report
            try:
                await self.follow_ups.run()
            except Exception:
                # Logged with its traceback; the posts' reports still go out, the actions wait
                # in the database for the next sweep.
                log.exception("running follow-up actions failed")
            await self.reporter.run()
            self.last_sweep_ended = time.monotonic()
            metrics.SWEEP_DURATION.observe(self.last_sweep_ended - began)

    async def take_over_dead_workers(self) -> int:
        """Ends the claims of this machine's processes that died (SIGKILL, a crash): their posts
        are taken over by this sweep, not after their leases. The claims ended."""
        ended = 0
        for worker_id in self.workers.dead():
            count = await self.services.store.expire_claims(worker_id, utc_now())
            count += await self.services.store.expire_series_claims(worker_id, utc_now())
            log.info("worker %s is gone: took over %d of its claims", worker_id, count)
            metrics.CLAIMS_TAKEN_OVER.inc(count)
            ended += count
        return ended

    async def plan_upcoming(self) -> None:
        """One-off jobs at the exact time of each post due within the horizon, and of each retry
        (rebuilt at start). What is due already is the sweep's."""
        now = utc_now()
        upcoming = await self.services.store.scheduled_posts(until=now + self.horizon, limit=PLAN_LIMIT, after=now)
        for planned, (post_id, when) in enumerate(upcoming, start=1):
            if self._job(post_id) is None:
                self._add_job(post_id, max(when + RETRY_JOB_MARGIN, utc_now()))
            if planned % PLAN_BATCH == 0:
                await asyncio.sleep(0)  # let due jobs and updates run while a long plan is made
        series = await self.services.store.upcoming_series(until=now + self.horizon, after=now, limit=PLAN_LIMIT)
        for when in sorted({when for _, when in series}):
            self._add_series_job(max(when, utc_now()))

    def _job(self, post_id: str) -> APSJob | None:
        """The post's one-off job, looked up by id in O(1) (a lookup by name scans every job)."""
        job: APSJob | None = self.job_queue.scheduler.get_job(post_job_name(post_id))
        return job

    def _add_job(self, post_id: str, when: datetime) -> Job:  # type: ignore[type-arg]
        # No misfire grace: a job that fires late (a busy loop) must still run, not be dropped.
        job: Job = self.job_queue.run_once(  # type: ignore[type-arg]
            self._publish_at_time,
            when=when,
            name=post_job_name(post_id),
            data=post_id,
            job_kwargs={"misfire_grace_time": None, "id": post_job_name(post_id), "replace_existing": True},
        )
        return job

    async def _publish_at_time(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.job is not None
        await self.publication.publish_now(str(context.job.data))

    def _retry_planned(self, post_id: str, when: datetime) -> None:
        """A post waits to try a target again: wake up for it then, if that is soon."""
        if when <= utc_now() + self.horizon and not self.publication.stopping:
            self._add_job(post_id, when + RETRY_JOB_MARGIN)

    def _post_finished(self, post: Post) -> None:
        metrics.post_finished(post)
        self.reporter.kick()

    async def post_changed(self, event: PostEvent, post: Post) -> None:
        """A post changed in the chat: its exact-time job follows; a report falls due."""
        if event is PostEvent.FINISHED:
            metrics.post_finished(post)
            self.reporter.kick()
            return
        self._drop_job(post.post_id)
        if event is PostEvent.SCHEDULED and post.scheduled_time <= utc_now() + self.horizon:
            self._add_job(post.post_id, max(post.scheduled_time, utc_now()))

    def _drop_job(self, post_id: str) -> None:
        job = self._job(post_id)
        if job is not None:
            with contextlib.suppress(JobLookupError):  # it ran or was removed meanwhile
                job.remove()

    # -- recurring series --------------------------------------------------------------------
    def _add_series_job(self, when: datetime) -> None:
        """A job at an instant some series are due: their occurrences are made, in batches, and
        published then. One job per instant, not per series: thousands of series due in the same
        minute are taken by a few queries and group-committed writes, not by thousands of jobs
        that each read their series. It fires a little after the time, when they are surely due."""
        if self.job_queue.scheduler.get_job(series_job_name(when)) is not None:
            return
        self.job_queue.run_once(
            self._make_at_time,
            when=when + RETRY_JOB_MARGIN,
            name=series_job_name(when),
            job_kwargs={"misfire_grace_time": None, "id": series_job_name(when), "replace_existing": True},
        )

    async def _make_at_time(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.make_due_series(take_over=False)

    async def make_due_series(self, *, take_over: bool = True) -> None:
        """Makes every due occurrence (with `take_over`, the abandoned ones too); a call while one
        runs makes it look once more after."""
        if self._making.locked():
            self._make_again = True
            self._take_over_again |= take_over
            return
        async with self._making:
            while True:
                self._make_again = False
                take_over, self._take_over_again = take_over or self._take_over_again, False
                await self.recurrences.make_due(take_over=take_over)
                if not self._make_again or self.publication.stopping:
                    return

    async def series_changed(self, series: Series) -> None:
        """A series made or changed in the chat: a job at its next time, if that comes soon (a
        job left at its old time finds nothing due and does nothing)."""
        if series.status is not SeriesStatus.ACTIVE or series.next_time is None:
            return
        if series.next_time <= utc_now() + self.horizon and not self.publication.stopping:
            self._add_series_job(max(series.next_time, utc_now()))

    async def _publish_due(self) -> None:
        """Occurrences were written due for lack of free places: a sweep claims them as places
        free up (the one running, if any, looks once more)."""
        if self._sweeping.locked():
            self._sweep_again = True
            return
        async with self._sweeping:
            await self._publish_until_drained()

    async def _publish_until_drained(self) -> None:
        while True:
            self._sweep_again = False
            await self.publication.sweep()
            if not self._sweep_again or self.publication.stopping:
                return
