"""The HTTP side: the aiohttp app on 127.0.0.1, routing ``/bot{token}/{method}`` and
``/file/bot{token}/{path}``, reading parameters, Telegram-shaped error answers, the faults tests
inject (``fail_next``, ``delay``, ``start_outage``), and what tests read about the calls made."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiohttp import web

from tests.fakes.bot_api.errors import BotAPIError, JSONDict, injected, unsupported
from tests.fakes.bot_api.limits import UPLOAD_LIMIT, RateLimits
from tests.fakes.bot_api.params import Params, Upload, decode_value
from tests.fakes.bot_api.state import BotState, button_texts
from tests.fakes.local_server import LocalServer

Handler = Callable[[Params], Coroutine[Any, Any, Any]]


class Call(NamedTuple):
    """One request to a method: its name, decoded parameters (uploads summarised), monotonic time."""

    method: str
    params: JSONDict
    at: float


@dataclass
class _Fault:
    method: str
    error: BotAPIError
    chat_id: int | str | None
    remaining: int


@dataclass
class _Delay:
    method: str
    seconds: float
    remaining: int
    before: bool


@dataclass
class _Outage:
    error: BotAPIError
    methods: frozenset[str] | None
    chats: Callable[[int | str], bool] | None


class Server(BotState, LocalServer):
    """Serves the Bot API methods `_bot_methods()` names, with the faults tests ask for."""

    def __init__(self, token: str, enforce_limits: bool, limits: RateLimits) -> None:
        super().__init__(token, enforce_limits, limits)
        self.calls: list[Call] = []
        # (method, description) of every error the fake gave of its own accord (not injected):
        # what Telegram would have refused. A test of what the bot sends expects none.
        self.refusals: list[tuple[str, str]] = []
        self.outage_answers = 0
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._outage: _Outage | None = None
        self._started_at = time.monotonic()
        self._closing = False
        self._methods = {name.lower(): (name, handler) for name, handler in self._bot_methods().items()}

    def _bot_methods(self) -> dict[str, Handler]:
        """Each Bot API method served, by its name; any other answers 404 "method not found"."""
        raise NotImplementedError

    # -- Lifecycle ---------------------------------------------------------------------------------

    def _app(self) -> web.Application:
        # An album may carry ten uploads of up to 50 MB each (each file is checked on its own).
        app = web.Application(client_max_size=10 * UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        return app

    async def start(self) -> str:
        """Serve on 127.0.0.1 on a free port; returns the root URL."""
        self._closing = False
        return await super().start()

    async def stop(self) -> None:
        """Answer any waiting long poll and shut the server down."""
        self._closing = True
        self._notify_updates()
        await super().stop()

    @property
    def url(self) -> str:
        return self.root

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # -- Fault injection ---------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` (only those for `chat_id`, if given) answer this
        error, without any effect. 429 carries parameters.retry_after (default 1)."""
        error = injected(error_code, description, retry_after)
        self._faults.append(_Fault(self._canonical(method), error, chat_id, times))

    def delay(self, method: str, seconds: float, times: int = 1, *, before: bool = False) -> None:
        """Hold the answer of the next `times` calls of `method` for `seconds`. By default the call
        takes effect first (a message is posted, then the answer is late: a client that times out
        has sent it without knowing); with `before=True` nothing happens until the wait is over
        (and nothing at all if the client hangs up)."""
        self._delays.append(_Delay(self._canonical(method), seconds, times, before))

    def start_outage(
        self,
        *,
        error_code: int = 500,
        methods: Iterable[str] | None = None,
        chats: Callable[[int | str], bool] | None = None,
    ) -> None:
        """From now until `end_outage`, every call of `methods` (all, when None) — only those for
        a chat `chats` accepts, if given — answers this error, without any effect, the way Telegram
        answers while it is down (e.g. 500 Internal Server Error, 502 Bad Gateway)."""
        wanted = None if methods is None else frozenset(self._canonical(method) for method in methods)
        self._outage = _Outage(injected(error_code), wanted, chats)
        self.outage_answers = 0

    def end_outage(self) -> None:
        self._outage = None

    def clear_faults(self) -> None:
        """No more injected errors, delays or outage."""
        self._faults.clear()
        self._delays.clear()
        self._outage = None

    def _take_fault(self, method: str, chat_ref: Any) -> BotAPIError | None:
        outage = self._outage
        if (
            outage is not None
            and (outage.methods is None or method in outage.methods)
            and (outage.chats is None or (chat_ref is not None and outage.chats(chat_ref)))
        ):
            self.outage_answers += 1
            return outage.error
        for fault in self._faults:
            if fault.method != method:
                continue
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_ref):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault.error
        return None

    def _take_delay(self, method: str) -> _Delay | None:
        for hold in self._delays:
            if hold.method == method:
                hold.remaining -= 1
                if hold.remaining <= 0:
                    self._delays.remove(hold)
                return hold
        return None

    # -- Reading back ------------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        name = self._canonical(method)
        return [c for c in self.calls if c.method == name]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, *, what: str | None = None) -> Any:
        """Wait until `predicate()` is truthy and return its value; AssertionError with a dump of
        recent calls and chats after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self.dump(f"condition {what or predicate!r} not met within {timeout} s"))
            signal = self._state_signal
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), min(remaining, 0.05))

    def dump(self, headline: str = "FakeBotAPI state") -> str:
        """A readable summary of recent calls, chats and their messages."""
        lines = [headline, "recent calls:"]
        for call in self.calls[-25:]:
            params = {k: v for k, v in call.params.items() if k != "reply_markup"}
            lines.append(f"  +{call.at - self._started_at:7.3f}s {call.method} {_short(params, 160)}")
        if not self.calls:
            lines.append("  (none)")
        lines.append("messages:")
        for chat_id, messages in self._messages.items():
            lines.append(f"  chat {chat_id} ({self._chats[chat_id].type}):")
            for m in list(messages.values())[-15:]:
                who = "bot" if m.from_bot else f"user {m.from_user_id}"
                body = m.text if m.text is not None else (m.caption or "")
                flags = (" [deleted]" if m.deleted else "") + (" [edited]" if m.edit_date else "")
                buttons = button_texts(m.reply_markup)
                extra = f" buttons={buttons}" if buttons else ""
                group = f" group={m.media_group_id}" if m.media_group_id else ""
                lines.append(f"    #{m.message_id} {who} {m.kind}{group}: {_short(body, 100)}{extra}{flags}")
        lines.append(f"pending updates: {len(self._updates)}; 429s given: {self.rate_limited}")
        return "\n".join(lines)

    # -- HTTP --------------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self._token:
            return _error_response(BotAPIError(401, "Unauthorized"))
        raw_name = request.match_info["method"]
        entry = self._methods.get(raw_name.lower())
        name = entry[0] if entry else raw_name
        try:
            values, uploads = await _read_params(request)
        except BotAPIError as exc:
            self.calls.append(Call(name, {}, time.monotonic()))
            return self._error(exc)
        summary = dict(values) | {key: upload.summary() for key, upload in uploads.items()}
        self.calls.append(Call(name, summary, time.monotonic()))
        if entry is None:
            return self._error(BotAPIError(404, "Not Found: method not found"))
        fault = self._take_fault(name, values.get("chat_id"))
        hold = self._take_delay(name)
        if hold is not None and hold.before:
            await asyncio.sleep(hold.seconds)
        response: web.StreamResponse
        try:
            if fault is not None:
                raise fault
            result = await entry[1](Params(values, uploads))
        except BotAPIError as exc:
            if fault is None:
                self.refusals.append((name, exc.description))
            response = self._error(exc)
        else:
            response = web.json_response({"ok": True, "result": result})
        finally:
            self._changed()
        if hold is not None and not hold.before:
            await asyncio.sleep(hold.seconds)
        return response

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self._token:
            return _error_response(BotAPIError(401, "Unauthorized"))
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _error_response(BotAPIError(404, "Not Found"))
        return web.Response(body=stored.data, content_type=stored.mime_type)

    def _error(self, error: BotAPIError) -> web.Response:
        if error.error_code == 429:
            self.rate_limited += 1
        return _error_response(error)

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        return entry[0] if entry else method


async def _read_params(request: web.Request) -> tuple[JSONDict, dict[str, Upload]]:
    """The query string and form fields, decoded; file parts as uploads."""
    raw: JSONDict = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.body_exists:
        if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise unsupported(f"a {request.content_type} request body")
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                uploads[key] = Upload(value.filename or key, value.file.read())
            elif isinstance(value, (bytes, bytearray)):
                uploads[key] = Upload(key, bytes(value))
            else:
                raw[key] = value
    return {key: decode_value(key, value) for key, value in raw.items()}, uploads


def _error_response(error: BotAPIError) -> web.Response:
    status = error.error_code if 400 <= error.error_code <= 599 else 500
    return web.json_response(error.body(), status=status)


def _short(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
