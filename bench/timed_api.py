"""The fake Bot API (tests/fakes/bot_api/) with a clock on what the bot shows people, and a
light person to drive it: the moment a bot message is sent or edited is noted when the fake
server records it, so slow test code cannot inflate the measured answer time."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.fakes.bot_api import BotAPIError, FakeBotAPI


@dataclass
class Shown:
    """A bot message as it was sent or edited, and when (time.monotonic())."""

    at: float
    message_id: int
    text: str
    markup: dict[str, Any] | None


class TimedBotAPI(FakeBotAPI):
    """FakeBotAPI that keeps, per chat, every bot message and edit with its time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shown: dict[int, list[Shown]] = {}
        self._signals: dict[int, asyncio.Event] = {}
        # 429s given, by (chat type, messages asked for): which limit bit.
        self.limited: Counter[tuple[str, int]] = Counter()

    def _note(self, message: Any) -> None:
        if not message.from_bot:
            return
        text = str(message.text or message.caption or "")
        self.shown.setdefault(message.chat_id, []).append(
            Shown(time.monotonic(), message.message_id, text, message.reply_markup)
        )
        signal = self._signals.get(message.chat_id)
        if signal is not None:
            signal.set()

    def _new_message(self, chat: Any, *, kind: str, from_user: Any = None, **fields: Any) -> Any:
        message = super()._new_message(chat, kind=kind, from_user=from_user, **fields)
        self._note(message)
        return message

    def _take_rate(self, chat: Any, count: int) -> None:
        try:
            super()._take_rate(chat, count)
        except BotAPIError:
            self.limited[(chat.type, count)] += 1
            raise

    def _apply_edit(self, message: Any, **changes: Any) -> dict[str, Any]:
        result = super()._apply_edit(message, **changes)
        self._note(message)
        return result

    async def shown_after(self, chat_id: int, index: int, needle: str, timeout: float) -> Shown | None:
        """The first message or edit in the chat at position ≥ `index` containing `needle`."""
        deadline = time.monotonic() + timeout
        while True:
            for item in self.shown.get(chat_id, [])[index:]:
                if needle in item.text:
                    return item
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            signal = self._signals.setdefault(chat_id, asyncio.Event())
            signal.clear()
            try:
                await asyncio.wait_for(signal.wait(), remaining)
            except TimeoutError:
                return None


class Timeout(Exception):
    pass


class Driver:
    """One person in their private chat: each step notes how long the bot took to show `expect`."""

    def __init__(self, api: TimedBotAPI, user_id: int, timeout: float = 30.0) -> None:
        self.api = api
        self.user_id = user_id
        self.timeout = timeout
        self.samples: list[tuple[str, float]] = []

    def _button(self, label: str) -> tuple[int, str]:
        for item in reversed(self.api.shown.get(self.user_id, [])):
            for row in (item.markup or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button.get("text", "") and "callback_data" in button:
                        return item.message_id, str(button["callback_data"])
        raise AssertionError(f"user {self.user_id}: no button {label!r}")

    async def _step(self, name: str, act: Any, expect: str) -> None:
        index = len(self.api.shown.get(self.user_id, []))
        started = time.monotonic()
        act()
        shown = await self.api.shown_after(self.user_id, index, expect, self.timeout)
        if shown is None:
            raise Timeout(f"user {self.user_id}: no {expect!r} within {self.timeout} s after {name}")
        self.samples.append((name, shown.at - started))

    async def say(self, text: str, expect: str, name: str | None = None) -> None:
        await self._step(name or text, lambda: self.api.send_text(self.user_id, text), expect)

    async def press(self, label: str, expect: str) -> None:
        message_id, data = self._button(label)
        await self._step(f"press {label}", lambda: self.api.press(self.user_id, message_id, data), expect)
