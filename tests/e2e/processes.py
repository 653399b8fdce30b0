"""Herald as separate `python bot.py` processes against the fakes, as an operator runs it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from config import Settings
from tests.fakes.local_server import stop_process

ROOT = Path(__file__).resolve().parents[2]
# Settings of the test's own environment that must not reach the bot under test.
HERALD_PREFIXES = (
    "TELEGRAM_", "DATABASE_", "SCHEDULER_", "ENCRYPTION_", "PUBLISH_", "CLAIM_", "MAX_LATENESS", "DATA_DIR",
    "WEBHOOK_", "METRICS_", "LOG_FORMAT",
)  # fmt: skip


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a bot process with these settings (nothing of the test's own)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(HERALD_PREFIXES)}
    env.update(
        PYTHONPATH=str(ROOT),
        TELEGRAM_BOT_TOKEN=str(settings.telegram_bot_token),
        TELEGRAM_API_URL=settings.telegram_api_url,
        DATABASE_URL=settings.database_url,
        ENCRYPTION_KEY=str(settings.encryption_key),
        DATA_DIR=str(settings.data_folder),
        SCHEDULER_INTERVAL=str(settings.scheduler_interval),
        CLAIM_LEASE=str(settings.claim_lease),
        MAX_LATENESS=str(settings.max_lateness),
        PUBLISH_CONCURRENCY=str(settings.publish_concurrency),
        RETRY_MAX_DELAY=str(settings.retry_max_delay),
        SHUTDOWN_GRACE=str(settings.shutdown_grace),
        TELEGRAM_GROUP_MESSAGES_PER_MINUTE=str(settings.telegram_group_messages_per_minute),
        TELEGRAM_MESSAGES_PER_SECOND=str(settings.telegram_messages_per_second),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@asynccontextmanager
async def bot_process(
    settings: Settings, mode: str = "bot", **extra_env: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python bot.py` (or `bot.py worker`) running until the block ends, then stopped (SIGTERM)."""
    args = [sys.executable, str(ROOT / "bot.py")] + (["worker"] if mode == "worker" else [])
    process = await asyncio.create_subprocess_exec(*args, env=process_env(settings, **extra_env), cwd=ROOT)
    try:
        yield process
    finally:
        await stop_process(process)
