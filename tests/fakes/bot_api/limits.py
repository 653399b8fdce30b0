"""Telegram's limits: text and caption lengths in UTF-16 code units, callback data, file sizes, and
the flood limits (messages per chat and per bot in sliding windows) answered with 429."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from tests.fakes.bot_api.errors import too_many_requests

# Telegram counts both in UTF-16 code units (see utf16_len), after entities are parsed out.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the most getFile serves a bot
UPLOAD_LIMIT = 50 * 1024 * 1024


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class RateLimits:
    """Flood limits applied when `enforce_limits` is on (sliding windows, in messages)."""

    per_bot: int = 30
    per_bot_window: float = 1.0
    per_group: int = 20
    per_group_window: float = 60.0
    per_private: int = 1
    per_private_window: float = 1.0


class FloodWindows:
    """The messages a bot posted lately, bot-wide and per chat, held against `RateLimits`."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._bot: deque[float] = deque()
        self._chats: dict[int, deque[float]] = {}

    def take(self, chat_id: int, private: bool, count: int) -> None:
        """Notes `count` messages to the chat now, or raises 429 with the seconds until they fit."""
        now = time.monotonic()
        limits = self.limits
        in_chat = self._chats.setdefault(chat_id, deque())
        windows = [
            (self._bot, limits.per_bot, limits.per_bot_window),
            (in_chat, limits.per_private, limits.per_private_window)
            if private
            else (in_chat, limits.per_group, limits.per_group_window),
        ]
        wait = 0.0
        for times, limit, window in windows:
            while times and times[0] <= now - window:
                times.popleft()
            if times and len(times) + count > limit:
                must_expire = min(len(times) - 1, len(times) + count - limit - 1)
                wait = max(wait, times[must_expire] + window - now)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for times, _, _ in windows:
            times.extend([now] * count)
