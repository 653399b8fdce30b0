"""Telegram's flood limits, counted the way Telegram counts them (used instead of PTB's AIORateLimiter).

Telegram limits *messages*, not requests (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):

* about 30 messages per second overall (``telegram_messages_per_second``);
* 20 messages per minute in one group or channel (``telegram_group_messages_per_minute``) — a
  ``chat_id`` that is a negative number or an ``@username``;
* about 1 message per second in one private chat (a positive ``chat_id``);
* ``allow_paid_broadcast`` messages: up to 1000 per second instead of the 30.

So only methods that post messages are counted (every item of an album is a message;
``getChatMember``, ``answerCallbackQuery``, ``editMessageText``… pass straight through), and the
windows are sliding windows — at most N messages in *any* period — not a leaky bucket, which lets
twice the rate through right after a burst.

The stamps follow the server's clock: a request reserves its slots before it is sent; while it is
in flight it counts as "now" (it cannot expire), and when the answer arrives its stamps are moved to
the answer time — the server stamped the messages somewhere in between, so a window measured from
the answer is never shorter than the server's. A small ``margin`` covers the rest.

An answer 429 means nothing was sent: the reservation is freed, the chat's window (and the overall
one, when the 429 must have come from it) is closed until ``retry_after``, and the request is sent
again by the limiter itself, up to ``max_retries`` times; then RetryAfter is raised to the caller.

Waiting requests are queued: per chat in arrival order, and across chats the oldest request whose
chat has room goes first (nobody overtakes it on the overall window). Nobody polls: requests wait on
a future, and the queue is looked at again when an answer arrives or on the single timer set to the
next moment a window frees up. All bookkeeping runs synchronously on the event loop, with no await
in between, so the event loop itself is the one lock; each look costs O(chats with waiting requests
+ expired stamps), each request O(its messages) stamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

import metrics

log = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
ChatKey = int | str

# Telegram's documented limits (the FAQ above).
TELEGRAM_MESSAGES_PER_SECOND = 30
TELEGRAM_GROUP_MESSAGES_PER_MINUTE = 20
TELEGRAM_PRIVATE_MESSAGES_PER_SECOND = 1
TELEGRAM_PAID_MESSAGES_PER_SECOND = 1000

# Methods that post messages into a chat (Bot API names, compared case-insensitively).
MESSAGE_METHODS: frozenset[str] = frozenset(
    name.lower()
    for name in (
        "sendMessage", "sendPhoto", "sendAudio", "sendDocument", "sendVideo", "sendAnimation",
        "sendVoice", "sendVideoNote", "sendPaidMedia", "sendMediaGroup", "sendLocation", "sendVenue",
        "sendContact", "sendPoll", "sendChecklist", "sendDice", "sendSticker", "sendInvoice",
        "sendGame", "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
    )
)  # fmt: skip
# Methods that post one message per item of a list parameter.
BATCH_PARAMETERS = {"sendmediagroup": "media", "copymessages": "message_ids", "forwardmessages": "message_ids"}


def messages_in(endpoint: str, data: dict[str, Any]) -> int:
    """How many messages Telegram counts for this request (0: not a message)."""
    name = endpoint.lower()
    if name not in MESSAGE_METHODS:
        return 0
    parameter = BATCH_PARAMETERS.get(name)
    if parameter is not None:
        items = data.get(parameter)
        if isinstance(items, list | tuple):
            return max(1, len(items))
    return 1


def chat_key(data: dict[str, Any]) -> ChatKey | None:
    """The chat a request posts to: an int id (as PTB's AIORateLimiter reads it) or an @username."""
    chat_id = data.get("chat_id")
    if chat_id is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        return int(chat_id)
    return str(chat_id)


def is_private(key: ChatKey) -> bool:
    """Positive ids are people; negative ids and @usernames are groups and channels."""
    return isinstance(key, int) and key > 0


def retry_after_seconds(error: RetryAfter) -> float:
    value: Any = getattr(error, "_retry_after", None)
    if value is None:
        value = error.retry_after
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


class _Window:
    """At most `limit` messages in any `period` seconds.

    `stamps` are the answer times of answered requests, ascending (the clock only moves forward);
    `in_flight` messages are sent but not answered and count as "now" until they are.
    """

    __slots__ = ("blocked_until", "in_flight", "limit", "period", "stamps")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.stamps: deque[float] = deque()
        self.in_flight = 0
        self.blocked_until = -math.inf

    def used(self, now: float, margin: float) -> int:
        horizon = now - self.period - margin
        stamps = self.stamps
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return len(stamps) + self.in_flight

    def free_at(self, count: int, now: float, margin: float) -> float | None:
        """The earliest time `count` more messages fit; None: not before an answer arrives."""
        used = self.used(now, margin)
        earliest = max(now, self.blocked_until)
        excess = used + count - self.limit
        if used == 0 or excess <= 0:
            return earliest
        # The oldest answered stamps expire first; in-flight ones only after their answer. A request
        # larger than the whole window goes once the window is empty.
        must_expire = min(used, excess)
        if must_expire > len(self.stamps):
            return None
        return max(earliest, self.stamps[must_expire - 1] + self.period + margin)

    def idle(self, now: float, margin: float) -> bool:
        return self.used(now, margin) == 0 and self.blocked_until <= now


class _Chat:
    __slots__ = ("key", "queue", "window")

    def __init__(self, key: ChatKey | None, window: _Window | None) -> None:
        self.key = key
        self.window = window
        self.queue: deque[_Request] = deque()


class _Request:
    __slots__ = ("chat", "chat_was_full", "count", "granted", "overall", "seq")

    def __init__(self, seq: int, count: int, chat: _Chat, overall: _Window) -> None:
        self.seq = seq
        self.count = count
        self.chat = chat
        self.overall = overall
        self.granted: asyncio.Future[None] | None = None
        self.chat_was_full = False


class Booking:
    """Room in the windows granted ahead of one request (`TelegramRateLimiter.book`): the request
    that carries it (``rate_limit_args=booking``) goes without waiting again. Until it is used or
    cancelled it counts as in flight, so book only right before sending."""

    __slots__ = ("request", "settled")

    def __init__(self, request: _Request) -> None:
        self.request = request
        self.settled = False


class Sleep(Protocol):
    def __call__(self, delay: float, /) -> Awaitable[Any]: ...


class TelegramRateLimiter(BaseRateLimiter[int | Booking]):
    """Sliding-window flood limiter counting messages the way Telegram does (see the module doc).

    ``rate_limit_args`` (an int), when given to a bot method, replaces ``max_retries`` for that call.
    ``clock`` and ``sleep`` are injectable for tests (defaults: ``time.monotonic``, ``asyncio.sleep``).
    """

    def __init__(
        self,
        overall_max_rate: float = TELEGRAM_MESSAGES_PER_SECOND,
        overall_time_period: float = 1.0,
        group_max_rate: float = TELEGRAM_GROUP_MESSAGES_PER_MINUTE,
        group_time_period: float = 60.0,
        private_max_rate: float = TELEGRAM_PRIVATE_MESSAGES_PER_SECOND,
        private_time_period: float = 1.0,
        paid_max_rate: float = TELEGRAM_PAID_MESSAGES_PER_SECOND,
        *,
        max_retries: int = 3,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._group_limit, self._group_period = _limit(group_max_rate), group_time_period
        self._private_limit, self._private_period = _limit(private_max_rate), private_time_period
        self._overall = _Window(_limit(overall_max_rate), overall_time_period)
        self._paid = _Window(_limit(paid_max_rate), 1.0)
        self._max_retries = max_retries
        self._margin = margin
        self._clock = clock
        self._sleep = sleep
        self._chats: dict[ChatKey | None, _Chat] = {}
        self._waiting: dict[int, _Chat] = {}  # id(chat) → chat, for chats with queued requests
        self._seq = itertools.count()
        self._timer: asyncio.Task[None] | None = None
        self._timer_at = math.inf
        self._sweep_at = 1024
        self.rate_limited = 0  # 429 answers seen (each one means our count missed something)

    @classmethod
    def from_settings(cls, messages_per_second: float, group_messages_per_minute: float) -> TelegramRateLimiter:
        """Herald's limiter from its settings. Settings above Telegram's own overall limit mean the
        server is not Telegram (tests, benchmarks): the per-private-chat limit, which has no setting
        of its own, is raised by the same factor then."""
        scale = max(1.0, messages_per_second / TELEGRAM_MESSAGES_PER_SECOND)
        return cls(
            overall_max_rate=messages_per_second,
            group_max_rate=group_messages_per_minute,
            private_max_rate=TELEGRAM_PRIVATE_MESSAGES_PER_SECOND * scale,
        )

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, math.inf

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | Booking | None,
    ) -> Result:
        count = messages_in(endpoint, data)
        booking = rate_limit_args if isinstance(rate_limit_args, Booking) else None
        if booking is not None and (booking.settled or booking.request.count != count):
            self.cancel(booking)  # not this request's room: it waits like any other
            booking = None
        if count == 0:
            return await callback(*args, **kwargs)
        max_retries = rate_limit_args if isinstance(rate_limit_args, int) else self._max_retries
        overall = self._paid if data.get("allow_paid_broadcast") else self._overall
        if booking is not None:
            booking.settled = True
            request = booking.request
        else:
            request = _Request(next(self._seq), count, self._chat(chat_key(data)), overall)
        for attempt in range(max_retries + 1):
            if booking is None or attempt > 0:
                await self._acquire(request)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as error:
                metrics.TELEGRAM_RATE_LIMITED.inc()
                self._rejected(request, retry_after_seconds(error))
                if attempt == max_retries:
                    log.warning("429 %d times to %s in chat %s", attempt + 1, endpoint, request.chat.key)
                    raise
                log.info("Telegram answered 429 to %s in chat %s; retrying", endpoint, request.chat.key)
            except BaseException:
                self._answered(request)  # maybe sent (timeout, cancellation…): counted, to be safe
                raise
            else:
                self._answered(request)
                return result
        raise AssertionError("unreachable")

    async def book(self, chat_id: ChatKey, count: int = 1) -> Booking:
        """Waits, in the chat's queue like a request, until `count` messages to `chat_id` may go now,
        and holds that room for the request made next with ``rate_limit_args=booking``.

        What a request needs that is costly to hold while waiting (an album's photo bytes) can be
        prepared after this returns: waiting for a channel's window holds only a place in the
        queue. A booking not used must be given back with `cancel`."""
        request = _Request(next(self._seq), max(1, count), self._chat(chat_id), self._overall)
        await self._acquire(request)
        return Booking(request)

    def cancel(self, booking: Booking) -> None:
        """Gives back the room of a booking that will not be used (no-op once used or cancelled)."""
        if not booking.settled:
            booking.settled = True
            self._release(booking.request)

    # -- Bookkeeping (synchronous: the event loop is the lock) ---------------------------------------

    def _chat(self, key: ChatKey | None) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            if key is None:
                window = None
            elif is_private(key):
                window = _Window(self._private_limit, self._private_period)
            else:
                window = _Window(self._group_limit, self._group_period)
            chat = self._chats[key] = _Chat(key, window)
            if len(self._chats) > self._sweep_at:
                self._forget_idle_chats()
        return chat

    def _forget_idle_chats(self) -> None:
        now = self._clock()
        for key, chat in list(self._chats.items()):
            if not chat.queue and (chat.window is None or chat.window.idle(now, self._margin)):
                del self._chats[key]
        self._sweep_at = max(1024, 2 * len(self._chats))

    async def _acquire(self, request: _Request) -> None:
        loop = asyncio.get_running_loop()
        request.granted = granted = loop.create_future()
        chat = request.chat
        # Oldest first within the chat: a retried request was at the head, so it goes back there.
        if chat.queue and chat.queue[0].seq > request.seq:
            chat.queue.appendleft(request)
        else:
            chat.queue.append(request)
        self._waiting[id(chat)] = chat
        self._pump()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release(request)  # granted, but the caller gave up before sending
            else:
                with contextlib.suppress(ValueError):
                    chat.queue.remove(request)
                if not chat.queue:
                    self._waiting.pop(id(chat), None)
                self._pump()
            raise

    def _windows(self, request: _Request) -> tuple[_Window, ...]:
        window = request.chat.window
        return (request.overall,) if window is None else (request.overall, window)

    def _grant(self, request: _Request, now: float) -> None:
        for window in self._windows(request):
            window.in_flight += request.count
        chat_window = request.chat.window
        request.chat_was_full = chat_window is not None and chat_window.used(now, self._margin) >= chat_window.limit
        assert request.granted is not None
        request.granted.set_result(None)

    def _release(self, request: _Request) -> None:
        for window in self._windows(request):
            window.in_flight -= request.count
        self._pump()

    def _answered(self, request: _Request) -> None:
        now = self._clock()
        for window in self._windows(request):
            window.in_flight -= request.count
            window.stamps.extend(itertools.repeat(now, request.count))
        self._pump()

    def _rejected(self, request: _Request, retry_after: float) -> None:
        """A 429: nothing was sent. Close the chat's window until retry_after, and the overall one
        too when the chat's own window cannot have been the reason."""
        self.rate_limited += 1
        now = self._clock()
        until = now + retry_after + self._margin
        window = request.chat.window
        if window is not None:
            window.blocked_until = max(window.blocked_until, until)
        if window is None or (not request.chat_was_full and retry_after <= request.overall.period + 1):
            request.overall.blocked_until = max(request.overall.blocked_until, until)
        self._release(request)

    def _pump(self) -> None:
        """Let through every waiting request that fits now, oldest first; set the timer for the rest."""
        now = self._clock()
        margin = self._margin
        wake = math.inf
        ready: list[tuple[int, int, _Chat]] = []
        for chat in list(self._waiting.values()):
            head = self._head(chat)
            if head is None:
                continue
            at = now if chat.window is None else chat.window.free_at(head.count, now, margin)
            if at is None:
                continue  # an answer in this chat will pump again
            if at <= now:
                ready.append((head.seq, id(chat), chat))
            else:
                wake = min(wake, at)
        heapq.heapify(ready)
        while ready:
            _, _, chat = ready[0]
            head = chat.queue[0]
            at = head.overall.free_at(head.count, now, margin)
            if at is None or at > now:
                if at is not None:
                    wake = min(wake, at)
                if head.overall is self._overall:
                    break  # the oldest request waits for the overall window; nobody overtakes it
                heapq.heappop(ready)
                continue
            heapq.heappop(ready)
            chat.queue.popleft()
            self._grant(head, now)
            following = self._head(chat)
            if following is None:
                continue
            at = now if chat.window is None else chat.window.free_at(following.count, now, margin)
            if at is not None and at <= now:
                heapq.heappush(ready, (following.seq, id(chat), chat))
            elif at is not None:
                wake = min(wake, at)
        self._arm(wake, now)

    def _head(self, chat: _Chat) -> _Request | None:
        """The chat's oldest request still waiting (a caller cancelled meanwhile is dropped)."""
        queue = chat.queue
        while queue and queue[0].granted is not None and queue[0].granted.done():
            queue.popleft()
        if queue:
            return queue[0]
        self._waiting.pop(id(chat), None)
        return None

    def _arm(self, wake: float, now: float) -> None:
        if wake == math.inf or wake >= self._timer_at:
            return  # nothing to wait for, or the timer set already goes off earlier
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = wake
        self._timer = asyncio.get_running_loop().create_task(self._tick(max(wake - now, 0.001)))

    async def _tick(self, delay: float) -> None:
        await self._sleep(delay)
        self._timer, self._timer_at = None, math.inf
        self._pump()


def _limit(rate: float) -> int:
    """Messages per window: a rate below one per window still lets one through."""
    return max(1, int(rate))
