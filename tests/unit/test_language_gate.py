"""The language each update is handled in (handlers/language.py), with the store in the way: an
unreachable store costs the person nothing but the remembering; groups are not written down."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Update

import i18n
from config import Settings
from handlers.common import SERVICES_KEY
from handlers.language import KNOWN_KEY, speak_their_language
from services import Services
from storage.models import User


class Users:
    """The two user methods of a store; `down` makes them fail as an unreachable database does."""

    def __init__(self) -> None:
        self.kept: dict[int, User] = {}
        self.down = False
        self.reads = 0

    async def get_user(self, user_id: int) -> User | None:
        self.reads += 1
        if self.down:
            raise ConnectionError("database unreachable")
        return self.kept.get(user_id)

    async def set_app_language(self, user_id: int, code: str | None) -> User:
        if self.down:
            raise ConnectionError("database unreachable")
        user = self.kept.setdefault(user_id, User(user_id))
        user.app_language = code
        return user


def _update(user_id: int, language: str, chat_type: str = "private") -> Update:
    chat_id = user_id if chat_type == "private" else -1001
    data: dict[str, Any] = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": user_id, "is_bot": False, "first_name": "P", "language_code": language},
            "text": "/start",
        },
    }
    return Update.de_json(data, None)


def _context(users: Users) -> Any:
    services = Services(store=users, settings=Settings(_env_file=None))  # type: ignore[arg-type,call-arg]
    return SimpleNamespace(bot_data={SERVICES_KEY: services})


@pytest.fixture(autouse=True)
def _english_after() -> Any:
    token = i18n.use("en")
    yield
    i18n._current.reset(token)


async def test_the_app_language_is_spoken_and_kept_once() -> None:
    users = Users()
    context = _context(users)
    await speak_their_language(_update(7, "ru"), context)
    assert i18n.current() == "ru"
    assert users.kept[7].app_language == "ru"
    await speak_their_language(_update(7, "ru"), context)
    assert users.reads == 1  # known now: no read per update
    # The app switched to English: spoken at once, and kept.
    await speak_their_language(_update(7, "en-GB"), context)
    assert i18n.current() == "en" and users.kept[7].app_language == "en-GB"


async def test_an_unreachable_store_speaks_the_apps_language_and_remembers_later() -> None:
    users = Users()
    users.down = True
    context = _context(users)
    await speak_their_language(_update(7, "ru"), context)
    assert i18n.current() == "ru"
    assert 7 not in context.bot_data.get(KNOWN_KEY, {})  # nothing cached from a failed read
    users.down = False
    await speak_their_language(_update(7, "ru"), context)
    assert users.kept[7].app_language == "ru"


async def test_a_choice_beats_the_app_and_a_group_member_is_not_written_down() -> None:
    users = Users()
    users.kept[7] = User(7, language="en", app_language="ru")
    context = _context(users)
    await speak_their_language(_update(7, "ru"), context)
    assert i18n.current() == "en"
    await speak_their_language(_update(8, "ru", chat_type="supergroup"), context)
    assert i18n.current() == "ru"
    assert 8 not in users.kept and users.reads == 1
