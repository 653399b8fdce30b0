"""The JobQueue side of the scheduler in the real Application: one exact-time job per post, found by
id, and one per instant at which series are due (shared by all of them)."""

from __future__ import annotations

from datetime import timedelta

from bot import running_bot
from scheduler.jobs import SCHEDULER_KEY, Scheduler, post_job_name, series_job_name
from services import PostEvent
from storage.models import utc_now
from storage.recurrence import Frequency, Rule
from storage.series import new_series
from tests.e2e.conftest import ALICE, bot_settings
from tests.e2e.steps import channel_targets, telegram_post
from tests.e2e.test_publish import make_post
from tests.fakes.bot_api import FakeBotAPI


def job_ids(scheduler: Scheduler) -> list[str]:
    return [job.id for job in scheduler.job_queue.scheduler.get_jobs() if job.id.startswith("post:")]


async def test_each_upcoming_post_has_exactly_one_job_at_its_time(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    # A long interval, so that only the catch-up sweep at start and this test plan jobs.
    settings = bot_settings(api, sqlite_url, encryption_key, scheduler_interval=600)
    async with running_bot(settings, poll=False) as application:
        scheduler = application.bot_data[SCHEDULER_KEY]
        assert isinstance(scheduler, Scheduler)
        store = scheduler.services.store
        soon = [await make_post(store, f"soon {n}", timedelta(minutes=3, seconds=n)) for n in range(1200)]
        later = await make_post(store, "next week", timedelta(days=7))
        await scheduler.plan_upcoming()
        await scheduler.plan_upcoming()  # planning again adds nothing
        ids = job_ids(scheduler)
        assert len(ids) == len(set(ids)) == len(soon)
        assert post_job_name(later.post_id) not in ids
        first = scheduler.job_queue.scheduler.get_job(post_job_name(soon[0].post_id))
        assert first is not None
        assert abs(first.next_run_time - soon[0].scheduled_time) < timedelta(seconds=1)

        # Moved: the one job moves with it. Cancelled: the job goes.
        moved = await store.reschedule_post(soon[1].user_id, soon[1].post_id, utc_now() + timedelta(minutes=4))
        assert moved is not None
        await scheduler.post_changed(PostEvent.SCHEDULED, moved)
        job = scheduler.job_queue.scheduler.get_job(post_job_name(moved.post_id))
        assert job is not None and abs(job.next_run_time - moved.scheduled_time) < timedelta(seconds=1)
        assert job_ids(scheduler).count(post_job_name(moved.post_id)) == 1
        await scheduler.post_changed(PostEvent.CANCELLED, soon[2])
        await scheduler.post_changed(PostEvent.CANCELLED, soon[2])  # twice is harmless
        assert post_job_name(soon[2].post_id) not in job_ids(scheduler)
        assert len(job_ids(scheduler)) == len(soon) - 1


async def test_series_due_at_the_same_instant_share_one_job(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    settings = bot_settings(api, sqlite_url, encryption_key, scheduler_interval=600)
    async with running_bot(settings, poll=False) as application:
        scheduler = application.bot_data[SCHEDULER_KEY]
        assert isinstance(scheduler, Scheduler)
        store = scheduler.services.store
        now = utc_now()
        # Two whole minutes ahead, and the minute after: rules fall on whole minutes.
        minute = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
        post = telegram_post("Daily", channel_targets({-100123: "Shop news"}), timedelta(0))
        made = []
        for number in range(300):
            when = minute + timedelta(minutes=number % 2)
            rule = Rule(Frequency.DAILY, when.time(), "UTC", start=when.date())
            made.append(await store.create_series(new_series(ALICE, rule, post, now)))
        await scheduler.plan_upcoming()
        await scheduler.plan_upcoming()  # planning again adds nothing
        ids = series_job_ids(scheduler)
        assert sorted(ids) == sorted({series_job_name(minute), series_job_name(minute + timedelta(minutes=1))})
        job = scheduler.job_queue.scheduler.get_job(series_job_name(minute))
        assert job is not None and timedelta(0) <= job.next_run_time - minute < timedelta(seconds=1)
        # A series made in the chat at a time that has a job already adds none.
        await scheduler.series_changed(made[0])
        assert len(series_job_ids(scheduler)) == 2


def series_job_ids(scheduler: Scheduler) -> list[str]:
    return [job.id for job in scheduler.job_queue.scheduler.get_jobs() if job.id.startswith("series-at:")]
