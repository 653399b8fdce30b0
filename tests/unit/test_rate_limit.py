"""publishers/rate_limit.py: Telegram's flood limits counted the way Telegram counts them.

Most tests run on an event loop with virtual time (asyncio.sleep and the limiter's clock jump ahead
instead of waiting), against a stand-in for Telegram's side that stamps every message at a random
moment between request and answer and answers 429 when a window is exceeded. The last test uses
the real pieces: the fake Bot API over HTTP with its limits on, and PTB's ExtBot with the limiter.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import selectors
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from telegram import InputMediaPhoto
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from publishers.rate_limit import TelegramRateLimiter, is_private, messages_in
from tests.fakes.bot_api import SAMPLE_JPEG, FakeBotAPI, RateLimits

T = TypeVar("T")
CHANNEL, OTHER_CHANNEL = -1001000000001, -1001000000002
ALICE, BOB = 42, 43
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


# -- Virtual time ------------------------------------------------------------------------------------


class _VirtualSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Instead of sleeping until the next timer, moves the loop's clock there."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:  # nothing scheduled: only another thread could wake us
            events: list[tuple[selectors.SelectorKey, int]] = super().select(5.0)
            if not events:
                raise RuntimeError("deadlock: every task waits and no timer is set")
            return events
        self.now += max(timeout, 0.0)
        result: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        return result


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._virtual = _VirtualSelector()
        super().__init__(self._virtual)

    def time(self) -> float:
        return self._virtual.now


def run_virtual(main: Callable[[asyncio.AbstractEventLoop], Coroutine[Any, Any, T]]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main(loop))
    finally:
        loop.close()


# -- Telegram's side ---------------------------------------------------------------------------------


class Telegram:
    """Stamps each message somewhere between request and answer; sliding windows as Telegram's."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        per_bot: int = 30,
        per_group: int = 20,
        group_window: float = 60.0,
        latency: tuple[float, float] = (0.01, 0.3),
        seed: int = 7,
    ) -> None:
        self.loop = loop
        self.per_bot, self.per_group, self.group_window = per_bot, per_group, group_window
        self.latency = latency
        self.rng = random.Random(seed)
        self.stamps: dict[int | str, list[float]] = {}
        self.overall: list[float] = []
        self.rejected = 0
        self.calls: list[tuple[str, int | str | None, float]] = []  # method, chat, time the request left
        self.refuse: dict[int | str, deque[int]] = {}  # chat → retry_after of the next answers 429
        self.slow: dict[int | str, tuple[float, float]] = {}  # chat → (before stamp, after stamp) seconds

    def limiter(self, **kwargs: Any) -> TelegramRateLimiter:
        kwargs.setdefault("overall_max_rate", self.per_bot)
        kwargs.setdefault("group_max_rate", self.per_group)
        kwargs.setdefault("group_time_period", self.group_window)
        return TelegramRateLimiter(clock=self.loop.time, **kwargs)

    def _wait(self, times: list[float], limit: int, window: float, now: float, count: int) -> float:
        inside = [t for t in times if t > now - window]
        if inside and len(inside) + count > limit:
            return inside[min(len(inside) - 1, len(inside) + count - limit - 1)] + window - now
        return 0.0

    async def call(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        chat = data.get("chat_id")
        self.calls.append((endpoint, chat, self.loop.time()))
        before, after = self.slow.get(chat, (self.rng.uniform(*self.latency), self.rng.uniform(*self.latency)))  # type: ignore[arg-type]
        await asyncio.sleep(before)
        now = self.loop.time()
        count = messages_in(endpoint, data)
        if count and chat is not None:
            refuse = self.refuse.get(chat)
            if refuse:
                self.rejected += 1
                raise RetryAfter(refuse.popleft())
            times = self.stamps.setdefault(chat, [])
            private = is_private(chat)
            wait = max(
                self._wait(self.overall, self.per_bot, 1.0, now, count),
                self._wait(times, 1, 1.0, now, count) if private else 0.0,
                0.0 if private else self._wait(times, self.per_group, self.group_window, now, count),
            )
            if wait > 0:
                self.rejected += 1
                raise RetryAfter(max(1, math.ceil(wait)))
            times.extend([now] * count)
            self.overall.extend([now] * count)
        await asyncio.sleep(after)
        return {"ok": True}

    async def send(self, limiter: TelegramRateLimiter, endpoint: str, chat: int | str | None, items: int = 1) -> float:
        """One call through the limiter; returns the time it was answered."""
        data: dict[str, Any] = {} if chat is None else {"chat_id": chat}
        if endpoint == "sendMediaGroup":
            data["media"] = [f"photo {n}" for n in range(items)]
        await limiter.process_request(self.call, (endpoint, data), {}, endpoint, data, None)
        return self.loop.time()


def most_in_any_window(stamps: list[float], window: float) -> int:
    """The largest number of stamps in any (t - window, t]."""
    ordered = sorted(stamps)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


# -- What counts -------------------------------------------------------------------------------------


def test_what_telegram_counts_as_messages() -> None:
    assert messages_in("sendMediaGroup", {"media": [1, 2, 3]}) == 3
    assert messages_in("sendMessage", {"chat_id": 1}) == 1
    assert messages_in("copyMessage", {}) == messages_in("forwardMessage", {}) == 1
    assert messages_in("forwardMessages", {"message_ids": [1, 2]}) == 2
    for method in ("getChatMember", "answerCallbackQuery", "editMessageText", "getUpdates", "deleteMessage", "getMe"):
        assert messages_in(method, {"chat_id": 1}) == 0
    assert is_private(42) and not is_private(-1001) and not is_private("@shop")


def test_an_album_is_counted_by_its_items() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> list[float]:
        telegram = Telegram(loop, latency=(0.01, 0.01))
        limiter = telegram.limiter()
        # 7 albums of 3 photos = 21 messages: the 7th album does not fit in the first minute.
        return list(await asyncio.gather(*(telegram.send(limiter, "sendMediaGroup", CHANNEL, 3) for _ in range(7))))

    answered = run_virtual(main)
    assert sorted(answered)[5] < 1
    assert sorted(answered)[6] >= 60


def test_methods_that_post_no_message_pass_straight_through() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> Telegram:
        telegram = Telegram(loop, latency=(0.01, 0.01))
        limiter = telegram.limiter()
        await asyncio.gather(*(telegram.send(limiter, "sendMessage", CHANNEL) for _ in range(20)))  # window full
        started = loop.time()
        for method in ("getChatMember", "editMessageText", "answerCallbackQuery", "getChat", "deleteMessage"):
            await asyncio.gather(*(telegram.send(limiter, method, CHANNEL) for _ in range(30)))
        assert loop.time() - started < 1  # none of them waited for the full window
        # …and they spent nothing: the 21st message waits for the first minute only.
        answered = await telegram.send(limiter, "sendMessage", CHANNEL)
        assert 60 <= answered - started < 61
        return telegram

    assert run_virtual(main).rejected == 0


def test_200_concurrent_callers_never_exceed_any_window() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> tuple[Telegram, float]:
        telegram = Telegram(loop, latency=(0.005, 0.4), seed=11)
        limiter = telegram.limiter()
        rng = random.Random(3)
        calls = []
        chats: list[int | str] = [CHANNEL, OTHER_CHANNEL, "@shop", ALICE, BOB, 44, 45]
        for n in range(200):
            chat = rng.choice(chats)
            if is_private(chat):
                calls.append(telegram.send(limiter, "sendMessage", chat))
            else:
                calls.append(telegram.send(limiter, "sendMediaGroup", chat, 1 + n % 3))
            if n % 4 == 0:
                calls.append(telegram.send(limiter, "getChatMember", chat))
        answered = await asyncio.gather(*calls)
        return telegram, max(answered)

    telegram, finished = run_virtual(main)
    assert telegram.rejected == 0
    for chat, stamps in telegram.stamps.items():
        if is_private(chat):
            assert most_in_any_window(stamps, 1.0) <= 1, chat
        else:
            assert most_in_any_window(stamps, 60.0) <= 20, chat
    assert most_in_any_window(telegram.overall, 1.0) <= 30
    # Not slower than it must be: the busiest channel's messages need ceil(n / 20) minutes.
    busiest = max(len(s) for chat, s in telegram.stamps.items() if not is_private(chat))
    ideal = (math.ceil(busiest / 20) - 1) * 60
    assert finished <= ideal + 0.1 * 60 * math.ceil(busiest / 20) + 5, (finished, ideal)


def test_one_message_per_second_per_private_chat_and_chats_in_parallel() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> Telegram:
        telegram = Telegram(loop, latency=(0.01, 0.05))
        limiter = telegram.limiter()
        await asyncio.gather(*(telegram.send(limiter, "sendMessage", chat) for chat in [ALICE] * 5 + [BOB] * 5))
        assert loop.time() < 5.5  # both people's five messages in about 4 s, not 9
        return telegram

    telegram = run_virtual(main)
    assert telegram.rejected == 0
    for person in (ALICE, BOB):
        stamps = telegram.stamps[person]
        assert len(stamps) == 5 and all(b - a >= 1 for a, b in itertools.pairwise(stamps))


def test_a_stamp_is_moved_to_the_answer_time() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> list[tuple[str, int | str | None, float]]:
        telegram = Telegram(loop)
        limiter = telegram.limiter()
        telegram.slow[ALICE] = (2.9, 0.1)  # a slow upload: stamped at 2.9 s, answered at 3 s
        first = asyncio.ensure_future(telegram.send(limiter, "sendMessage", ALICE))
        await asyncio.sleep(0.5)
        telegram.slow[ALICE] = (0.01, 0.01)
        await telegram.send(limiter, "sendMessage", ALICE)
        await first
        assert telegram.rejected == 0
        return telegram.calls

    calls = run_virtual(main)
    # While the first is in flight it counts as "now"; once answered (3 s) the chat's second starts then.
    assert [c[0] for c in calls] == ["sendMessage", "sendMessage"]
    assert 4.0 <= calls[1][2] <= 4.1, calls


def test_a_429_is_retried_after_retry_after_and_closes_the_chat_window_meanwhile() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> None:
        telegram = Telegram(loop, latency=(0.01, 0.01))
        limiter = telegram.limiter()
        telegram.refuse[CHANNEL] = deque([7])  # someone else (another process) filled the channel
        first = asyncio.ensure_future(telegram.send(limiter, "sendMessage", CHANNEL))
        await asyncio.sleep(0.1)
        second = asyncio.ensure_future(telegram.send(limiter, "sendMessage", CHANNEL))
        elsewhere = await telegram.send(limiter, "sendMessage", OTHER_CHANNEL)
        assert elsewhere < 1  # another channel is not held up by this one's 429
        assert 7 <= await first < 7.5
        assert 7 <= await second < 7.5
        assert telegram.rejected == 1 and limiter.rate_limited == 1
        assert [t for _, chat, t in telegram.calls if chat == CHANNEL][1] >= 7  # nothing sent meanwhile

    run_virtual(main)


def test_a_429_from_the_overall_limit_holds_every_chat() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> None:
        telegram = Telegram(loop, latency=(0.01, 0.01))
        limiter = telegram.limiter()
        telegram.refuse[CHANNEL] = deque([1])  # the channel's own window is nearly empty: the bot-wide one
        first = asyncio.ensure_future(telegram.send(limiter, "sendMessage", CHANNEL))
        await asyncio.sleep(0.1)
        assert 1 <= await telegram.send(limiter, "sendMessage", ALICE) < 1.5
        assert 1 <= await first < 1.5

    run_virtual(main)


def test_retry_after_is_raised_after_the_retries() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> None:
        telegram = Telegram(loop, latency=(0.01, 0.01))
        limiter = telegram.limiter(max_retries=2)
        telegram.refuse[CHANNEL] = deque([5, 5, 5])
        with pytest.raises(RetryAfter):
            await telegram.send(limiter, "sendMessage", CHANNEL)
        assert telegram.rejected == 3 and 10 <= loop.time() < 11
        # The reservations were freed: the channel's window is empty once its block ends.
        answered = await asyncio.gather(*(telegram.send(limiter, "sendMessage", CHANNEL) for _ in range(20)))
        assert max(answered) < 16.5 and telegram.rejected == 3

    run_virtual(main)


def test_nobody_overtakes_the_oldest_request_on_the_overall_window() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> Telegram:
        telegram = Telegram(loop, per_bot=3, latency=(0.01, 0.01))
        limiter = telegram.limiter()
        await telegram.send(limiter, "sendMessage", ALICE)  # 1 of the 3 per second
        album = asyncio.ensure_future(telegram.send(limiter, "sendMediaGroup", CHANNEL, 3))  # waits for 3 free
        await asyncio.sleep(0)
        message = asyncio.ensure_future(telegram.send(limiter, "sendMessage", BOB))  # 1 would fit at once
        assert await message >= await album >= 1
        return telegram

    assert run_virtual(main).rejected == 0


def test_a_caller_that_gives_up_while_waiting_frees_its_place() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> None:
        telegram = Telegram(loop, latency=(0.01, 0.01))
        limiter = telegram.limiter()
        await telegram.send(limiter, "sendMessage", ALICE)
        waiting = asyncio.ensure_future(telegram.send(limiter, "sendMessage", ALICE))
        behind = asyncio.ensure_future(telegram.send(limiter, "sendMessage", ALICE))
        await asyncio.sleep(0.2)
        waiting.cancel()
        assert await behind < 1.2  # took the cancelled caller's turn
        assert len(telegram.stamps[ALICE]) == 2

    run_virtual(main)


# -- The real pieces ---------------------------------------------------------------------------------


def test_a_booking_waits_its_turn_and_its_request_then_goes_at_once() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> Telegram:
        telegram = Telegram(loop, latency=(0.01, 0.01))
        limiter = telegram.limiter()
        await asyncio.gather(*(telegram.send(limiter, "sendMediaGroup", CHANNEL, 2) for _ in range(10)))  # full
        started = loop.time()
        booking = await limiter.book(CHANNEL, 2)
        assert loop.time() - started >= 59  # waited for the window, holding nothing else
        prepared = loop.time()
        # The room is held while the request is prepared (photos read): nine more albums fill the
        # rest of the window, and a tenth has to wait for the next minute.
        await asyncio.gather(*(telegram.send(limiter, "sendMediaGroup", CHANNEL, 2) for _ in range(9)))
        other = asyncio.create_task(telegram.send(limiter, "sendMediaGroup", CHANNEL, 2))
        await asyncio.sleep(5)
        assert not other.done()
        data: dict[str, Any] = {"chat_id": CHANNEL, "media": ["a", "b"]}
        await limiter.process_request(telegram.call, ("sendMediaGroup", data), {}, "sendMediaGroup", data, booking)
        assert loop.time() - prepared < 5.5  # the booked request did not wait again
        assert await other - started >= 119
        return telegram

    telegram = run_virtual(main)
    assert telegram.rejected == 0
    assert most_in_any_window(telegram.stamps[CHANNEL], 60.0) <= 20


def test_a_cancelled_booking_gives_its_room_back() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> float:
        telegram = Telegram(loop, latency=(0.01, 0.01))
        limiter = telegram.limiter()
        await asyncio.gather(*(telegram.send(limiter, "sendMessage", CHANNEL) for _ in range(19)))
        booking = await limiter.book(CHANNEL, 1)  # the last place of the minute
        limiter.cancel(booking)
        limiter.cancel(booking)  # twice is harmless
        started = loop.time()
        await telegram.send(limiter, "sendMessage", CHANNEL)  # gets that place at once
        return loop.time() - started

    assert run_virtual(main) < 1


def test_a_booking_for_another_request_is_not_used_by_this_one() -> None:
    async def main(loop: asyncio.AbstractEventLoop) -> Telegram:
        telegram = Telegram(loop, latency=(0.01, 0.01))
        limiter = telegram.limiter()
        await asyncio.gather(*(telegram.send(limiter, "sendMessage", CHANNEL) for _ in range(19)))
        booking = await limiter.book(CHANNEL, 1)
        data: dict[str, Any] = {"chat_id": CHANNEL, "media": ["a", "b", "c"]}  # 3 messages, 1 booked
        started = loop.time()
        await limiter.process_request(telegram.call, ("sendMediaGroup", data), {}, "sendMediaGroup", data, booking)
        assert loop.time() - started >= 59  # it waited for room for all three
        return telegram

    telegram = run_virtual(main)
    assert telegram.rejected == 0
    assert most_in_any_window(telegram.stamps[CHANNEL], 60.0) <= 20


async def test_albums_and_private_messages_through_the_fake_bot_api_without_a_429() -> None:
    """PTB's ExtBot with the limiter against the fake Bot API enforcing (scaled-down) limits over HTTP."""
    limits = RateLimits(per_bot=12, per_bot_window=1.0, per_group=8, per_group_window=3.0)
    people = [100 + n for n in range(6)]
    async with FakeBotAPI(enforce_limits=True, limits=limits) as api:
        for person in people:
            api.add_user(person, f"Person {person}")
        for channel in (CHANNEL, OTHER_CHANNEL):
            api.add_chat(channel, "channel", "Shop news")
        limiter = TelegramRateLimiter(
            overall_max_rate=limits.per_bot, group_max_rate=limits.per_group, group_time_period=limits.per_group_window
        )
        bot = ExtBot(api.token, base_url=api.base_url, base_file_url=api.base_file_url, rate_limiter=limiter)
        async with bot:
            started = time.monotonic()
            albums = [
                bot.send_media_group(channel, [InputMediaPhoto(SAMPLE_JPEG), InputMediaPhoto(SAMPLE_JPEG)])
                for n in range(45)
                for channel in [(CHANNEL, OTHER_CHANNEL)[n % 2]]
            ]
            messages = [bot.send_message(person, f"report {n}") for n in range(3) for person in people]
            checks = [bot.get_chat_member(CHANNEL, people[0]) for _ in range(10)]
            await asyncio.gather(*albums, *messages, *checks)
            elapsed = time.monotonic() - started
        assert api.rate_limited == 0
        assert len(api.bot_messages(CHANNEL)) == 46 and len(api.bot_messages(OTHER_CHANNEL)) == 44
        assert all(len(api.bot_messages(person)) == 3 for person in people)
    # Ideal: 46 messages at 8 per 3 s → the 6th window opens at 15 s; allow the margins and latency.
    assert 15 <= elapsed < 15 * 1.15 + 2, elapsed
