"""What every fake server shares: serving an aiohttp app on a free port of 127.0.0.1."""

from __future__ import annotations

import asyncio
import signal
import socket
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


class LocalServer:
    """A fake server on 127.0.0.1: `start()`/`stop()` (or `async with`) serve the app `_app()` builds.

    A server that overrides `start()` and `stop()` itself need not provide `_app()`.
    """

    _runner: web.AppRunner | None = None
    _root: str | None = None

    def _app(self) -> web.Application:
        """The aiohttp application to serve."""
        raise NotImplementedError(f"{type(self).__name__} serves no app; override _app() or start()")

    async def start(self) -> str:
        """Starts serving (once); returns the root URL, ``http://127.0.0.1:PORT``."""
        if self._root is None:
            self._runner, self._root = await serve_locally(self._app())
        return self._root

    async def stop(self) -> None:
        """Stops serving; a later `start()` serves again, on another port."""
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._root = None

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT`` while serving."""
        if self._root is None:
            raise RuntimeError(f"{type(self).__name__} is not started; await start() first")
        return self._root

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
