"""The fake Bot API after publishing, through the real python-telegram-bot: silent and protected
messages, pinning and unpinning, deleting one message or many — refused as Telegram refuses them
(the bot's rights, a group message older than 48 hours on the fake's clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest

from tests.fakes.bot_api import SAMPLE_JPEG, FakeBotAPI, jpeg_bytes

CHANNEL, GROUP, SUPERGROUP = -1001000000001, -4000000001, -1001000000002
HOURS = 3600


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.add_chat(CHANNEL, "channel", "Shop news")
        server.add_chat(GROUP, "group", "Team")
        server.add_chat(SUPERGROUP, "supergroup", "Club")
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


async def test_silent_and_protected_messages_are_kept_as_asked(api: FakeBotAPI, bot: Bot) -> None:
    loud = await bot.send_message(CHANNEL, "loud")
    quiet = await bot.send_message(CHANNEL, "quiet", disable_notification=True, protect_content=True)
    album = await bot.send_media_group(
        CHANNEL, [InputMediaPhoto(jpeg_bytes(tag=bytes([n]))) for n in range(2)], disable_notification=True
    )

    records = {m["message_id"]: m for m in api.bot_messages(CHANNEL)}
    assert not records[loud.message_id]["disable_notification"] and not records[loud.message_id]["protect_content"]
    assert records[quiet.message_id]["disable_notification"] and records[quiet.message_id]["protect_content"]
    assert quiet.has_protected_content and not loud.has_protected_content
    assert all(records[m.message_id]["disable_notification"] for m in album)


async def test_pinning_silently_and_unpinning(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_photo(SUPERGROUP, SAMPLE_JPEG)
    assert await bot.pin_chat_message(SUPERGROUP, sent.message_id, disable_notification=True)
    [record] = api.bot_messages(SUPERGROUP)
    assert record["pinned"] and record["pinned_silently"]

    assert await bot.unpin_chat_message(SUPERGROUP, sent.message_id)
    assert not api.bot_messages(SUPERGROUP)[0]["pinned"]
    with pytest.raises(BadRequest, match=r"^Message to pin not found$"):
        await bot.pin_chat_message(SUPERGROUP, 999)


async def test_pinning_needs_the_pin_right_in_groups_and_the_edit_right_in_channels(api: FakeBotAPI, bot: Bot) -> None:
    in_group = await bot.send_message(SUPERGROUP, "x")
    in_channel = await bot.send_message(CHANNEL, "x")
    api.set_bot_rights(SUPERGROUP, can_pin_messages=False)
    api.set_bot_rights(CHANNEL, can_edit_messages=False)

    with pytest.raises(BadRequest, match=r"^Not enough rights to pin a message$"):
        await bot.pin_chat_message(SUPERGROUP, in_group.message_id)
    with pytest.raises(BadRequest, match=r"^Not enough rights to pin a message$"):
        await bot.pin_chat_message(CHANNEL, in_channel.message_id)
    with pytest.raises(BadRequest, match=r"^Not enough rights to manage pinned messages in the chat$"):
        await bot.unpin_chat_message(CHANNEL, in_channel.message_id)
    assert not any(m["pinned"] for m in api.bot_messages(SUPERGROUP) + api.bot_messages(CHANNEL))
    assert ("pinChatMessage", "Bad Request: not enough rights to pin a message") in api.refusals


async def test_a_group_message_of_the_bot_can_be_deleted_for_48_hours_without_the_delete_right(
    api: FakeBotAPI, bot: Bot
) -> None:
    api.set_bot_rights(GROUP, can_delete_messages=False)
    young = await bot.send_message(GROUP, "young")
    old = await bot.send_message(GROUP, "old")
    api.advance_clock(47 * HOURS)
    assert await bot.delete_message(GROUP, young.message_id)

    api.advance_clock(2 * HOURS)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted for everyone$"):
        await bot.delete_message(GROUP, old.message_id)
    assert not api.bot_messages(GROUP)[1]["deleted"]

    # In a basic group no right helps after 48 hours; in a supergroup the right to delete any does.
    api.set_bot_rights(GROUP, can_delete_messages=True)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted for everyone$"):
        await bot.delete_message(GROUP, old.message_id)
    api.set_bot_rights(SUPERGROUP, can_delete_messages=False)
    older = await bot.send_message(SUPERGROUP, "older")
    api.advance_clock(49 * HOURS)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted for everyone$"):
        await bot.delete_message(SUPERGROUP, older.message_id)
    api.set_bot_rights(SUPERGROUP, can_delete_messages=True)
    assert await bot.delete_message(SUPERGROUP, older.message_id)


async def test_a_channel_message_needs_the_right_to_post_or_to_delete(api: FakeBotAPI, bot: Bot) -> None:
    sent, other = await bot.send_message(CHANNEL, "x"), await bot.send_message(CHANNEL, "y")
    api.set_bot_rights(CHANNEL, can_delete_messages=False, can_post_messages=False)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted$"):
        await bot.delete_message(CHANNEL, sent.message_id)
    # Its own posts, with the right to post (for 48 hours) …
    api.set_bot_rights(CHANNEL, can_post_messages=True)
    assert await bot.delete_message(CHANNEL, sent.message_id)
    api.advance_clock(49 * HOURS)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted for everyone$"):
        await bot.delete_message(CHANNEL, other.message_id)
    # … or any message, with the right to delete.
    api.set_bot_rights(CHANNEL, can_delete_messages=True)
    assert await bot.delete_message(CHANNEL, other.message_id)


async def test_deleting_many_messages_at_once_is_all_or_nothing_and_skips_missing_ones(
    api: FakeBotAPI, bot: Bot
) -> None:
    album = await bot.send_media_group(CHANNEL, [InputMediaPhoto(jpeg_bytes(tag=bytes([n]))) for n in range(3)])
    ids = [m.message_id for m in album]
    api.set_bot_rights(CHANNEL, can_delete_messages=False, can_post_messages=False)
    with pytest.raises(BadRequest, match=r"^Message can't be deleted$"):
        await bot.delete_messages(CHANNEL, ids)
    assert not any(m["deleted"] for m in api.bot_messages(CHANNEL))

    api.set_bot_rights(CHANNEL, can_delete_messages=True)
    assert await bot.delete_messages(CHANNEL, [*ids, 999])
    assert all(m["deleted"] for m in api.bot_messages(CHANNEL))
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_messages(CHANNEL, ids)
