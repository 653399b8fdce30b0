"""Languages end to end: a Russian-speaking person goes through New post in Russian, switches with
/language (the command menu of their chat follows), gets their report in Russian with the
platform's reason translated; DEFAULT_LANGUAGE for an app language Herald lacks."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import i18n
from config import Settings
from handlers import texts
from handlers.language import AUTOMATIC, LANGUAGE
from storage.models import PostStatus, PostView
from tests.e2e.conftest import ALICE, Person, bot_running, bot_settings, eventually
from tests.e2e.steps import add_channels, add_chat, settled
from tests.fakes.bot_api import FakeBotAPI

OLGA, HANS = 3003, 4004
SHOP, NEWS = -1001234567890, -1001234567891
PHOTO = bytes([0xFF, 0xD8, 1]) * 300
CYRILLIC = re.compile(r"[а-яА-ЯёЁ]")


def ru(make: Any) -> str:
    """What `make()` says in Russian (a texts function, a constant read there), as the chat shows
    it: the HTML's tags gone, its entities read."""
    with i18n.speaking("ru"):
        return plain(str(make()))


def en(make: Any) -> str:
    with i18n.speaking("en"):
        return plain(str(make()))


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def label(markup: Any, data_prefix: str) -> str:
    """The label of the first button whose callback data starts with `data_prefix`."""
    for row in markup.inline_keyboard:
        for button in row:
            if (button.callback_data or "").startswith(data_prefix):
                return str(button.text)
    raise AssertionError(f"no button {data_prefix!r}")


def _text(message: dict[str, Any] | None) -> str:
    assert message is not None
    return str(message.get("text") or message.get("caption") or "")


