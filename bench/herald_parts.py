"""Herald's side of the scheduler benchmarks: a recording publisher, posts in its store, and
the real Application + scheduler.jobs wiring (bot.build_application) with the publisher swapped in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bench.common import Database, herald_post
from publishers.base import Outcome, Publisher, Sending, untracked
from storage.base import Store
from storage.models import Platform, Post, Target
from tests.fakes.local_server import stop_process

if TYPE_CHECKING:
    from tests.fakes.bot_api import FakeBotAPI


class RecordingPublisher(Publisher):
    """Publishes nothing; notes when it was first called for each post (wall clock)."""

    platform = Platform.TELEGRAM

    def __init__(self, latency: float = 0.0) -> None:
        self.called: dict[str, float] = {}
        self.calls = 0
        self.latency = latency  # seconds each call takes, as a request to a platform would

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        await sending()
        self.calls += 1
        self.called.setdefault(post.post_id, time.time())
        if self.latency:
            await asyncio.sleep(self.latency)
        return Outcome.sent(message_id="1")


async def no_report(owner: int, posts: list[Post]) -> None:
    """The owner's report, not sent: the benchmarks measure the scheduler, not the Bot API (the
    reports are still claimed and marked in the database)."""


async def create_posts(store: Store, times: Sequence[datetime]) -> dict[str, datetime]:
    """Stores one post per time through `Store.create_post`; returns post id → time."""
    made: dict[str, datetime] = {}
    for number, when in enumerate(times):
        post = await store.create_post(herald_post(when, number))
        made[post.post_id] = post.scheduled_time
    return made


def herald_settings(api_url: str, token: str, db: Database, **overrides: Any) -> Any:
    from config import load_settings

    values: dict[str, Any] = {
        "telegram_bot_token": token,
        "telegram_api_url": api_url,
        "database_url": db.herald_url(),
        "encryption_key": db.key,
        "log_level": "WARNING",
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


@asynccontextmanager
async def herald_application(
    settings: Any, store: Store, publisher: Publisher, poll: bool = False
) -> AsyncIterator[Any]:
    """bot.py's `running_bot(settings, poll=poll)` — the worker, or with `poll` the bot: Application, JobQueue and
    scheduler.jobs wiring, started exactly as in production — with the scheduler's publisher and
    report replaced as soon as it runs; yields the `scheduler.jobs.Scheduler`. Posts must not be
    due before it starts (the swap happens after start)."""
    from bot import running_bot
    from scheduler.jobs import SWEEP_JOB, Scheduler

    async with running_bot(settings, poll=poll, store=store) as application:
        assert application.job_queue is not None
        sweeps = [job for job in application.job_queue.jobs() if job.name == SWEEP_JOB]
        callback: Any = sweeps[0].callback
        scheduler = callback.__self__
        assert isinstance(scheduler, Scheduler)
        scheduler.publication.publishers = {Platform.TELEGRAM: publisher}
        scheduler.reporter.send = no_report
        yield scheduler


# A test server's flood limits, as tests/e2e use: the bot answers at once, not at Telegram's pace.
TEST_SERVER_LIMITS = {"TELEGRAM_MESSAGES_PER_SECOND": "3000", "TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "6000"}


def bot_env(api: FakeBotAPI, db: Database, **extra: str) -> dict[str, str]:
    """The environment of a `python bot.py` process polling the fake Bot API `api`, on `db` (as
    tests/e2e do); `extra` adds settings."""
    import os

    from bench.common import ROOT

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "SCHEDULER_", "ENCRYPTION_", "CLAIM_", "MAX_LATENESS"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.url,
        DATABASE_URL=db.herald_url(),
        ENCRYPTION_KEY=db.key,
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@asynccontextmanager
async def bot_process(env: dict[str, str], mode: str = "bot", log_path: Any = None) -> AsyncIterator[Any]:
    """`python bot.py [worker]` running until the block ends (SIGTERM, then kill after 20 s)."""
    import sys

    from bench.common import ROOT

    args = [sys.executable, str(ROOT / "bot.py")] + (["worker"] if mode == "worker" else [])
    output = open(log_path, "wb") if log_path is not None else None  # noqa: SIM115 - closed below
    process = await asyncio.create_subprocess_exec(
        *args, env=env, cwd=ROOT, stdout=output or asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.STDOUT
    )
    try:
        yield process
    finally:
        await stop_process(process)
        if output is not None:
            output.close()
