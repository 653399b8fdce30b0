"""What every fake server shares: serving an aiohttp app on a free port of 127.0.0.1, and taking
the next scripted behaviour (a fault, a delay, an answer) off its queue."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self, TypeVar

from aiohttp import web


class Scripted(Protocol):
    """A scripted behaviour of a fake server, good for `times` more requests."""

    times: int


ScriptedT = TypeVar("ScriptedT", bound=Scripted)


def take_scripted(queue: list[ScriptedT], applies: Callable[[ScriptedT], bool] = lambda _: True) -> ScriptedT | None:
    """The first behaviour in `queue` that `applies` to this request, used up one time (and gone
    from the queue once used up); None if none applies."""
    for scripted in queue:
        if applies(scripted):
            scripted.times -= 1
            if scripted.times <= 0:
                queue.remove(scripted)
            return scripted
    return None


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
    """A fake server on 127.0.0.1: `start()`/`stop()` (or `async with`) serve the app `_app()` builds,
    by default one that gives every request, whatever its method and path, to `_handle()`.

    A server that overrides `start()` and `stop()` itself need not provide either.
    """

    _runner: web.AppRunner | None = None
    _root: str | None = None
    body_limit = 1024**2  # the largest request body accepted, in bytes (aiohttp's default)

    def _app(self) -> web.Application:
        """The aiohttp application to serve."""
        app = web.Application(client_max_size=self.body_limit)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """The answer to any request (of the default app)."""
        raise NotImplementedError(f"{type(self).__name__} serves no app; override _handle(), _app() or start()")

    async def start(self) -> str:
        """Starts serving (once); returns `url`, the address to give a client."""
        if self._root is None:
            self._runner, self._root = await serve_locally(self._app())
        return self.url

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

    @property
    def url(self) -> str:
        """The address to give a client: `root`, unless the server serves under a path."""
        return self.root

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