async def test_a_russian_speaker_schedules_a_post_in_russian(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    api.add_user(OLGA, "Ольга", "olga", language_code="ru")
    add_chat(api, SHOP, "Магазин", by=OLGA)
    olga = Person(api, OLGA)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        welcome = await olga.say("/start", expect=ru(lambda: texts.WELCOME)[:30])
        assert CYRILLIC.search(_text(welcome)) and _text(welcome) != en(lambda: texts.WELCOME)
        assert CYRILLIC.search(label(olga_markup(olga), "menu:new"))

        await olga.say("/new", expect=ru(lambda: texts.choose_targets("Telegram", 0, 1)).split("\n")[0])
        await olga.press("Магазин", expect=ru(lambda: texts.choose_targets("", 1, 1)).split("\n")[-1])
        done = russian_button(olga, "new:done")
        await olga.press(done, expect=ru(lambda: texts.ASK_CONTENT)[:25])
        # The "2 photos in" answer comes after the run of photos, outside her update: in Russian too.
        await olga.send_photos([PHOTO, PHOTO + b"2"], [None, None])
        await olga.expect(ru(lambda: texts.media_received(["photo", "photo"])))
        asked = await olga.say("Распродажа в субботу!", expect="4")
        assert CYRILLIC.search(_text(asked))
        # A time typed in Russian is read in Russian.
        preview = await olga.say("завтра 9:00", expect="5")
        assert CYRILLIC.search(_text(preview)) and "Магазин" in _text(preview)
        saved = await olga.press(russian_button(olga, "new:go"), expect="#")
        assert CYRILLIC.search(_text(saved))

        posts = (await store.list_posts(OLGA, PostView.UPCOMING)).posts
        assert [post.main_caption for post in posts] == ["Распродажа в субботу!"]
        assert len(posts[0].images) == 2
        assert posts[0].status is PostStatus.SCHEDULED
        user = await store.get_user(OLGA)
        assert user is not None and (user.language, user.app_language) == (None, "ru")


def russian_button(person: Person, data_prefix: str) -> str:
    """The label of a button of the bot's last message, checked to be in Russian."""
    found = label(olga_markup(person), data_prefix)
    assert CYRILLIC.search(found), found
    return found


def olga_markup(olga: Person) -> Any:
    """The last bot message's keyboard, as python-telegram-bot objects (for `label`)."""
    from telegram import InlineKeyboardMarkup

    markup = olga.last().get("reply_markup")
    assert markup is not None
    return InlineKeyboardMarkup.de_json(markup, None)


async def test_language_overrides_the_app_and_the_command_menu_follows(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    api.add_user(OLGA, "Ольга", "olga", language_code="ru")
    olga = Person(api, OLGA)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        # The menu for everyone, and one for Russian apps, each in its language.
        await eventually(lambda: api.commands_for(language_code="ru"))
        english = {c["command"]: c["description"] for c in api.commands}
        russian = {c["command"]: c["description"] for c in api.commands_for(language_code="ru")}
        assert english.keys() == russian.keys() and "language" in english
        assert all(CYRILLIC.search(description) for description in russian.values())
        assert not any(CYRILLIC.search(description) for description in english.values())

        # A question made when the bot starts still answers /cancel in her language.
        await olga.say("/timezone", expect=ru(lambda: texts.ask_timezone("UTC"))[:20])
        await olga.say("/cancel", expect=ru(lambda: texts.CANCELLED))

        asked = await olga.say("/language", expect="🌐")
        assert "Русский" in _text(asked) and CYRILLIC.search(_text(asked))
        assert asked is not None
        assert "✅" in repr(asked["reply_markup"]) and "English" in repr(asked["reply_markup"])
        await olga.press("English", expect="English")
        user = await store.get_user(OLGA)
        assert user is not None and (user.language, user.app_language) == ("en", "ru")
        chat_menu = api.commands_for({"type": "chat", "chat_id": OLGA})
        assert {c["command"]: c["description"] for c in chat_menu} == english
        welcome = await olga.say("/start", expect="Herald")
        assert _text(welcome) == en(lambda: texts.WELCOME)

        # Back to the app's language: Russian again, the chat's own menu gone.
        await olga.say("/language", expect="English")
        automatic = label(olga_markup(olga), f"{LANGUAGE}:pick:{AUTOMATIC}")
        done = await olga.press(automatic, expect="Русский")
        assert CYRILLIC.search(_text(done))
        assert api.commands_for({"type": "chat", "chat_id": OLGA}) == []
        user = await store.get_user(OLGA)
        assert user is not None and user.language is None

        # A forged or stale language button: a clear answer, nothing changed.
        message_id = olga.last()["message_id"]
        await olga.press_data(message_id, f"{LANGUAGE}:pick:xx")
        assert olga.last_answer().get("show_alert") and CYRILLIC.search(olga.last_answer()["text"])
        user = await store.get_user(OLGA)
        assert user is not None and user.language is None


async def test_the_report_is_in_the_owners_language_with_the_reason_translated(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_channels(api, {SHOP: "Shop news", NEWS: "Archive"})
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        # Alice's app switches to Russian; her next message is where Herald learns it.
        api.set_user_language(ALICE, "ru")
        await alice.say("/start", expect=ru(lambda: texts.WELCOME)[:30])
        await settled(api)
        api.bot_removed_from_chat(NEWS, ALICE)
        await settled(api)
        from tests.e2e.steps import channel_targets, store_post

        post = await store_post(
            store, "Новости", channel_targets({SHOP: "Shop news", NEWS: "Archive"}), timedelta(seconds=1)
        )
        report = await alice.expect(f"#{post.short_id}", timeout=15)
        said = _text(report)
        assert CYRILLIC.search(said) and "Archive" in said
        stored = await store.get_post(ALICE, post.post_id)
        assert stored is not None and stored.status is PostStatus.PARTIAL
        reason = stored.deliveries[f"tg{NEWS}"].error_message
        assert reason and reason.isascii()  # kept in English in the database
        assert ru(lambda: i18n.stored(reason)) in said and reason not in said


async def test_an_app_language_herald_lacks_gets_the_default_language(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    api.add_user(HANS, "Hans", "hans", language_code="de")
    hans, alice = Person(api, HANS), Person(api, ALICE)
    settings: Settings = bot_settings(api, database_url, encryption_key, default_language="ru")
    async with bot_running(settings):
        welcome = await hans.say("/start", expect=ru(lambda: texts.WELCOME)[:30])
        assert CYRILLIC.search(_text(welcome))
        # An app language Herald has is kept: Alice's app speaks English.
        welcome = await alice.say("/start", expect="Herald")
        assert _text(welcome) == en(lambda: texts.WELCOME)
