"""What the end-to-end tests set up and do again and again, written once: chats with the bot in
them, posts stored as the conversation would store them, and the steps a person takes in the chat
(choose targets, write a text post, answer the time question, open a post's Details, add an account)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from config import Settings
from storage import Store
from storage.models import Account, Image, Platform, Post, Target, new_post, utc_now
from tests.e2e.conftest import ALICE, Person, bot_settings, eventually
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.graph_api import FakeGraphAPI

# Alice's Telegram account: this bot, in the chats she administers.
TELEGRAM = Account("telegram", ALICE, Platform.TELEGRAM, "Telegram (this bot)")


# -- the fake Bot API's chats ---------------------------------------------------------------------
def add_chat(
    api: FakeBotAPI,
    chat_id: int,
    title: str,
    kind: str = "channel",
    *,
    by: int = ALICE,
    role: str = "administrator",
    username: str | None = None,
) -> None:
    """A chat that `by` runs as `role`, to which they added the bot."""
    api.add_chat(chat_id, kind, title, username=username)
    api.set_member(chat_id, by, role)
    api.bot_added_to_chat(chat_id, by)


def add_channels(api: FakeBotAPI, channels: Mapping[int, str]) -> None:
    """Channels (id → title) that Alice administers, the bot added to each by her."""
    for chat_id, title in channels.items():
        add_chat(api, chat_id, title)


async def settled(api: FakeBotAPI) -> None:
    """Waits until the bot has fetched every update the fake holds (e.g. that it was added somewhere)."""
    await eventually(lambda: api.pending_updates() == 0)


def texts_in(api: FakeBotAPI, chat_id: int) -> list[str]:
    """What the bot posted in a chat: each message's text or caption."""
    return [str(m.get("text") or m.get("caption") or "") for m in api.bot_messages(chat_id)]


def buttons_of(message: dict[str, Any]) -> list[str]:
    """The labels of a message's inline buttons, row by row."""
    return [button["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for button in row]


# -- posts stored behind the conversation's back --------------------------------------------------
def channel_targets(channels: Mapping[int, str]) -> list[Target]:
    """Telegram channels (id → title) as targets of a post."""
    return [Target(f"tg{chat_id}", title, str(chat_id), "channel") for chat_id, title in channels.items()]


def telegram_post(caption: str, targets: list[Target], offset: timedelta, images: list[Image] | None = None) -> Post:
    """A post of Alice's through her Telegram account, due `offset` from now, as the New post
    conversation makes one (not stored yet)."""
    return new_post(
        user_id=ALICE,
        account=TELEGRAM,
        targets=targets,
        main_caption=caption,
        scheduled_time=utc_now() + offset,
        images=images,
    )


async def store_post(
    store: Store, caption: str, targets: list[Target], offset: timedelta, images: Sequence[bytes] = ()
) -> Post:
    """`telegram_post`, stored (with `images`, each stored first)."""
    stored = [Image(f"{n}.jpg", await store.put_image(data), f"image {n}") for n, data in enumerate(images)]
    return await store.create_post(telegram_post(caption, targets, offset, stored))


# -- steps in the chat ----------------------------------------------------------------------------
async def choose_targets(person: Person, *names: str, account: str | None = None) -> tuple[int, str]:
    """/new, the account (asked only when the person has more than the bot's), these targets and
    Done; returns the Done button (message id, data) pressed."""
    if account is None:
        await person.say("/new", expect="Where should it go?")
    else:
        await person.say("/new", expect="Which account")
        await person.press(account, expect="Where should it go?")
    for name in names:
        await person.press(name, expect="selected")
    done = person.find_button(f"Done ({len(names)})")
    await person.press(f"Done ({len(names)})", expect="Send the photos")
    return done


async def choose_every_target(person: Person, count: int) -> None:
    """/new, All accounts, Select all (`count` targets) and Done."""
    await person.say("/new", expect="Which account")
    await person.press("All accounts", expect="Where should it go?")
    await person.press("Select all", expect=f"({count} of {count} selected)")
    await person.press(f"Done ({count})", expect="Send the photos")


async def text_post_to_its_time(person: Person, text: str, *targets: str) -> dict[str, Any]:
    """A text post through account, targets and its text; returns the question of its time."""
    await choose_targets(person, *targets)
    await person.press("No images", expect="Send its text")
    asked = await person.say(text, expect="step 4 of 5")
    assert asked is not None
    return asked


async def schedule_for(person: Person, *, typed: str = "", button: str = "") -> dict[str, Any]:
    """Answers the time question, by typing `typed` or pressing the quick `button`, then presses
    Schedule on the preview; returns the "Scheduled #" message."""
    if button:
        await person.press(button, expect="step 5 of 5")
    else:
        await person.say(typed, expect="step 5 of 5")
    saved = await person.press("Schedule", expect="Scheduled #")
    assert saved is not None
    return saved


async def schedule_text_post(person: Person, text: str, *targets: str, at: str = "Tomorrow 09:00") -> dict[str, Any]:
    """A text post scheduled with a quick time button; returns the "Scheduled #" message."""
    await text_post_to_its_time(person, text, *targets)
    return await schedule_for(person, button=at)


async def open_post(person: Person, post: Post) -> None:
    """/scheduled, then the post's button: its Details."""
    await person.say("/scheduled", expect="Upcoming")
    await person.press(f"#{post.short_id}", expect="Scheduled for")


async def start_adding(person: Person, platform: str, expect: str) -> None:
    """/accounts, Add account and the platform, up to its first question (`expect`)."""
    await person.say("/accounts", expect="Your accounts")
    await person.press("Add account", expect="Which kind of account")
    await person.press(platform, expect=expect)


async def connect_facebook(person: Person, user_token: str, pages: int) -> None:
    """A Facebook account added by pasting a user token that manages `pages` Pages."""
    await start_adding(person, "Facebook Page", expect="Paste a")
    await person.say(user_token, expect=f"Facebook connected: {pages} Page")


def disk(folder: Path) -> bytes:
    """Every byte of the SQLite database (and its WAL) in `folder`, as it is on disk."""
    return b"".join(path.read_bytes() for path in folder.glob("herald.db*"))


def settings_with_graph(api: FakeBotAPI, graph: FakeGraphAPI, database_url: str, key: str) -> Settings:
    """The bot's settings for a test, its Graph API the fake one."""
    return bot_settings(api, database_url, key, facebook_graph_url=graph.url)
