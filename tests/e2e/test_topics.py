"""Forum topics end to end: the real bot learns a forum's topics from what it sees there and from a
pasted link, offers them under their forum, publishes into them with message_thread_id on every
message — and a deleted, closed or someone else's topic is told in words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from publishers.telegram import topic_target
from storage import Store
from storage.models import DeliveryStatus, ForumTopic, PostStatus, PostView, Target, TelegramChat
from tests.e2e.conftest import ALICE, BOB, Person, bot_running, bot_settings, eventually
from tests.e2e.steps import settled, store_post
from tests.fakes.bot_api import FakeBotAPI

FORUM = -1004000000001
INTERNAL = "4000000001"  # the forum's id in its t.me/c/ links
PHOTOS = [bytes([0xFF, 0xD8, n]) * 200 + f"img {n}".encode() for n in range(2)]


def add_forum(api: FakeBotAPI, *, seen: bool = True) -> None:
    """ "Shop chat", a forum Alice created and added the bot to (`seen`: before it, so the bot sees
    what happens there from the start)."""
    api.add_chat(FORUM, "supergroup", "Shop chat", is_forum=True)
    api.set_member(FORUM, ALICE, "creator")
    api.set_member(FORUM, BOB, "member")
    if not seen:
        api.set_member(FORUM, api.bot_user["id"], "left")


def target_buttons(person: Person) -> list[str]:
    """The labels of the target buttons on the newest targets screen."""
    for message in reversed(person.bot_messages()):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        labels = [row[0]["text"] for row in rows if row[0].get("callback_data", "").startswith("new:t:")]
        if labels:
            return labels
    return []


def in_forum(api: FakeBotAPI) -> list[dict[str, Any]]:
    return api.bot_messages(FORUM)


async def learned_topic(api: FakeBotAPI, store: Store) -> int:
    """Alice opens the forum's "Announcements" topic; its thread id once the bot has learned it."""
    thread = api.topic_created(FORUM, ALICE, "Announcements")
    await settled(api)
    await eventually(lambda: store.get_topic(FORUM, thread))
    return thread


def announcements(thread: int) -> Target:
    """The forum's "Announcements" topic as a post's target, as the New post conversation keeps it."""
    return topic_target(
        TelegramChat(FORUM, "Shop chat", "supergroup", True), ForumTopic(FORUM, thread, "Announcements")
    )


