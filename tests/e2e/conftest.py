"""End-to-end fixtures: bot.py's real Application polling the fake Bot API, and a person to drive it."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot import running_bot
from config import Settings, load_settings
from storage import Store, build_store
from tests.conftest import opened
from tests.fakes.bot_api import FakeBotAPI

ALICE, BOB = 501, 502


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI()
    await server.start()
    server.add_user(ALICE, "Alice", "alice")
    server.add_user(BOB, "Bob", "bob")
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(params=["sqlite", "mongo"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/herald.db"
    url: str = request.getfixturevalue("mongo_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/herald.db"


def bot_settings(api: FakeBotAPI, database_url: str, encryption_key: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": api.token,
        "telegram_api_url": api.url,
        "database_url": database_url,
        "encryption_key": encryption_key,
        "scheduler_interval": 1,
        "claim_lease": 10,
        "telegram_group_messages_per_minute": 6000,
        "telegram_messages_per_second": 3000,
        "_env_file": None,
    }
    if not database_url.startswith("sqlite:///"):
        # Herald's own files (worker lock files) in a folder of this test's, not the working folder.
        values["data_dir"] = tempfile.mkdtemp(prefix="herald-data-")
    values.update(overrides)
    return load_settings(**values)


@asynccontextmanager
async def bot_running(settings: Settings) -> AsyncIterator[Store]:
    """The bot polling until the block ends; yields a second store on the same database."""
    async with running_bot(settings), opened(build_store(settings)) as observer:
        yield observer


@pytest.fixture
def alice(api: FakeBotAPI) -> Person:
    """Alice in her private chat with the bot (test modules give her chats by overriding this)."""
    return Person(api, ALICE)


def _content(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "") + repr(message.get("reply_markup"))


class Person:
    """Drives the bot the way a person does in their private chat, and reads what it says."""

    def __init__(self, api: FakeBotAPI, user_id: int) -> None:
        self.api = api
        self.user_id = user_id

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.api.bot_messages(self.user_id) if not m.get("deleted")]

    def last(self) -> dict[str, Any]:
        messages = self.bot_messages()
        assert messages, "the bot has said nothing"
        return messages[-1]

    def count(self) -> int:
        return len(self.bot_messages())

    def snapshot(self) -> dict[int, str]:
        """What each bot message says now, to tell new or edited ones apart later."""
        return {m["message_id"]: _content(m) for m in self.bot_messages()}

    async def expect(self, needle: str, since: dict[int, str] | None = None, timeout: float = 8.0) -> dict[str, Any]:
        """The first bot message, new or changed since `since`, that contains `needle`."""
        since = since or {}
        found: list[dict[str, Any]] = []

        def seen() -> bool:
            for message in self.bot_messages():
                changed = since.get(message["message_id"]) != _content(message)
                if changed and needle in str(message.get("text") or message.get("caption") or ""):
                    found.append(message)
                    return True
            return False

        await self.api.wait_for(seen, timeout=timeout)
        return found[0]

    async def say(self, text: str, expect: str | None = None) -> dict[str, Any] | None:
        before = self.snapshot()
        self.api.send_text(self.user_id, text)
        return await self.expect(expect, since=before) if expect else None

    async def send_photos(self, images: list[bytes], captions: list[str | None] | None = None) -> None:
        if len(images) == 1:
            self.api.send_photo(self.user_id, images[0], caption=(captions or [None])[0])
        else:
            self.api.send_album(self.user_id, images, captions)

    def find_button(self, label: str) -> tuple[int, str]:
        """(message id, callback data) of the newest button whose label contains `label`."""
        for message in reversed(self.bot_messages()):
            markup = message.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if label in button.get("text", "") and "callback_data" in button:
                        return message["message_id"], button["callback_data"]
        raise AssertionError(f"no button {label!r} in {[m.get('reply_markup') for m in self.bot_messages()[-3:]]}")

    async def press(self, label: str, expect: str | None = None) -> dict[str, Any] | None:
        message_id, data = self.find_button(label)
        return await self.press_data(message_id, data, expect)

    async def press_data(self, message_id: int, data: str, expect: str | None = None) -> dict[str, Any] | None:
        """Presses a button (real or forged) and waits until the bot answers the press."""
        answered = len(self.api.callback_answers)
        before = self.snapshot()
        self.api.press(self.user_id, message_id, data)
        await self.api.wait_for(lambda: len(self.api.callback_answers) > answered, timeout=8)
        return await self.expect(expect, since=before) if expect else None

    async def wait_changed(self, before: dict[int, str], timeout: float = 8.0) -> None:
        """Waits until the bot sends or edits something after `before`."""
        await self.api.wait_for(lambda: self.snapshot() != before, timeout=timeout)

    async def wait_answered(self, answered: int, timeout: float = 8.0) -> None:
        """Waits until more than `answered` button presses have been answered."""
        await self.api.wait_for(lambda: len(self.api.callback_answers) > answered, timeout=timeout)

    def last_answer(self) -> dict[str, Any]:
        return dict(self.api.callback_answers[-1])

    def answers(self) -> list[dict[str, Any]]:
        return list(self.api.callback_answers)


async def eventually(check: Callable[[], Any], timeout: float = 8.0) -> Any:
    """Polls an async or plain check until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
