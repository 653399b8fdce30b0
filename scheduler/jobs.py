"""The JobQueue side of the scheduler: a sweep every SCHEDULER_INTERVAL, a one-off job per post."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from apscheduler.job import Job as APSJob
from apscheduler.jobstores.base import JobLookupError
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, Job

from handlers.common import Services
from publishers.registry import build_publishers
from publishers.telegram import retry_after_seconds
from scheduler.engine import Publication
from scheduler.report import report
from storage.models import Post, utc_now

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
REPORT_TRIES = 4


def post_job_name(post_id: str) -> str:
    return f"post:{post_id}"


class Scheduler:
    """Runs publication from the Application's JobQueue, in the bot or in a worker process."""

    def __init__(self, application: Application, services: Services) -> None:  # type: ignore[type-arg]
        self.application = application
        self.services = services
        settings = services.settings
        self.interval = settings.scheduler_interval
        self._sweeping = asyncio.Lock()
        self.horizon = max(MIN_HORIZON, timedelta(seconds=settings.scheduler_interval * 3))
        self.publication = Publication(
            services.store,
            build_publishers(application.bot, services.store, settings),
            self.notify_owner,
            lease=timedelta(seconds=settings.claim_lease),
            max_lateness=timedelta(seconds=settings.max_lateness),
            concurrency=settings.publish_concurrency,
        )

    @property
    def job_queue(self):  # type: ignore[no-untyped-def]
        queue = self.application.job_queue
        assert queue is not None, "python-telegram-bot[job-queue] is required"
        return queue

    def install(self) -> Scheduler:
        """Starts the sweeps (the first at once: catch-up after downtime) and hooks into handlers."""
        # The catch-up sweep is a one-off job with no misfire grace: the JobQueue may start well
        # after this call (warm-up, initialisation), and a repeating job's first run would then be
        # moved to the next interval — overdue posts waiting a whole SCHEDULER_INTERVAL.
        self.job_queue.run_once(
            self._sweep, when=0, name=SWEEP_JOB, job_kwargs={"misfire_grace_time": None, "id": SWEEP_JOB + ":first"}
        )
        self.job_queue.run_repeating(self._sweep, interval=self.interval, first=self.interval, name=SWEEP_JOB)
        self.services.on_post_scheduled.append(self.post_scheduled)
        self.services.on_post_cancelled.append(self.post_cancelled)
        self.services.on_post_finished.append(self.publication.report)
        return self

    async def _sweep(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Publishes what is due or abandoned, then plans exact-time jobs for what comes soon."""
        if self._sweeping.locked():
            return  # the previous sweep is still working through a backlog
        async with self._sweeping:
            await self.publication.sweep()
            await self.publication.report_unreported()
            await self.plan_upcoming()

    async def plan_upcoming(self) -> None:
        """One-off jobs at the exact time of each post due within the horizon (rebuilt at start)."""
        until = utc_now() + self.horizon
        upcoming = await self.services.store.scheduled_posts(until=until, limit=PLAN_LIMIT)
        for planned, (post_id, when) in enumerate(upcoming, start=1):
            if self._job(post_id) is None:
                self._add_job(post_id, max(when, utc_now()))
            if planned % PLAN_BATCH == 0:
                await asyncio.sleep(0)  # let due jobs and updates run while a long plan is made

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

    async def post_scheduled(self, post: Post) -> None:
        """A new, moved or retried post: (re)place its exact-time job if it is due soon."""
        await self.post_cancelled(post)
        if post.scheduled_time <= utc_now() + self.horizon:
            self._add_job(post.post_id, max(post.scheduled_time, utc_now()))

    async def post_cancelled(self, post: Post) -> None:
        job = self._job(post.post_id)
        if job is not None:
            with contextlib.suppress(JobLookupError):  # it ran or was removed meanwhile
                job.remove()

    async def notify_owner(self, post: Post) -> None:
        """Tells the owner, in their chat with the bot, how the post went.

        Rate limits are waited out; a report that still cannot go raises, so it stays unreported
        and a later sweep sends it. A chat that is gone for good (the bot blocked) is given up."""
        text, markup = report(post)
        for _ in range(REPORT_TRIES):
            try:
                await self.application.bot.send_message(
                    post.user_id, text, parse_mode="HTML", reply_markup=markup, disable_web_page_preview=True
                )
                return
            except RetryAfter as error:
                await asyncio.sleep(retry_after_seconds(error))
            except (Forbidden, BadRequest) as error:
                log.warning("could not report post %s to its owner: %s", post.post_id, error.message)
                return
        raise TelegramError(f"the report of post {post.post_id} was throttled {REPORT_TRIES} times")
