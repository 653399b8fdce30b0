"""Random sequences of texts, presses and photos never break the conversation, and all get an answer."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import texts
from tests.e2e.conftest import Person, bot_running, bot_settings
from tests.fakes.bot_api import FakeBotAPI

CHANNEL = -1003000000001
TEXTS = [
    "/new",
    "/cancel",
    "/start",
    "/help",
    "/timezone",
    "Berlin",
    "in 2 hours",
    "tomorrow 9am",
    "2020-01-01 10:00",
    "hello",
    "",
    "🎉" * 3,
    "x" * 1100,
    "/scheduled",
    "Tokyo",
]
LABELS = [
    "Telegram (this bot)",
    "Shop",
    "Select all",
    "Done",
    "No images",
    "No caption",
    "In 1 hour",
    "Post now",
    "Schedule",
    "Change time",
    "Cancel",
    "Refresh",
    "Cancel post",
    "Yes, cancel it",
    "Keep it",
]
FORGED = ["new:t:tg-1", "post:cancel:ffffffffffff", "new:pg:99", "tz:set:Mars/Base", "menu:nothing", "garbage"]

actions = st.lists(
    st.one_of(
        st.tuples(st.just("text"), st.sampled_from(TEXTS)),
        st.tuples(st.just("press"), st.sampled_from(LABELS)),
        st.tuples(st.just("forge"), st.sampled_from(FORGED)),
        st.tuples(st.just("photo"), st.integers(min_value=1, max_value=3)),
        st.tuples(st.just("sticker"), st.just("")),
    ),
    min_size=1,
    max_size=10,
)
users = itertools.count(10_000)


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def live_bot(api: FakeBotAPI, tmp_path: Path, encryption_key: str) -> AsyncIterator[FakeBotAPI]:
    api.add_chat(CHANNEL, "channel", "Shop")
    async with bot_running(bot_settings(api, f"sqlite:///{tmp_path}/random.db", encryption_key)):
        yield api


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
async def test_random_input_is_always_answered_and_never_crashes(
    live_bot: FakeBotAPI, steps: list[tuple[str, object]]
) -> None:
    api = live_bot
    user_id = next(users)
    api.add_user(user_id, "Random")
    api.set_member(CHANNEL, user_id, "administrator")
    api.bot_added_to_chat(CHANNEL, user_id)
    person = Person(api, user_id)
    errors = ErrorCounter()
    logging.getLogger().addHandler(errors)
    try:
        for kind, value in steps:
            before = person.snapshot()
            answered = len(api.callback_answers)
            if kind == "text":
                api.send_text(user_id, str(value) or " ")
                await person.wait_changed(before)
            elif kind in ("press", "forge"):
                if kind == "press":
                    try:
                        message_id, data = person.find_button(str(value))
                    except AssertionError:
                        continue  # no such button on screen: a person could not press it
                else:
                    message_id, data = (person.last()["message_id"] if person.count() else 1), str(value)
                api.press(user_id, message_id, data)
                await person.wait_answered(answered)
            elif kind == "photo":
                await person.send_photos([b"\xff\xd8" + bytes([n]) * 50 for n in range(int(str(value)))])
                await person.wait_changed(before)
            else:
                api.send_sticker(user_id)
                await person.wait_changed(before)
        assert not errors.records, [r.getMessage() for r in errors.records]
        assert all(m.get("text") != texts.SOMETHING_WENT_WRONG for m in person.bot_messages())
    finally:
        logging.getLogger().removeHandler(errors)
