"""The fake Bot API's forum supergroups against the real python-telegram-bot: topics made by people
arrive as the service messages Telegram sends, messages go into a topic with message_thread_id and
are recorded there, and what Telegram refuses is refused — a topic that never was, was deleted, is
the General topic or is closed, and a thread id in a chat that is no forum."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InputMediaPhoto, Update
from telegram.error import BadRequest, Forbidden

from tests.fakes.bot_api import SAMPLE_JPEG, FakeBotAPI, jpeg_bytes

ALICE, BOB = 42, 43
FORUM, PLAIN, CHANNEL = -1003000000001, -1003000000002, -1003000000003


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.add_user(ALICE, "Alice", "alice")
        server.add_user(BOB, "Bob", "bob")
        server.add_chat(FORUM, "supergroup", "Shop chat", is_forum=True)
        server.set_member(FORUM, ALICE, "creator")
        server.set_member(FORUM, BOB, "member")
        server.add_chat(PLAIN, "supergroup", "Plain group")
        server.add_chat(CHANNEL, "channel", "Shop news")
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


async def updates(bot: Bot) -> list[Update]:
    return list(await bot.get_updates(timeout=0))


async def test_a_created_topic_reaches_the_bot_as_its_service_message(api: FakeBotAPI, bot: Bot) -> None:
    thread = api.topic_created(FORUM, ALICE, "Announcements")
    [update] = await updates(bot)
    message = update.message
    assert message is not None and message.forum_topic_created is not None
    assert message.forum_topic_created.name == "Announcements"
    assert message.message_thread_id == thread == message.message_id
    assert message.is_topic_message and message.chat.is_forum
    assert api.topics(FORUM) == {thread: "Announcements"}


async def test_renamed_closed_and_reopened_topics_say_so_in_the_topic(api: FakeBotAPI, bot: Bot) -> None:
    thread = api.topic_created(FORUM, ALICE, "Announcements")
    api.topic_renamed(FORUM, thread, ALICE, "News")
    api.topic_closed(FORUM, thread, ALICE)
    api.topic_reopened(FORUM, thread, ALICE)
    _, renamed, closed, reopened = [u.message for u in await updates(bot)]
    assert renamed is not None and renamed.forum_topic_edited is not None
    assert renamed.forum_topic_edited.name == "News" and renamed.message_thread_id == thread
    # Every message in a topic answers the one that made it, which carries the topic's first name.
    assert renamed.reply_to_message is not None and renamed.reply_to_message.forum_topic_created is not None
    assert closed is not None and closed.forum_topic_closed is not None and closed.message_thread_id == thread
    assert reopened is not None and reopened.forum_topic_reopened is not None
    assert api.topics(FORUM) == {thread: "News"}


async def test_only_a_forums_administrator_makes_topics(api: FakeBotAPI) -> None:
    with pytest.raises(ValueError, match="administrator"):
        api.topic_created(FORUM, BOB, "Bob's corner")
    with pytest.raises(ValueError, match="not a forum"):
        api.topic_created(PLAIN, ALICE, "Nowhere")


async def test_every_send_method_goes_into_the_topic_it_names(api: FakeBotAPI, bot: Bot) -> None:
    thread = api.topic_created(FORUM, ALICE, "Announcements")
    text = await bot.send_message(FORUM, "Sale today", message_thread_id=thread)
    photo = await bot.send_photo(FORUM, SAMPLE_JPEG, caption="One", message_thread_id=thread)
    album = await bot.send_media_group(
        FORUM, [InputMediaPhoto(jpeg_bytes(tag=b"a")), InputMediaPhoto(jpeg_bytes(tag=b"b"))], message_thread_id=thread
    )
    outside = await bot.send_message(FORUM, "In General")
    for sent in (text, photo, *album):
        assert sent.message_thread_id == thread and sent.is_topic_message
    assert outside.message_thread_id is None and not outside.is_topic_message
    recorded = {m["message_id"]: m["message_thread_id"] for m in api.bot_messages(FORUM)}
    assert recorded == {
        text.message_id: thread,
        photo.message_id: thread,
        album[0].message_id: thread,
        album[1].message_id: thread,
        outside.message_id: None,
    }


async def test_a_topic_that_never_was_or_was_deleted_is_not_found(api: FakeBotAPI, bot: Bot) -> None:
    thread = api.topic_created(FORUM, ALICE, "Announcements")
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM, "Lost", message_thread_id=thread + 50)
    api.topic_deleted(FORUM, thread, ALICE)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM, "Gone", message_thread_id=thread)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_media_group(
            FORUM,
            [InputMediaPhoto(jpeg_bytes(tag=b"a")), InputMediaPhoto(jpeg_bytes(tag=b"b"))],
            message_thread_id=thread,
        )
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_photo(FORUM, SAMPLE_JPEG, message_thread_id=thread)
    assert api.topics(FORUM) == {}
    assert [m["text"] for m in api.bot_messages(FORUM)] == [], "nothing was posted"
    assert api.refusals and all("message thread not found" in why for _, why in api.refusals)


async def test_the_general_topic_and_chats_without_topics_take_no_thread_id(api: FakeBotAPI, bot: Bot) -> None:
    # The General topic is the chat itself: Telegram refuses it named by its id 1.
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM, "General", message_thread_id=1)
    for chat_id in (PLAIN, CHANNEL):
        with pytest.raises(BadRequest, match="Message thread not found"):
            await bot.send_message(chat_id, "Nowhere", message_thread_id=2)


async def test_a_closed_topic_refuses_a_bot_that_may_not_manage_topics(api: FakeBotAPI, bot: Bot) -> None:
    thread = api.topic_created(FORUM, ALICE, "Announcements")
    api.topic_closed(FORUM, thread, ALICE)
    with pytest.raises(BadRequest, match="Topic_closed"):
        await bot.send_message(FORUM, "Closed", message_thread_id=thread)
    api.topic_reopened(FORUM, thread, ALICE)
    sent = await bot.send_message(FORUM, "Open again", message_thread_id=thread)
    assert sent.message_thread_id == thread


async def test_get_chat_tells_a_forum_by_id_or_username_and_refuses_what_the_bot_cannot_see(
    api: FakeBotAPI, bot: Bot
) -> None:
    api.add_chat(-1003000000009, "supergroup", "Public forum", username="publicforum", is_forum=True)
    forum = await bot.get_chat(FORUM)
    assert forum.is_forum and forum.title == "Shop chat"
    public = await bot.get_chat("@PublicForum")
    assert public.id == -1003000000009 and public.is_forum
    plain = await bot.get_chat(PLAIN)
    assert not plain.is_forum
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(-1009999999999)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat("@nobody_here")
    api.set_member(PLAIN, api.bot_user["id"], "left")
    with pytest.raises(Forbidden):
        await bot.get_chat(PLAIN)
