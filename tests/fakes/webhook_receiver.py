"""A webhook receiver for tests: an aiohttp server on 127.0.0.1 that checks Herald's signature.

    async with WebhookReceiver("secret") as receiver:
        target = Target("t1", "Hooks", receiver.url, platform=Platform.WEBHOOK)
        ...
        [request] = receiver.requests
        assert request.verified

By default it answers a correctly signed request ``200 {"ok": true, "id": "evt_N"}`` and a badly
signed one ``401 {"error": "invalid signature"}``, as a careful receiver does. ``respond_next`` and
``delay_next`` script the next answers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from publishers.webhook import SIGNATURE_HEADER, verify
from tests.fakes.local_server import LocalServer

BODY_LIMIT = 64 * 1024 * 1024


@dataclass
class ReceivedRequest:
    """One request as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any  # the parsed body, or None if it was not JSON
    verified: bool

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


@dataclass
class _Scripted:
    status: int
    body: str | dict[str, Any] | list[Any] | None
    headers: dict[str, str] | None
    times: int


@dataclass
class _Delay:
    seconds: float
    times: int


class WebhookReceiver(LocalServer):
    """Records every request, verifies `X-Herald-Signature` with `secret`, answers as scripted."""

    def __init__(self, secret: str, path: str = "/hook") -> None:
        self.secret = secret
        self.path = "/" + path.strip("/")
        self.requests: list[ReceivedRequest] = []
        self._scripted: list[_Scripted] = []
        self._delays: list[_Delay] = []
        self._event_ids = itertools.count(1)

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=BODY_LIMIT)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def start(self) -> str:
        """Serve on a free port of 127.0.0.1; returns `url`."""
        await super().start()
        return self.url

    @property
    def url(self) -> str:
        """The endpoint to give Herald, e.g. ``http://127.0.0.1:PORT/hook``."""
        return f"{self.root}{self.path}"

    def respond_next(
        self,
        status: int,
        body: str | dict[str, Any] | list[Any] | None = None,
        times: int = 1,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` requests get this answer (a dict or list is sent as JSON), signed or not."""
        self._scripted.append(_Scripted(status, body, headers, times))

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next `times` requests are recorded at once, and answered `seconds` later."""
        self._delays.append(_Delay(seconds, times))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        verified = verify(self.secret, body, request.headers.get(SIGNATURE_HEADER))
        self.requests.append(
            ReceivedRequest(request.method, request.path, dict(request.headers), body, parsed, verified)
        )
        delay = _take(self._delays)
        if delay is not None:
            await asyncio.sleep(delay.seconds)
        scripted = _take(self._scripted)
        if scripted is not None:
            return self._answer(scripted)
        if request.path != self.path:
            return web.json_response({"error": "not found"}, status=404)
        if not verified:
            return web.json_response({"error": "invalid signature"}, status=401)
        return web.json_response({"ok": True, "id": f"evt_{next(self._event_ids)}"})

    @staticmethod
    def _answer(scripted: _Scripted) -> web.Response:
        if isinstance(scripted.body, dict | list):
            return web.json_response(scripted.body, status=scripted.status, headers=scripted.headers)
        return web.Response(status=scripted.status, text=scripted.body or "", headers=scripted.headers)


_Queued = TypeVar("_Queued", _Scripted, _Delay)


def _take(queue: list[_Queued]) -> _Queued | None:
    """The head of a queue of scripted behaviours, used up one time."""
    if not queue:
        return None
    head = queue[0]
    head.times -= 1
    if head.times <= 0:
        queue.pop(0)
    return head
