"""What every fake server shares: serving an aiohttp app on a free port of 127.0.0.1."""

from __future__ import annotations

import asyncio
import signal
import socket
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from aiohttp import web


async def serve_locally(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serves `app` on a free port of 127.0.0.1; returns the runner (to clean up) and the root URL."""
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def stop_process(process: asyncio.subprocess.Process, sig: int = signal.SIGTERM, grace: float = 20) -> None:
    """Asks a child process to stop with `sig`; kills it if it has not exited within `grace` seconds."""
    if process.returncode is not None:
        return
    process.send_signal(sig)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        process.kill()
        await process.wait()


class LocalServer(ABC):
    """`async with` support for a fake server with `start()` and `stop()`."""

    @abstractmethod
    async def start(self) -> str:
        """Starts serving; returns the URL to give Herald."""

    @abstractmethod
    async def stop(self) -> None:
        """Stops serving."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
