"""The fake Bot API's content methods against the real python-telegram-bot: explicit entities read
and held to the text as Telegram does, every media kind by upload and by file_id, albums only of
what Telegram groups, buttons and link preview options — and each refusal Telegram gives."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    LinkPreviewOptions,
    MessageEntity,
)
from telegram.error import BadRequest, NetworkError

from tests.fakes.bot_api import SAMPLE_JPEG, FakeBotAPI, jpeg_bytes

ALICE = 42
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"video-bytes" * 40
EMOJI = "😀"
URL_BUTTONS = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Order", url="https://shop.example")],
        [InlineKeyboardButton("Code", copy_text=CopyTextButton("SAVE10"))],
    ]
)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.add_user(ALICE, "Alice", "alice")
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


async def raw(api: FakeBotAPI, method: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    """A form-encoded request as any client could make it; (HTTP status, JSON body)."""
    data = {name: value if isinstance(value, str) else json.dumps(value) for name, value in fields.items()}
    url = f"{api.base_url}{api.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, data=data) as response:
        return response.status, await response.json()


async def test_explicit_entities_arrive_as_given_and_those_telegram_finds_itself_are_dropped(
    api: FakeBotAPI, bot: Bot
) -> None:
    text = f"Sale {EMOJI} today: shop.example #deal"
    given = [
        MessageEntity("bold", 0, 4),
        MessageEntity("spoiler", 5, 2),  # the emoji, two UTF-16 units
        MessageEntity("text_link", 8, 5, url="https://shop.example"),
        MessageEntity("url", 15, 12),
        MessageEntity("hashtag", 28, 5),
    ]
    sent = await bot.send_message(ALICE, text, entities=given)
    assert sent.text == text
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 4),
        ("spoiler", 5, 2),
        ("text_link", 8, 5),
    ]
    assert api.messages(ALICE)[0]["entities"][2] == {
        "type": "text_link",
        "offset": 8,
        "length": 5,
        "url": "https://shop.example",
    }
    photo = await bot.send_photo(
        ALICE, SAMPLE_JPEG, caption="Look here", caption_entities=[MessageEntity("italic", 5, 4)]
    )
    assert [(e.type, e.offset, e.length) for e in photo.caption_entities] == [("italic", 5, 4)]
    assert api.refusals == []


async def test_a_parse_mode_wins_over_explicit_entities_as_on_telegram(bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "<b>x</b> y", parse_mode="HTML", entities=[MessageEntity("italic", 2, 1)])
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 1)]


@pytest.mark.parametrize(
    ("text", "entities", "refusal"),
    [
        (
            "hello",
            [{"type": "bold", "offset": 0, "length": 100}],
            "entity beginning at UTF-16 offset 0 ends after the end of the text at UTF-16 offset 100",
        ),
        (
            "hello",
            [{"type": "bold", "offset": 100, "length": 1}],
            "entity begins after the end of the text at UTF-16 offset 100",
        ),
        (
            f"a{EMOJI}b",
            [{"type": "bold", "offset": 0, "length": 2}],
            "entity beginning at UTF-16 offset 0 ends in a middle of a UTF-16 symbol at byte offset 5",
        ),
        (
            f"a{EMOJI}b",
            [{"type": "bold", "offset": 2, "length": 2}],
            "entity begins in a middle of a UTF-16 symbol at byte offset 5",
        ),
        (
            "hello",
            [{"type": "shiny", "offset": 0, "length": 2}],
            "can't parse MessageEntity: Unsupported type specified",
        ),
        (
            "hello",
            [{"type": "text_link", "offset": 0, "length": 2}],
            "can't parse MessageEntity: Can't find field \"url\"",
        ),
        ("hello", [{"type": "bold", "length": 2}], "can't parse MessageEntity: Can't find field \"offset\""),
        (
            "hello",
            [{"type": "text_link", "offset": 0, "length": 2, "url": "ftp://x"}],
            "entity URL 'ftp://x' is invalid: Wrong HTTP URL",
        ),
        (
            "hello",
            {"type": "bold", "offset": 0, "length": 2},
            "entities must be a JSON array (Telegram would ignore them all)",
        ),
    ],
)
async def test_entities_telegram_refuses_are_refused(
    api: FakeBotAPI, text: str, entities: object, refusal: str
) -> None:
    status, body = await raw(api, "sendMessage", chat_id=str(ALICE), text=text, entities=entities)
    assert (status, body["description"]) == (400, f"Bad Request: {refusal}")
    assert api.messages(ALICE) == [] and api.refusals == [("sendMessage", f"Bad Request: {refusal}")]


async def test_a_span_of_whitespace_only_is_dropped_and_trailing_whitespace_cut(bot: Bot) -> None:
    sent = await bot.send_message(
        ALICE, "Hi there   ", entities=[MessageEntity("bold", 2, 1), MessageEntity("italic", 3, 8)]
    )
    assert sent.text == "Hi there"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("italic", 3, 5)]


@pytest.mark.parametrize(
    ("method", "field", "data", "name"),
    [
        ("send_video", "video", MP4, "clip.mp4"),
        ("send_animation", "animation", MP4, "dance.mp4"),
        ("send_document", "document", b"%PDF-1.4 menu", "menu.pdf"),
        ("send_audio", "audio", b"ID3\x03audio", "song.mp3"),
    ],
)
async def test_each_media_kind_goes_by_upload_then_by_file_id(
    api: FakeBotAPI, bot: Bot, method: str, field: str, data: bytes, name: str
) -> None:
    send = getattr(bot, method)
    first = await send(ALICE, InputFile(data, filename=name), caption="One", reply_markup=URL_BUTTONS)
    media = getattr(first, field)
    assert media is not None and first.caption == "One" and first.reply_markup == URL_BUTTONS
    again = await send(ALICE, media.file_id)
    assert getattr(again, field).file_id == media.file_id
    assert bytes(await (await bot.get_file(media.file_id)).download_as_bytearray()) == data
    assert [record[field] for record in api.bot_messages(ALICE)] == [media.file_id, media.file_id]
    with pytest.raises(BadRequest, match=r"^Type of file mismatch$"):
        await bot.send_photo(ALICE, media.file_id)


async def test_spoilers_and_the_caption_above_are_kept(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_video(
        ALICE, InputFile(MP4, filename="a.mp4"), caption="Up", has_spoiler=True, show_caption_above_media=True
    )
    record = api.bot_messages(ALICE)[0]
    assert record["has_media_spoiler"] and record["show_caption_above_media"] and record["kind"] == "video"


async def test_photos_and_videos_share_an_album_documents_and_audio_only_their_own(api: FakeBotAPI, bot: Bot) -> None:
    mixed = await bot.send_media_group(
        ALICE, [InputMediaPhoto(SAMPLE_JPEG, caption="p"), InputMediaVideo(MP4, filename="v.mp4", caption="v")]
    )
    assert [bool(m.photo) for m in mixed] == [True, False] and mixed[1].video is not None
    files = await bot.send_media_group(
        ALICE, [InputMediaDocument(b"one", filename="1.txt"), InputMediaDocument(b"two", filename="2.txt")]
    )
    assert all(m.document is not None for m in files)
    songs = await bot.send_media_group(
        ALICE, [InputMediaAudio(b"ID3a", filename="a.mp3"), InputMediaAudio(b"ID3b", filename="b.mp3")]
    )
    assert all(m.audio is not None for m in songs)
    with pytest.raises(BadRequest, match=r"^Document can't be mixed with other media types$"):
        await bot.send_media_group(ALICE, [InputMediaDocument(b"d", filename="d.txt"), InputMediaPhoto(SAMPLE_JPEG)])
    with pytest.raises(BadRequest, match=r"^Audio can't be mixed with other media types$"):
        await bot.send_media_group(ALICE, [InputMediaAudio(b"ID3", filename="a.mp3"), InputMediaVideo(MP4)])
    sent_before = len(api.bot_messages(ALICE))
    media = json.dumps([{"type": "animation", "media": "x"}, {"type": "photo", "media": "y"}])
    status, body = await raw(api, "sendMediaGroup", chat_id=str(ALICE), media=media)
    assert status == 400 and body["description"] == (
        "Bad Request: can't parse InputMedia: type \"animation\" can't be used in sendMediaGroup"
    )
    assert len(api.bot_messages(ALICE)) == sent_before


async def test_an_album_takes_no_buttons_where_telegram_would_drop_them(api: FakeBotAPI) -> None:
    known = jpeg_bytes(tag=b"k")
    async with Bot(api.token, base_url=api.base_url) as bot:
        file_id = (await bot.send_photo(ALICE, known)).photo[-1].file_id
    media = json.dumps([{"type": "photo", "media": file_id}, {"type": "photo", "media": file_id}])
    status, body = await raw(api, "sendMediaGroup", chat_id=str(ALICE), media=media, reply_markup=URL_BUTTONS.to_dict())
    assert status == 400 and "takes no reply_markup" in body["description"]
    assert len(api.bot_messages(ALICE)) == 1


@pytest.mark.parametrize(
    ("markup", "refusal"),
    [
        ({"inline_keyboard": [[{"text": "Shop", "url": "ftp://shop.example"}]]}, "BUTTON_URL_INVALID"),
        ({"inline_keyboard": [[{"text": "Code", "copy_text": {"text": ""}}]]}, "COPY_TEXT_INVALID"),
        (
            {"inline_keyboard": [[{"text": "Code", "copy_text": "SAVE10"}]]},
            "can't parse inline keyboard button: Can't find field \"text\"",
        ),
        (
            {"inline_keyboard": [[{"text": str(n), "url": "https://a.example"}] for n in range(101)]},
            "reply markup is too long",
        ),
    ],
)
async def test_buttons_telegram_refuses_are_refused(api: FakeBotAPI, markup: dict[str, Any], refusal: str) -> None:
    status, body = await raw(api, "sendMessage", chat_id=str(ALICE), text="x", reply_markup=markup)
    assert (status, body["description"]) == (400, f"Bad Request: {refusal}")


async def test_link_preview_options_arrive_as_sent_and_bad_ones_are_refused(api: FakeBotAPI, bot: Bot) -> None:
    options = LinkPreviewOptions(show_above_text=True, prefer_large_media=True)
    await bot.send_message(ALICE, "https://shop.example", link_preview_options=options)
    await bot.send_message(ALICE, "https://shop.example")
    assert [record["link_preview_options"] for record in api.bot_messages(ALICE)] == [
        {"show_above_text": True, "prefer_large_media": True},
        None,
    ]
    status, body = await raw(
        api, "sendMessage", chat_id=str(ALICE), text="x", link_preview_options={"is_disabled": "yes"}
    )
    assert (status, body["description"]) == (400, 'Bad Request: Field "is_disabled" must be of type Boolean')
    status, body = await raw(api, "sendMessage", chat_id=str(ALICE), text="x", link_preview_options=[1])
    assert (status, body["description"]) == (400, "Bad Request: Object expected as link preview options")


async def test_an_upload_over_50_mb_is_refused_as_telegrams_cloud_refuses_it(api: FakeBotAPI, bot: Bot) -> None:
    # HTTP 413, which python-telegram-bot raises as a NetworkError, as it does for Telegram's.
    with pytest.raises(NetworkError, match=r"^Request Entity Too Large$"):
        await bot.send_document(ALICE, InputFile(b"\0" * (50 * 1024 * 1024 + 1), filename="big.bin"))
    assert api.bot_messages(ALICE) == []


async def test_a_person_sends_every_kind_and_the_bot_can_download_it(api: FakeBotAPI, bot: Bot) -> None:
    api.send_media(ALICE, "video", MP4, "clip.mp4", "Clip", has_spoiler=True)
    api.send_media(ALICE, "animation", MP4, "dance.mp4")
    api.send_media(ALICE, "audio", b"ID3song", "song.mp3")
    api.send_document(ALICE, b"%PDF", "menu.pdf", "The menu")
    album = api.send_mixed_album(ALICE, [("photo", SAMPLE_JPEG, "p"), ("video", MP4, "v")])
    api.send_text(ALICE, "Big sale", entities=[{"type": "bold", "offset": 0, "length": 3}])
    updates = await bot.get_updates()
    messages = [update.message for update in updates]
    assert all(message is not None for message in messages)
    video, gif, song, menu, photo, clip, text = (m for m in messages if m is not None)
    assert video.video is not None and video.has_media_spoiler and video.caption == "Clip"
    assert gif.animation is not None and gif.document is not None  # a GIF is a document too, as on Telegram
    assert song.audio is not None and menu.document is not None and menu.caption == "The menu"
    assert photo.media_group_id == clip.media_group_id == album[0]["media_group_id"] and clip.video is not None
    assert text.entities == (MessageEntity("bold", 0, 3),)
    assert bytes(await (await video.video.get_file()).download_as_bytearray()) == MP4