async def test_a_topic_the_bot_sees_created_is_offered_and_an_album_with_buttons_reaches_it(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_forum(api)
    api.bot_added_to_chat(FORUM, ALICE)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        thread = api.topic_created(FORUM, ALICE, "Announcements")
        api.topic_created(FORUM, ALICE, "Chatter")
        await settled(api)
        await eventually(lambda: store.list_topics([FORUM]), timeout=8)

        await alice.say("/new", expect="Where should it go?")
        assert target_buttons(alice) == ["▫️ Shop chat", "▫️ Shop chat › Announcements", "▫️ Shop chat › Chatter"]
        await alice.press("› Announcements", expect="(1 of 3 selected)")
        await alice.press("Done (1)", expect="Send the photos")
        await alice.send_photos(PHOTOS, ["one", "two"])
        await alice.expect("2 photos in")
        await alice.say("Spring sale", expect="step 4 of 5")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Add buttons", expect="one row per line")
        await alice.say("Order - https://shop.example/order", expect="step 5 of 5")
        await alice.press("Schedule", expect="Scheduled #")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        report = await alice.expect(f"Published #{post.short_id} to 1/1 target", timeout=15)

        sent = in_forum(api)
        assert [m["kind"] for m in sent] == ["photo", "photo", "text"]
        assert [m["message_thread_id"] for m in sent] == [thread, thread, thread], "every message in the topic"
        assert sent[0]["caption"] == "Spring sale\n\none"
        assert sent[2]["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://shop.example/order"
        for method in ("sendMediaGroup", "sendMessage"):
            to_forum = [c for c in api.calls_of(method) if str(c.params.get("chat_id")) == str(FORUM)]
            assert to_forum and all(int(c.params["message_thread_id"]) == thread for c in to_forum)
        # The report links into the topic.
        assert f"https://t.me/c/{INTERNAL}/{thread}/{sent[0]['message_id']}" in repr(report)

        stored = await store.get_post(ALICE, post.post_id)
        assert stored is not None and stored.status is PostStatus.PUBLISHED
        [target] = stored.targets
        assert (target.target_id, target.thread_id) == (f"tg{FORUM}/{thread}", thread)
        delivery = stored.deliveries[target.target_id]
        assert delivery.message_ids == [str(m["message_id"]) for m in sent]

        await alice.say("/scheduled", expect="Upcoming")
        await alice.press("History", expect="History")
        details = await alice.press(f"#{post.short_id}", expect="Shop chat › Announcements")
        assert details is not None
    assert api.refusals == []


async def test_a_renamed_topic_is_offered_by_its_new_name_and_the_same_target(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_forum(api)
    api.bot_added_to_chat(FORUM, ALICE)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        thread = api.topic_created(FORUM, ALICE, "Announcements")
        api.topic_renamed(FORUM, thread, ALICE, "News")
        await settled(api)
        renamed = await eventually(lambda: _named(store, thread, "News"))
        assert renamed
        await alice.say("/new", expect="Where should it go?")
        assert target_buttons(alice) == ["▫️ Shop chat", "▫️ Shop chat › News"]
        assert f"new:t:tg{FORUM}/{thread}" in repr(alice.last()["reply_markup"])


async def _named(store: Store, thread: int, name: str) -> bool:
    topic = await store.get_topic(FORUM, thread)
    return topic is not None and topic.name == name


async def test_a_pasted_topic_link_adds_the_topic_in_the_target_step_and_selects_it(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_forum(api, seen=False)
    thread = api.topic_created(FORUM, ALICE, "Announcements")  # before the bot was there to see it
    api.bot_added_to_chat(FORUM, ALICE)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await alice.say("/new", expect="Where should it go?")
        assert target_buttons(alice) == ["▫️ Shop chat"]
        await alice.say(f"https://t.me/c/{INTERNAL}/{thread} Announcements", expect="is one of your targets now")
        shown = await alice.expect("(1 of 2 selected)")
        assert shown is not None
        assert target_buttons(alice) == ["▫️ Shop chat", "✅ Shop chat › Announcements"]
        topic = await store.get_topic(FORUM, thread)
        assert topic is not None and topic.name == "Announcements"

        await alice.press("Done (1)", expect="Send the photos")
        await alice.press("No images", expect="Send its text")
        await alice.say("Doors open at 9", expect="step 4 of 5")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Schedule", expect="Scheduled #")
        await alice.expect("Published #", timeout=15)
        [message] = in_forum(api)
        assert (message["text"], message["message_thread_id"]) == ("Doors open at 9", thread)
    assert api.refusals == []


async def test_a_topic_link_pasted_anywhere_becomes_a_target_and_a_link_to_no_topic_is_explained(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_forum(api, seen=False)
    thread = api.topic_created(FORUM, ALICE, "Offers")
    api.bot_added_to_chat(FORUM, ALICE)
    api.add_chat(-1004000000002, "supergroup", "Plain group")
    api.set_member(-1004000000002, ALICE, "creator")
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await alice.say("/accounts", expect="Your accounts")
        details = await alice.press("Telegram", expect="paste its link")
        assert details is not None
        await alice.say(f"https://t.me/c/{INTERNAL}/{thread}", expect=f"Shop chat › Topic {thread} is one")
        # The General topic is the forum itself.
        await alice.say(f"https://t.me/c/{INTERNAL}/1", expect="Shop chat is one of your targets now")
        await alice.say("https://t.me/c/4000000002/5", expect="isn't a forum")
        await alice.say("https://t.me/shopnews", expect="doesn't point to a forum topic")
        await alice.say("https://t.me/c/4000000099/5", expect="can't see that chat")
        assert [(t.thread_id, t.name) for t in await store.list_topics([FORUM, -1004000000002])] == [
            (thread, f"Topic {thread}")
        ]
        await alice.say("/new", expect="Where should it go?")
        assert target_buttons(alice) == ["▫️ Shop chat", f"▫️ Shop chat › Topic {thread}"]


async def test_someone_who_does_not_administer_the_forum_cannot_target_its_topics(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_forum(api)
    api.bot_added_to_chat(FORUM, ALICE)
    bob = Person(api, BOB)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        thread = await learned_topic(api, store)
        await bob.say("/new", expect="not an administrator in any channel or group")
        assert target_buttons(bob) == []
        await bob.say(f"https://t.me/c/{INTERNAL}/{thread}", expect="not an administrator of that forum")
        # A forged press of the topic's button is refused as well.
        await bob.press_data(bob.last()["message_id"], f"new:t:tg{FORUM}/{thread}")
        assert "isn't one of yours" in (bob.last_answer().get("text") or "")
        assert (await store.list_posts(BOB, PostView.UPCOMING)).posts == []


async def test_a_deleted_topic_fails_in_words_and_is_no_longer_offered(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_forum(api)
    api.bot_added_to_chat(FORUM, ALICE)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        thread = await learned_topic(api, store)
        topic = announcements(thread)

        api.topic_deleted(FORUM, thread, ALICE)  # Telegram tells the bot nothing
        post = await store_post(store, "Into the void", [topic], timedelta(seconds=1))
        report = await alice.expect(f"Failed #{post.short_id}: 0/1", timeout=15)
        assert "Shop chat › Announcements: the topic was deleted" in report["text"]
        stored = await store.get_post(ALICE, post.post_id)
        assert stored is not None and stored.status is PostStatus.FAILED
        delivery = stored.deliveries[topic.target_id]
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1), "not tried again"
        assert await store.get_topic(FORUM, thread) is None, "forgotten"
        assert in_forum(api) == []
        await alice.say("/new", expect="Where should it go?")
        assert target_buttons(alice) == ["▫️ Shop chat"]


async def test_a_closed_topic_is_not_offered_and_a_post_to_it_fails_in_words(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_forum(api)
    api.bot_added_to_chat(FORUM, ALICE)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        thread = await learned_topic(api, store)
        topic = announcements(thread)

        post = await store_post(store, "Closed today", [topic], timedelta(seconds=3))
        api.topic_closed(FORUM, thread, ALICE)
        await settled(api)
        report = await alice.expect(f"Failed #{post.short_id}: 0/1", timeout=15)
        assert "Shop chat › Announcements: the topic is closed — reopen it to post there" in report["text"]
        assert in_forum(api) == []
        known = await store.get_topic(FORUM, thread)
        assert known is not None and known.closed, "remembered as closed, not forgotten"
        await alice.say("/new", expect="Where should it go?")
        assert target_buttons(alice) == ["▫️ Shop chat"]
        await alice.say("/cancel")

        api.topic_reopened(FORUM, thread, ALICE)
        await settled(api)
        await eventually(lambda: _named(store, thread, "Announcements"))
        await eventually(lambda: _open(store, thread))
        await alice.say("/new", expect="Where should it go?")
        assert target_buttons(alice) == ["▫️ Shop chat", "▫️ Shop chat › Announcements"]


async def _open(store: Store, thread: int) -> bool:
    topic = await store.get_topic(FORUM, thread)
    return topic is not None and not topic.closed


async def test_a_topic_made_before_the_bot_came_is_learned_by_name_from_its_next_service_message(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_forum(api, seen=False)
    thread = api.topic_created(FORUM, ALICE, "Announcements")
    api.bot_added_to_chat(FORUM, ALICE)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        api.topic_closed(FORUM, thread, ALICE)
        api.topic_reopened(FORUM, thread, ALICE)
        await settled(api)
        # Each message in a topic answers the one that made it, which names the topic.
        await eventually(lambda: _named(store, thread, "Announcements"))
        await eventually(lambda: _open(store, thread))
        await alice.say("/new", expect="Where should it go?")
        assert target_buttons(alice) == ["▫️ Shop chat", "▫️ Shop chat › Announcements"]
