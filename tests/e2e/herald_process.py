"""`python bot.py` as its own process, as an operator starts it: environment in, exit status and
stderr out."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.local_server import stop_process

ROOT = Path(__file__).resolve().parents[2]
# Settings of the environment the tests run in must not leak into the bot under test.
HERALD_VARIABLES = (
    "TELEGRAM_", "DATABASE_", "SCHEDULER_", "ENCRYPTION_", "PUBLISH_", "CLAIM_", "MAX_LATENESS",
    "ALLOWED_USER_IDS", "DEFAULT_TIMEZONE", "FACEBOOK_", "LOG_LEVEL", "SHUTDOWN_", "RETRY_",
    "WEBHOOK_", "METRICS_", "LOG_FORMAT", "DATA_DIR",
)  # fmt: skip


def herald_env(**settings: str) -> dict[str, str]:
    """This process's environment without Herald's settings, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(HERALD_VARIABLES)}
    env.update(PYTHONPATH=str(ROOT), **settings)
    return env


async def start_herald(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    """`python bot.py [args]` in `cwd` (where a .env would be read), stdout and stderr piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), *args,
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@dataclass
class Exited:
    """How a run of bot.py ended."""

    status: int
    stderr: str
    seconds: float


async def run_until_exit(env: dict[str, str], cwd: Path, timeout: float) -> Exited:
    """Runs bot.py until it exits by itself; fails the test if it is still running after `timeout`."""
    started = time.monotonic()
    process = await start_herald(env, cwd)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        await stop_process(process, grace=2)
        raise AssertionError(f"bot.py was still running after {timeout} s") from None
    assert process.returncode is not None
    return Exited(process.returncode, stderr.decode("utf-8", "replace"), time.monotonic() - started)


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
