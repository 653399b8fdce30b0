"""The fake Bot API refuses what Telegram refuses: texts and captions over their limits counted in
UTF-16 code units, and getFile for a photo over the 20 MB a bot may download."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest

from tests.fakes.bot_api import SAMPLE_JPEG, FakeBotAPI, jpeg_bytes, utf16_len

ALICE = 42
EMOJI = "😀"  # outside the Basic Multilingual Plane: 2 UTF-16 code units
MB = 1024 * 1024


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.add_user(ALICE, "Alice", "alice")
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


def test_an_emoji_outside_the_bmp_counts_two_units() -> None:
    assert utf16_len(EMOJI) == 2 and utf16_len("é") == 1 and utf16_len(EMOJI * 2100) == 4200


async def test_a_text_over_4096_units_is_refused_though_it_has_fewer_characters(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(ALICE, EMOJI * 2049)  # 2,049 characters, 4,098 units
    assert (await bot.send_message(ALICE, EMOJI * 2048)).text == EMOJI * 2048
    # Formatting is parsed out before counting, as Telegram does.
    assert (await bot.send_message(ALICE, f"<b>{EMOJI * 2048}</b>", parse_mode="HTML")).text == EMOJI * 2048


async def test_an_edit_over_4096_units_is_refused(bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "short")
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await bot.edit_message_text(EMOJI * 2049, ALICE, sent.message_id)
    edited = await bot.edit_message_text(EMOJI * 2048, ALICE, sent.message_id)
    assert not isinstance(edited, bool) and edited.text == EMOJI * 2048


async def test_a_caption_over_1024_units_is_refused_on_a_photo_and_in_an_album(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(ALICE, SAMPLE_JPEG, caption=EMOJI * 513)  # 513 characters, 1,026 units
    assert (await bot.send_photo(ALICE, SAMPLE_JPEG, caption=EMOJI * 512)).caption == EMOJI * 512
    album = [InputMediaPhoto(jpeg_bytes(tag=b"1"), caption=EMOJI * 513), InputMediaPhoto(jpeg_bytes(tag=b"2"))]
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_media_group(ALICE, album)


async def test_get_file_refuses_a_photo_over_20_mb_and_serves_its_small_size(api: FakeBotAPI, bot: Bot) -> None:
    api.send_photo(ALICE, jpeg_bytes(tag=b"huge"), file_size=25 * MB)
    api.send_photo(ALICE, jpeg_bytes(tag=b"edge"), file_size=20 * MB)
    huge, edge = (update.message for update in await bot.get_updates())
    assert huge is not None and huge.photo[-1].file_size == 25 * MB
    with pytest.raises(BadRequest, match=r"^File is too big$"):
        await huge.photo[-1].get_file()
    assert (await huge.photo[0].get_file()).file_size == 25 * MB // 20
    # Exactly 20 MB is still served.
    assert edge is not None and (await edge.photo[-1].get_file()).file_size == 20 * MB


async def test_a_document_a_person_sends_is_served_by_get_file_and_refused_over_20_mb(
    api: FakeBotAPI, bot: Bot
) -> None:
    posts = b"time,targets,text\n2026-12-03 18:30,Shop news,Hello\n"
    api.send_document(ALICE, posts, "posts.csv")
    api.send_media(ALICE, "document", b"big", "big.csv", file_size=25 * MB)
    sent, big = (update.message for update in await bot.get_updates())
    assert sent is not None and sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("posts.csv", "text/csv")
    assert bytes(await (await sent.document.get_file()).download_as_bytearray()) == posts
    assert big is not None and big.document is not None and big.document.file_size == 25 * MB
    with pytest.raises(BadRequest, match=r"^File is too big$"):
        await big.document.get_file()
