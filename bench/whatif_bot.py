"""`python bot.py` with suggested fixes applied at start-up (monkeypatches in this process only),
for the what-if runs of bench.responsiveness and bench.telegram_ceiling (`--whatif ...`).

    HERALD_WHATIF=concurrent,limiter python -m bench.whatif_bot [worker]

  concurrent  bot.py build_application: `.concurrent_updates(32)` — handle up to 32 updates at once
              instead of one after another (PTB's default).
  limiter     bot.py build_application: a sliding-window rate limiter in place of AIORateLimiter,
              counting what Telegram counts — every item of an album is a message; only methods
              that post a message are counted (getChatMember, answerCallbackQuery… are not); 1 per
              second per private chat too — and retrying a 429 on a private chat (the owner's
              report) instead of giving up at once.
  slots       scheduler/jobs.py: Publication(..., concurrency=64) instead of the default 8, so that
              posts waiting for one channel's window do not hold every publication slot while
              other channels are free (the rate limiter, not the slots, bounds the sending rate).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import ApplicationBuilder, BaseRateLimiter

MESSAGE_METHODS = frozenset(
    {
        "sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument", "sendVideo", "sendAnimation",
        "sendAudio", "sendVoice", "sendSticker", "copyMessage", "forwardMessage",
    }
)  # fmt: skip


class Window:
    """At most `limit` messages in any `period` seconds (what Telegram and the fake enforce)."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.sent: deque[float] = deque()
        self.lock = asyncio.Lock()

    def wait_for(self, count: int, now: float) -> float:
        while self.sent and self.sent[0] <= now - self.period * 1.01 - 0.05:
            self.sent.popleft()
        if not self.sent or len(self.sent) + count <= self.limit:
            return 0.0
        must_expire = min(len(self.sent) - 1, len(self.sent) + count - self.limit - 1)
        # A margin: the server stamps a message a little after we do.
        return self.sent[must_expire] + self.period * 1.01 + 0.05 - now


class SlidingWindowRateLimiter(BaseRateLimiter[int]):
    def __init__(self, overall_max_rate: float = 30, group_max_rate: float = 20, **_: Any) -> None:
        self.overall = Window(int(overall_max_rate), 1.0)
        self.group_rate = int(group_max_rate)
        self.chats: dict[int | str, Window] = {}
        self.lock = asyncio.Lock()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _chat(self, chat_id: int | str) -> Window:
        window = self.chats.get(chat_id)
        if window is None:
            private = isinstance(chat_id, int) and chat_id > 0
            window = self.chats[chat_id] = Window(1, 1.0) if private else Window(self.group_rate, 60.0)
        return window

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in MESSAGE_METHODS:
            return await callback(*args, **kwargs)
        count = len(data.get("media") or []) if endpoint == "sendMediaGroup" else 1
        chat_id = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        windows = [self.overall] + ([self._chat(chat_id)] if chat_id is not None else [])
        retries = 3 if isinstance(chat_id, int) and chat_id > 0 else 0
        for attempt in range(retries + 1):
            while True:
                async with self.lock:
                    now = time.monotonic()
                    wait = max(window.wait_for(count, now) for window in windows)
                    if wait <= 0:
                        for window in windows:
                            window.sent.extend([now] * count)
                        break
                await asyncio.sleep(wait)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                value: Any = getattr(error, "_retry_after", 1)
                await asyncio.sleep((value.total_seconds() if hasattr(value, "total_seconds") else float(value)) + 0.1)
        raise AssertionError("unreachable")


def apply(patches: set[str]) -> None:
    import bot

    if "concurrent" in patches:
        original_build = ApplicationBuilder.build

        def build(self: Any) -> Any:
            self.concurrent_updates(32)
            return original_build(self)

        ApplicationBuilder.build = build  # type: ignore[method-assign]
    if "limiter" in patches:
        setattr(bot, "AIORateLimiter", SlidingWindowRateLimiter)  # noqa: B010 - replaces bot.py's import
    if "slots" in patches:
        from scheduler.engine import Publication

        original_init = Publication.__init__

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("concurrency", 64)
            original_init(self, *args, **kwargs)

        Publication.__init__ = init  # type: ignore[method-assign]


def main() -> int:
    patches = {p for p in os.environ.get("HERALD_WHATIF", "").split(",") if p}
    apply(patches)
    import bot

    return bot.main(["bot.py", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
