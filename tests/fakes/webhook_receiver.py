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
from typing import Any

from aiohttp import web

from publishers.webhook import SIGNATURE_HEADER, verify
from tests.fakes.local_server import LocalServer, take_scripted

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

    body_limit = BODY_LIMIT

    def __init__(self, secret: str, path: str = "/hook") -> None:
        self.secret = secret
        self.path = "/" + path.strip("/")
        self.requests: list[ReceivedRequest] = []
        self._scripted: list[_Scripted] = []
        self._delays: list[_Delay] = []
        self._event_ids = itertools.count(1)

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
        delay = take_scripted(self._delays)
        if delay is not None:
            await asyncio.sleep(delay.seconds)
        scripted = take_scripted(self._scripted)
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
