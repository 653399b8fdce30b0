"""The fake Bot API's editing and deleting of published messages against the real python-telegram-bot:
editMessageCaption and editMessageMedia doing what Telegram does, and refusing what it refuses —
an edit that changes nothing, a message gone or not the bot's, a caption edit of a text, a kind an
album cannot hold, a channel where the bot may no longer post — and deleteMessage's rights and
48-hour rule in each kind of chat."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaDocument, InputMediaPhoto, MessageEntity
from telegram import InputMediaVideo as Video
from telegram.error import BadRequest

from tests.fakes.bot_api import SAMPLE_JPEG, FakeBotAPI, jpeg_bytes

ALICE = 42
CHANNEL, GROUP, SUPERGROUP = -1001, -2002, -1003003
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"video-bytes" * 40
HOURS = 3600
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Order", url="https://shop.example")]])


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.add_user(ALICE, "Alice", "alice")
        server.add_chat(CHANNEL, "channel", "Shop news")
        server.add_chat(GROUP, "group", "Old friends")
        server.add_chat(SUPERGROUP, "supergroup", "Club")
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


def bot_rights(api: FakeBotAPI, chat_id: int, **rights: bool) -> None:
    """The bot stays an administrator of the chat, with these rights changed."""
    member = api._chats[chat_id].members[api.bot_user["id"]]
    member.rights.update(rights)


async def test_a_caption_is_edited_with_its_formatting_and_buttons(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_photo(CHANNEL, SAMPLE_JPEG, caption="Old", reply_markup=KEYBOARD)
    edited = await bot.edit_message_caption(
        CHANNEL, sent.message_id, caption="New sale", caption_entities=[MessageEntity("bold", 0, 3)]
    )
    assert not isinstance(edited, bool) and edited.caption == "New sale" and edited.edit_date is not None
    record = api.bot_messages(CHANNEL)[0]
    assert record["caption_entities"] == [{"type": "bold", "offset": 0, "length": 3}]
    # As on Telegram, an edit without reply_markup takes the buttons away.
    assert record["reply_markup"] is None
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_caption(
            CHANNEL, sent.message_id, caption="New sale", caption_entities=[MessageEntity("bold", 0, 3)]
        )


async def test_a_caption_edit_of_a_text_message_and_a_too_long_caption_are_refused(bot: Bot) -> None:
    text = await bot.send_message(CHANNEL, "Just text")
    with pytest.raises(BadRequest, match=r"(?i)there is no caption in the message to edit"):
        await bot.edit_message_caption(CHANNEL, text.message_id, caption="x")
    photo = await bot.send_photo(CHANNEL, SAMPLE_JPEG, caption="short")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.edit_message_caption(CHANNEL, photo.message_id, caption="x" * 1025)


async def test_a_message_the_bot_did_not_send_or_that_is_gone_cannot_be_edited(api: FakeBotAPI, bot: Bot) -> None:
    person = api.send_text(ALICE, "mine")
    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_caption(ALICE, person["message_id"], caption="x")
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_media(InputMediaPhoto(SAMPLE_JPEG), CHANNEL, 999)


async def test_media_is_replaced_within_the_kinds_an_album_holds(api: FakeBotAPI, bot: Bot) -> None:
    album = await bot.send_media_group(CHANNEL, [InputMediaPhoto(SAMPLE_JPEG, caption="one"), Video(MP4)])
    first, second = album
    # A photo and a video share albums: a video may take the photo's place, keeping its caption.
    replaced = await bot.edit_message_media(Video(MP4, caption="one, now a clip"), CHANNEL, first.message_id)
    assert not isinstance(replaced, bool) and replaced.video is not None and replaced.photo == ()
    record = api.bot_messages(CHANNEL)[0]
    assert (record["kind"], record["photo"], record["caption"]) == ("video", None, "one, now a clip")
    assert record["media_group_id"] == second.media_group_id
    # A document cannot stand in an album of photos and videos.
    with pytest.raises(BadRequest, match=r"^Media_grouped_invalid$|MEDIA_GROUPED_INVALID"):
        await bot.edit_message_media(InputMediaDocument(b"%PDF-1.4 file", filename="a.pdf"), CHANNEL, second.message_id)
    documents = await bot.send_media_group(
        CHANNEL,
        [InputMediaDocument(b"%PDF-1.4 a", filename="a.pdf"), InputMediaDocument(b"%PDF-1.4 b", filename="b.pdf")],
    )
    with pytest.raises(BadRequest, match=r"(?i)^media_grouped_invalid$"):
        await bot.edit_message_media(InputMediaPhoto(jpeg_bytes(10, 10)), CHANNEL, documents[0].message_id)
    assert api.bot_messages(CHANNEL)[3]["kind"] == "document"


async def test_the_same_file_and_caption_again_is_not_modified(bot: Bot) -> None:
    sent = await bot.send_photo(CHANNEL, SAMPLE_JPEG, caption="same")
    file_id = sent.photo[-1].file_id
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_media(InputMediaPhoto(file_id, caption="same"), CHANNEL, sent.message_id)
    text = await bot.send_message(CHANNEL, "text")
    with pytest.raises(BadRequest, match=r"(?i)there is no media in the message to edit"):
        await bot.edit_message_media(InputMediaPhoto(file_id), CHANNEL, text.message_id)


async def test_a_channel_where_the_bot_may_no_longer_post_refuses_edits(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(CHANNEL, "Hello")
    bot_rights(api, CHANNEL, can_post_messages=False)
    with pytest.raises(BadRequest, match=r"(?i)need administrator rights in the channel chat"):
        await bot.edit_message_text("Hello again", CHANNEL, sent.message_id)


async def test_deleting_after_48_hours_is_refused_in_a_basic_group(api: FakeBotAPI, bot: Bot) -> None:
    fresh = await bot.send_message(GROUP, "fresh")
    old = await bot.send_message(GROUP, "old")
    assert await bot.delete_message(GROUP, fresh.message_id) is True
    api.age_messages(GROUP, 49 * HOURS)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted for everyone$"):
        await bot.delete_message(GROUP, old.message_id)
    assert [m["deleted"] for m in api.bot_messages(GROUP)] == [True, False]


async def test_an_old_message_goes_only_where_the_bot_may_delete_any_message(api: FakeBotAPI, bot: Bot) -> None:
    in_channel = await bot.send_message(CHANNEL, "old post")
    in_supergroup = await bot.send_message(SUPERGROUP, "old post")
    api.age_messages(CHANNEL, 49 * HOURS)
    api.age_messages(SUPERGROUP, 49 * HOURS)
    bot_rights(api, SUPERGROUP, can_delete_messages=False)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted for everyone$"):
        await bot.delete_message(SUPERGROUP, in_supergroup.message_id)
    # In the channel the bot may delete any message (its default rights): age does not matter.
    assert await bot.delete_message(CHANNEL, in_channel.message_id) is True


async def test_deleting_without_the_right_is_refused(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(CHANNEL, "post")
    bot_rights(api, CHANNEL, can_delete_messages=False, can_post_messages=False)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted$"):
        await bot.delete_message(CHANNEL, sent.message_id)
    bot_rights(api, CHANNEL, can_post_messages=True)
    # Its own fresh post, with the right to post there: allowed.
    assert await bot.delete_message(CHANNEL, sent.message_id) is True
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(CHANNEL, sent.message_id)
