"""The fake Bot API, checked through the real python-telegram-bot: every method and every error
comes back the way PTB parses it from Telegram, and what the fake does not model is refused."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakes.bot_api import SAMPLE_JPEG, FakeBotAPI, RateLimits, image_size, jpeg_bytes

ALICE, BOB, CAROL = 42, 43, 44
CHANNEL, GROUP, SUPERGROUP = -1001000000001, -4000000001, -1001000000002
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter's int
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="menu:go")]])


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.add_user(ALICE, "Alice", "alice")
        server.add_user(BOB, "Bob")
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with make_bot(api) as client:
        yield client


def make_bot(api: FakeBotAPI, token: str | None = None) -> Bot:
    return Bot(token or api.token, base_url=api.base_url, base_file_url=api.base_file_url)


def seconds(retry_after: int | dtm.timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, dtm.timedelta) else float(retry_after)


def retry_after_of(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return seconds(error.retry_after)


async def raw(
    api: FakeBotAPI, method: str, *, token: str | None = None, http: str = "POST", **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    """One request by hand, to see the status and the body as Telegram would send them."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(http, f"{api.base_url}{token or api.token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


# -- The HTTP contract -----------------------------------------------------------------------------


async def test_get_me_is_the_bot_user_and_the_server_listens_on_loopback(api: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.first_name, me.username) == (1000000001, True, "Herald", "herald_test_bot")
    assert api.url.startswith("http://127.0.0.1:")
    assert api.base_url == f"{api.url}/bot" and api.base_file_url == f"{api.url}/file/bot"
    assert [c.method for c in api.calls] == ["getMe", "getMe"]  # initialize() and get_me()


async def test_token_and_bot_id_are_configurable() -> None:
    async with FakeBotAPI(token="123456:OTHER") as api, make_bot(api) as bot:
        assert api.bot_user["id"] == 123456
        assert (await bot.get_me()).id == 123456


async def test_a_wrong_token_is_401_unauthorized(api: FakeBotAPI) -> None:
    status, body = await raw(api, "getMe", token="1000000001:WRONG")
    assert status == 401
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with pytest.raises(InvalidToken):
        await make_bot(api, "1000000001:WRONG").get_me()
    assert api.calls == []


async def test_an_unknown_method_is_404(api: FakeBotAPI, bot: Bot) -> None:
    status, body = await raw(api, "sendTelepathy", data={"chat_id": str(ALICE)})
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": ALICE})


async def test_method_names_are_case_insensitive(api: FakeBotAPI) -> None:
    status, body = await raw(api, "GETME", http="GET")
    assert status == 200 and body["ok"] is True and body["result"]["id"] == api.bot_user["id"]
    assert api.calls[-1].method == "getMe"


async def test_queries_forms_and_multipart_are_read_and_a_json_body_is_refused(api: FakeBotAPI) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    ways: list[dict[str, Any]] = [
        {"http": "GET", "params": {"chat_id": str(ALICE), "text": "query", "reply_markup": json.dumps(markup)}},
        {"data": {"chat_id": str(ALICE), "text": "form", "reply_markup": json.dumps(markup)}},
    ]
    form = aiohttp.FormData()
    form.add_field("chat_id", str(ALICE))
    form.add_field("text", "multipart")
    form.add_field("reply_markup", json.dumps(markup))
    form.add_field("unused", b"bytes", filename="x.bin")  # forces multipart/form-data
    ways.append({"data": form})
    for way in ways:
        status, body = await raw(api, "sendMessage", **way)
        assert status == 200, body
        assert body["result"]["reply_markup"] == markup
    assert [m["text"] for m in api.messages(ALICE)] == ["query", "form", "multipart"]
    assert all(c.params["chat_id"] == ALICE and c.params["reply_markup"] == markup for c in api.calls)
    assert api.calls[-1].params["unused"] == {"upload": "x.bin", "size": 5}
    # PTB never sends JSON bodies; the fake says so rather than reading nothing.
    status, body = await raw(api, "sendMessage", json={"chat_id": ALICE, "text": "json"})
    assert status == 400 and "application/json request body is not supported by the fake" in body["description"]
    assert len(api.messages(ALICE)) == 3


async def test_bad_json_in_a_field_is_a_bad_request(api: FakeBotAPI) -> None:
    status, body = await raw(api, "sendMessage", data={"chat_id": ALICE, "text": "x", "reply_markup": "{nope"})
    assert status == 400
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"


# -- Sending text --------------------------------------------------------------------------------


async def test_send_message_has_the_real_shape_and_per_chat_ids(api: FakeBotAPI, bot: Bot) -> None:
    before = int(time.time())
    first = await bot.send_message(ALICE, "Hello", reply_markup=KEYBOARD)
    second = await bot.send_message(ALICE, "Again")
    other = await bot.send_message(BOB, "Hi Bob")
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.from_user is not None and first.from_user.id == api.bot_user["id"] and first.from_user.is_bot
    assert first.chat.id == ALICE and first.chat.type == "private"
    assert first.chat.first_name == "Alice" and first.chat.username == "alice"
    assert before <= int(first.date.timestamp()) <= int(time.time())
    assert first.reply_markup == KEYBOARD and second.reply_markup is None
    assert first.sender_chat is None and first.edit_date is None
    record = api.bot_messages(ALICE)[-1]
    assert record["text"] == "Again" and record["from_bot"] is True and record["kind"] == "text"
    assert api.messages(ALICE)[0]["reply_markup"] == KEYBOARD.to_dict()


async def test_html_becomes_entities_and_other_formatting_is_refused(api: FakeBotAPI, bot: Bot) -> None:
    html_message = await bot.send_message(
        ALICE, '<b>Bold</b> &amp; <a href="https://e.org">link</a> 🎉 <i>it</i>', parse_mode="HTML"
    )
    assert html_message.text == "Bold & link 🎉 it"
    assert [(e.type, e.offset, e.length) for e in html_message.entities] == [
        ("bold", 0, 4),
        ("text_link", 7, 4),
        ("italic", 15, 2),  # the emoji is two UTF-16 code units
    ]
    assert html_message.entities[1].url == "https://e.org"
    assert api.messages(ALICE)[0]["entities"] == [e.to_dict() for e in html_message.entities]
    with pytest.raises(BadRequest, match=r'Can\'t parse entities: unsupported start tag "x"'):
        await bot.send_message(ALICE, "<x>nope</x>", parse_mode="HTML")
    # Herald formats with HTML only; the rest Telegram reads is refused, not half understood.
    with pytest.raises(BadRequest, match=r'(?i)parse_mode "MarkdownV2" is not supported by the fake'):
        await bot.send_message(ALICE, "*Bold*", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r'(?i)parameter "reply_parameters" is not supported by the fake'):
        await bot.send_message(ALICE, "answer", reply_parameters=ReplyParameters(1))
    with pytest.raises(BadRequest, match=r"(?i)reply_markup but inline keyboards is not supported by the fake"):
        await bot.send_message(ALICE, "keys", reply_markup=ReplyKeyboardMarkup([["A"]]))
    assert len(api.messages(ALICE)) == 1


async def test_text_limits(api: FakeBotAPI, bot: Bot) -> None:
    assert len((await bot.send_message(ALICE, "a" * 4096)).text or "") == 4096
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(ALICE, "a" * 4097)
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(ALICE, "")
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(ALICE, "<b></b>", parse_mode="HTML")
    assert len(api.messages(ALICE)) == 1


async def test_chats_the_bot_does_not_know(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(999, "hello?")
    with pytest.raises(BadRequest, match=r"(?i)chat_id by @username is not supported by the fake"):
        await bot.send_message("@nobody", "hello?")


async def test_channel_posts_have_sender_chat_and_no_from(api: FakeBotAPI, bot: Bot) -> None:
    api.add_chat(CHANNEL, "channel", "Shop news", username="shopnews")
    api.add_chat(SUPERGROUP, "supergroup", "Team")
    post = await bot.send_message(CHANNEL, "In the channel")
    assert post.from_user is None
    assert post.sender_chat is not None and post.sender_chat.id == CHANNEL and post.sender_chat.title == "Shop news"
    assert post.chat.type == "channel" and post.chat.username == "shopnews"
    in_group = await bot.send_message(SUPERGROUP, "In the group")
    assert in_group.from_user is not None and in_group.from_user.id == api.bot_user["id"]
    assert in_group.sender_chat is None and in_group.chat.title == "Team"


# -- Editing and deleting --------------------------------------------------------------------------


async def test_editing_text_sets_edit_date(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "v1", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("<b>v2</b>", ALICE, sent.message_id, parse_mode="HTML", reply_markup=KEYBOARD)
    assert not isinstance(edited, bool)
    assert edited.text == "v2" and edited.edit_date is not None and edited.reply_markup == KEYBOARD
    (record,) = api.messages(ALICE)
    assert record["text"] == "v2" and record["edit_date"] is not None
    # Without reply_markup the keyboard goes, as on Telegram.
    without = await bot.edit_message_text("v2", ALICE, sent.message_id, parse_mode="HTML")
    assert not isinstance(without, bool) and without.reply_markup is None


async def test_an_edit_that_changes_nothing_is_not_modified(bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "same", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"^Message is not modified: specified new message content"):
        await bot.edit_message_text("same", ALICE, sent.message_id, reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=KEYBOARD)


async def test_editing_a_missing_or_deleted_message_is_not_found(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("x", ALICE, 404)
    sent = await bot.send_message(ALICE, "soon gone")
    assert await bot.delete_message(ALICE, sent.message_id) is True
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("x", ALICE, sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(ALICE, sent.message_id)
    person = api.send_text(ALICE, "mine")
    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_text("x", ALICE, person["message_id"])


async def test_reply_markup_edits_and_no_text_edit_on_a_photo(api: FakeBotAPI, bot: Bot) -> None:
    photo = await bot.send_photo(ALICE, SAMPLE_JPEG, caption="old caption")
    text = await bot.send_message(ALICE, "text")
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("x", ALICE, photo.message_id)
    markup = await bot.edit_message_reply_markup(ALICE, text.message_id, reply_markup=KEYBOARD)
    assert not isinstance(markup, bool) and markup.reply_markup == KEYBOARD
    removed = await bot.edit_message_reply_markup(ALICE, text.message_id)
    assert not isinstance(removed, bool) and removed.reply_markup is None
    record = api.messages(ALICE)[1]
    assert record["edit_date"] is not None and record["reply_markup"] is None


async def test_deleting_and_what_stays_visible(api: FakeBotAPI, bot: Bot) -> None:
    first = await bot.send_message(ALICE, "first")
    await bot.send_message(ALICE, "second")
    person = api.send_text(ALICE, "my password")
    assert await bot.delete_message(ALICE, person["message_id"]) is True
    await bot.delete_message(ALICE, 2)
    assert [m["deleted"] for m in api.messages(ALICE)] == [False, True, True]
    assert [m["message_id"] for m in api.bot_messages(ALICE) if not m["deleted"]] == [first.message_id]


# -- Photos, albums, documents, files --------------------------------------------------------------


async def test_send_photo_by_upload_and_by_file_id_and_download(api: FakeBotAPI, bot: Bot) -> None:
    data = jpeg_bytes(1600, 1200, b"upload")
    assert image_size(data) == (1600, 1200)
    sent = await bot.send_photo(ALICE, data, caption="<b>Look</b>", parse_mode="HTML", reply_markup=KEYBOARD)
    assert [(p.width, p.height) for p in sent.photo] == [(90, 68), (1280, 960)]
    assert sent.caption == "Look" and sent.caption_entities[0].type == "bold" and sent.reply_markup == KEYBOARD
    upload = api.calls[-1].params["photo"]
    assert upload["size"] == len(data) and isinstance(upload["upload"], str)
    again = await bot.send_photo(BOB, sent.photo[-1].file_id)
    assert again.photo[-1].file_id == sent.photo[-1].file_id and again.chat.id == BOB
    file = await bot.get_file(sent.photo[-1].file_id)
    assert file.file_path is not None and "/file/bot" in file.file_path and file.file_size == len(data)
    assert bytes(await file.download_as_bytearray()) == data
    assert api.bot_messages(BOB)[-1]["photo"] == sent.photo[-1].file_id


async def test_photo_errors(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(ALICE, "AgACnot-a-file-id")
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(ALICE, SAMPLE_JPEG, caption="c" * 1025)
    assert (await bot.send_photo(ALICE, SAMPLE_JPEG, caption="c" * 1024)).caption == "c" * 1024
    sticker = api.send_sticker(ALICE)
    with pytest.raises(BadRequest, match=r"(?i)type of file mismatch"):
        await bot.send_photo(ALICE, sticker["sticker"]["file_id"])
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_send_media_group_with_uploads_and_file_ids(api: FakeBotAPI, bot: Bot) -> None:
    known = (await bot.send_photo(BOB, jpeg_bytes(tag=b"known"))).photo[-1].file_id
    images = [jpeg_bytes(tag=bytes([n])) for n in range(3)]
    media = [
        InputMediaPhoto(images[0], caption="<i>one</i>", parse_mode="HTML"),
        InputMediaPhoto(images[1]),
        InputMediaPhoto(images[2], caption="three"),
        InputMediaPhoto(known, caption="four"),
    ]
    sent = await bot.send_media_group(ALICE, media)
    assert [m.message_id for m in sent] == [1, 2, 3, 4]
    assert len({m.media_group_id for m in sent}) == 1 and sent[0].media_group_id is not None
    assert [m.caption for m in sent] == ["one", None, "three", "four"]
    assert sent[0].caption_entities[0].type == "italic"
    assert sent[3].photo[-1].file_id == known
    for message, data in zip(sent, images, strict=False):
        assert bytes(await (await message.photo[-1].get_file()).download_as_bytearray()) == data
    params = api.calls_of("sendMediaGroup")[-1].params
    assert [item["media"].startswith("attach://") for item in params["media"]] == [True, True, True, False]
    uploads = [v for v in params.values() if isinstance(v, dict) and "upload" in v]
    assert sorted(u["size"] for u in uploads) == sorted(len(i) for i in images)
    again = await bot.send_media_group(ALICE, [InputMediaPhoto(known), InputMediaPhoto(known)])
    assert again[0].media_group_id != sent[0].media_group_id
    records = api.bot_messages(ALICE)
    assert [r["media_group_id"] for r in records[:4]] == [sent[0].media_group_id] * 4
    assert records[0]["photo"] == sent[0].photo[-1].file_id


async def test_media_group_sizes_and_mistakes_are_400(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)2-10 items"):
        await bot.send_media_group(ALICE, [InputMediaPhoto(SAMPLE_JPEG)])
    with pytest.raises(BadRequest, match=r"(?i)too many messages to send as an album"):
        await bot.send_media_group(ALICE, [InputMediaPhoto(jpeg_bytes(tag=bytes([n]))) for n in range(11)])
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_media_group(
            ALICE, [InputMediaPhoto(SAMPLE_JPEG, caption="c" * 1025), InputMediaPhoto(SAMPLE_JPEG)]
        )
    with pytest.raises(BadRequest, match=r"^Document can't be mixed with other media types$"):
        await bot.send_media_group(ALICE, [InputMediaPhoto(SAMPLE_JPEG), InputMediaDocument(b"doc", filename="a.txt")])
    media = json.dumps([{"type": "photo", "media": "attach://missing"}, {"type": "photo", "media": "attach://gone"}])
    status, body = await raw(api, "sendMediaGroup", data={"chat_id": str(ALICE), "media": media})
    assert status == 400 and body["description"] == "Bad Request: can't parse InputMedia: media not found"
    assert api.messages(ALICE) == []


async def test_a_document_from_a_person_can_be_downloaded(api: FakeBotAPI, bot: Bot) -> None:
    api.send_document(ALICE, b"%PDF-1.4 menu", "menu.pdf")
    update = (await bot.get_updates())[-1]
    assert update.message is not None and update.message.document is not None
    assert update.message.document.file_name == "menu.pdf" and update.message.document.mime_type == "application/pdf"
    downloaded = await (await update.message.document.get_file()).download_as_bytearray()
    assert bytes(downloaded) == b"%PDF-1.4 menu"


async def test_file_download_errors(api: FakeBotAPI) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{api.base_file_url}{api.token}/photos/none.jpg") as response:
            assert response.status == 404 and (await response.json())["ok"] is False
        async with session.get(f"{api.base_file_url}0:WRONG/photos/none.jpg") as response:
            assert response.status == 401


# -- Updates from people ---------------------------------------------------------------------------


async def test_person_messages_arrive_as_updates(api: FakeBotAPI, bot: Bot) -> None:
    command = api.send_text(ALICE, "/start@herald_test_bot deep")
    photo = api.send_photo(BOB, caption="look")
    album = api.send_album(ALICE, [jpeg_bytes(tag=b"a"), jpeg_bytes(tag=b"b")], ["first", None])
    sticker = api.send_sticker(ALICE)
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates) and len(updates) == 5
    first = updates[0].message
    assert first is not None and first.text == "/start@herald_test_bot deep"
    assert first.entities == (MessageEntity("bot_command", 0, 22),)
    assert first.from_user is not None and first.from_user.username == "alice" and not first.from_user.is_bot
    assert first.message_id == command["message_id"]
    assert updates[1].message is not None and updates[1].message.caption == "look"
    assert len(updates[1].message.photo) == 2 and photo["chat"]["id"] == BOB
    group = [u.message for u in updates[2:4]]
    assert all(m is not None and m.media_group_id == album[0]["media_group_id"] for m in group)
    assert [m.caption for m in group if m is not None] == ["first", None]
    assert updates[4].message is not None and updates[4].message.sticker is not None
    assert sticker["sticker"]["file_id"] == updates[4].message.sticker.file_id
    assert api.pending_updates() == 5


async def test_offsets_confirm_updates_and_limit_caps_them(api: FakeBotAPI, bot: Bot) -> None:
    for n in range(3):
        api.send_text(ALICE, f"m{n}")
    two = await bot.get_updates(limit=2)
    assert [u.message.text for u in two if u.message] == ["m0", "m1"]
    assert api.pending_updates() == 3  # returned is not confirmed
    rest = await bot.get_updates(offset=two[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["m2"]
    assert api.pending_updates() == 1
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert api.pending_updates() == 0


async def test_long_polling_waits_and_wakes_on_an_update(api: FakeBotAPI, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2.5
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    assert not poll.done()
    started = time.monotonic()
    api.send_text(ALICE, "wake up")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1.0
    assert updates[0].message is not None and updates[0].message.text == "wake up"
    assert api.calls_of("getUpdates")[-1].params["timeout"] == 10


async def test_a_second_poller_ends_the_first_with_conflict(api: FakeBotAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with make_bot(api) as other_instance:
        second = asyncio.create_task(other_instance.get_updates(timeout=5))
        with pytest.raises(Conflict, match=r"terminated by other getUpdates request"):
            await asyncio.wait_for(first, 2)
        api.send_text(ALICE, "for the second")
        assert len(await asyncio.wait_for(second, 2)) == 1


async def test_allowed_updates_filters_new_updates(api: FakeBotAPI, bot: Bot) -> None:
    await bot.get_updates(allowed_updates=["message"])
    api.press(ALICE, 1, "ignored")
    api.send_text(ALICE, "kept")
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["kept"] and len(updates) == 1


# -- Buttons ---------------------------------------------------------------------------------------


async def test_a_press_is_a_callback_query_with_the_message_as_it_is_now(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "Menu", reply_markup=KEYBOARD)
    await bot.edit_message_text("Menu v2", ALICE, sent.message_id, reply_markup=KEYBOARD)
    query_id = api.press(ALICE, sent.message_id, "menu:go")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.id == query_id and query.data == "menu:go"
    assert query.from_user.id == ALICE and query.chat_instance
    assert query.message is not None and query.message.message_id == sent.message_id
    assert getattr(query.message, "text", None) == "Menu v2"
    assert await bot.answer_callback_query(query_id, text="Done", show_alert=True) is True
    assert api.callback_answers == [
        {"callback_query_id": query_id, "text": "Done", "show_alert": True},
    ]
    with pytest.raises(BadRequest, match=r"^Query is too old and response timeout expired or query id is invalid$"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")


async def test_forged_presses_still_arrive(api: FakeBotAPI, bot: Bot) -> None:
    api.press(BOB, 77, "post:cancel:someone-elses")
    (forged,) = await bot.get_updates()
    assert forged.callback_query is not None and forged.callback_query.data == "post:cancel:someone-elses"
    minimal = forged.callback_query.message
    assert minimal is not None and minimal.message_id == 77 and minimal.chat.id == BOB
    assert getattr(minimal, "text", None) is None


async def test_inline_keyboards_are_checked(api: FakeBotAPI, bot: Bot) -> None:
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(ALICE, "x", reply_markup=too_long)
    text_only = json.dumps({"inline_keyboard": [[{"text": "t"}]]})
    status, body = await raw(api, "sendMessage", data={"chat_id": str(ALICE), "text": "x", "reply_markup": text_only})
    assert status == 400 and "Text buttons are unallowed" in body["description"]


# -- Chats, members, being added and removed ------------------------------------------------------


async def test_chat_members(api: FakeBotAPI, bot: Bot) -> None:
    api.add_chat(SUPERGROUP, "supergroup", "Team", username="team")
    api.set_member(SUPERGROUP, ALICE, "creator")
    api.set_member(SUPERGROUP, BOB, "administrator")
    api.add_user(CAROL, "Carol")
    api.set_member(SUPERGROUP, CAROL, "member")
    api.add_user(45, "Dan")
    api.set_member(SUPERGROUP, 45, "kicked")
    kinds = {
        ALICE: ChatMemberOwner,
        BOB: ChatMemberAdministrator,
        CAROL: ChatMemberMember,
        45: ChatMemberBanned,
        46: ChatMemberLeft,  # never seen: "left"
        api.bot_user["id"]: ChatMemberAdministrator,
    }
    for user_id, kind in kinds.items():
        member = await bot.get_chat_member(SUPERGROUP, user_id)
        assert isinstance(member, kind), (user_id, member)
        assert member.user.id == user_id
    bob = await bot.get_chat_member(SUPERGROUP, BOB)
    assert isinstance(bob, ChatMemberAdministrator) and bob.can_delete_messages and bob.can_pin_messages
    assert isinstance(await bot.get_chat_member(ALICE, ALICE), ChatMemberMember)  # a private chat
    assert isinstance(await bot.get_chat_member(ALICE, BOB), ChatMemberLeft)


async def test_channel_admin_rights_of_the_bot(api: FakeBotAPI, bot: Bot) -> None:
    api.add_chat(CHANNEL, "channel", "Shop news")
    me = await bot.get_chat_member(CHANNEL, api.bot_user["id"])
    assert isinstance(me, ChatMemberAdministrator) and me.can_post_messages is True
    api.set_member(CHANNEL, api.bot_user["id"], "member")
    with pytest.raises(BadRequest, match=r"(?i)need administrator rights in the channel chat"):
        await bot.send_message(CHANNEL, "x")


async def test_the_bot_added_to_and_removed_from_a_channel(api: FakeBotAPI, bot: Bot) -> None:
    api.add_chat(CHANNEL, "channel", "Shop news")
    api.set_member(CHANNEL, ALICE, "administrator")
    added = api.bot_added_to_chat(CHANNEL, ALICE)
    assert added["new_chat_member"]["status"] == "administrator"
    (update,) = await bot.get_updates()
    change = update.my_chat_member
    assert change is not None and change.chat.id == CHANNEL and change.from_user.id == ALICE
    assert isinstance(change.old_chat_member, ChatMemberLeft)
    new = change.new_chat_member
    assert isinstance(new, ChatMemberAdministrator) and new.user.id == api.bot_user["id"]
    assert new.can_post_messages is True and new.can_edit_messages is True
    assert (await bot.send_message(CHANNEL, "hello")).chat.id == CHANNEL

    api.bot_removed_from_chat(CHANNEL, ALICE)
    updates = await bot.get_updates(offset=update.update_id + 1)
    removed = updates[0].my_chat_member
    assert removed is not None and isinstance(removed.new_chat_member, ChatMemberBanned)
    assert isinstance(removed.old_chat_member, ChatMemberAdministrator)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was kicked from the channel chat$"):
        await bot.send_message(CHANNEL, "still there?")
    with pytest.raises(Forbidden):
        await bot.send_photo(CHANNEL, SAMPLE_JPEG)

    api.bot_added_to_chat(CHANNEL, ALICE)
    assert (await bot.send_message(CHANNEL, "back")).message_id == 2
    api.set_member(CHANNEL, api.bot_user["id"], "left")
    with pytest.raises(Forbidden, match=r"bot is not a member of the channel chat"):
        await bot.send_message(CHANNEL, "x")


async def test_the_bot_added_to_a_group_also_sees_new_chat_members(api: FakeBotAPI, bot: Bot) -> None:
    api.add_chat(SUPERGROUP, "supergroup", "Team")
    with pytest.raises(ValueError, match=r"only an administrator adds the bot"):
        api.bot_added_to_chat(SUPERGROUP, BOB)
    api.set_member(SUPERGROUP, BOB, "creator")
    api.bot_added_to_chat(SUPERGROUP, BOB)
    change, joined = await bot.get_updates()
    assert change.my_chat_member is not None and change.my_chat_member.from_user.id == BOB
    assert isinstance(change.my_chat_member.new_chat_member, ChatMemberAdministrator)
    assert joined.message is not None and [u.id for u in joined.message.new_chat_members] == [api.bot_user["id"]]
    assert joined.message.from_user is not None and joined.message.from_user.id == BOB
    assert (await bot.send_message(SUPERGROUP, "hi all")).from_user is not None
    api.bot_removed_from_chat(SUPERGROUP, BOB)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was kicked from the supergroup chat$"):
        await bot.send_message(SUPERGROUP, "x")


async def test_a_group_upgraded_to_a_supergroup_answers_chat_migrated(api: FakeBotAPI, bot: Bot) -> None:
    api.add_chat(GROUP, "group", "Family")
    api.set_member(GROUP, ALICE, "creator")
    api.upgrade_to_supergroup(GROUP, SUPERGROUP)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(GROUP, "hello?")
    assert caught.value.new_chat_id == SUPERGROUP
    status, body = await raw(api, "sendMessage", data={"chat_id": str(GROUP), "text": "x"})
    assert status == 400 and body["description"] == "Bad Request: group chat was upgraded to a supergroup chat"
    assert body["parameters"] == {"migrate_to_chat_id": SUPERGROUP}
    moved = await bot.send_message(caught.value.new_chat_id, "hello")
    assert moved.chat.type == "supergroup" and moved.chat.title == "Family"
    assert isinstance(await bot.get_chat_member(SUPERGROUP, ALICE), ChatMemberOwner)
    old, new = await bot.get_updates()
    assert old.message is not None and old.message.migrate_to_chat_id == SUPERGROUP
    assert new.message is not None and new.message.migrate_from_chat_id == GROUP


# -- Fault injection -------------------------------------------------------------------------------


async def test_fail_next_429_raises_retry_after_and_sends_nothing(api: FakeBotAPI, bot: Bot) -> None:
    api.add_chat(CHANNEL, "channel", "Shop news")
    api.fail_next("sendMediaGroup", error_code=429, retry_after=7, chat_id=CHANNEL, times=2)
    album = [InputMediaPhoto(SAMPLE_JPEG), InputMediaPhoto(SAMPLE_JPEG)]
    assert len(await bot.send_media_group(ALICE, album)) == 2  # another chat is not affected
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_media_group(CHANNEL, album)
        assert retry_after_of(caught.value) == 7
    assert api.bot_messages(CHANNEL) == [] and api.rate_limited == 2
    assert len(await bot.send_media_group(CHANNEL, album)) == 2
    status, body = await raw(api, "sendMessage", data={"chat_id": str(ALICE), "text": "x"})
    assert status == 200
    api.fail_next("sendMessage", error_code=429, retry_after=3)
    status, body = await raw(api, "sendMessage", data={"chat_id": str(ALICE), "text": "x"})
    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
    )


async def test_fail_next_other_errors(api: FakeBotAPI, bot: Bot) -> None:
    api.fail_next("sendMessage", error_code=403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match=r"bot was blocked by the user"):
        await bot.send_message(ALICE, "x")
    api.fail_next("getChatMember", error_code=502)
    with pytest.raises(NetworkError, match=r"Bad Gateway"):
        await bot.get_chat_member(ALICE, ALICE)
    assert api.messages(ALICE) == []
    assert (await bot.send_message(ALICE, "fine now")).text == "fine now"


async def test_delay_holds_the_answer_after_the_message_is_posted(api: FakeBotAPI, bot: Bot) -> None:
    api.delay("sendMessage", 0.6)
    with pytest.raises(TimedOut):
        await bot.send_message(ALICE, "maybe sent", read_timeout=0.15)
    assert [m["text"] for m in api.messages(ALICE)] == ["maybe sent"]  # posted, answer lost
    api.delay("sendMessage", 0.6, before=True)
    with pytest.raises(TimedOut):
        await bot.send_message(ALICE, "never sent", read_timeout=0.15)
    await asyncio.sleep(0.6)
    assert [m["text"] for m in api.messages(ALICE)] == ["maybe sent"]  # cut off before it happened
    api.delay("getMe", 0.3)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.3


# -- Flood limits ----------------------------------------------------------------------------------


async def test_limits_are_off_unless_asked_for(api: FakeBotAPI, bot: Bot) -> None:
    for n in range(5):
        await bot.send_message(ALICE, f"burst {n}")
    assert api.rate_limited == 0


async def test_flood_limits_per_private_chat_per_group_and_per_bot() -> None:
    limits = RateLimits(per_bot=8, per_bot_window=1.0, per_group=5, per_group_window=60.0)
    async with FakeBotAPI(enforce_limits=True, limits=limits) as api, make_bot(api) as bot:
        api.add_user(ALICE, "Alice")
        api.add_user(BOB, "Bob")
        api.add_chat(CHANNEL, "channel", "Shop news")
        await bot.send_message(ALICE, "one")
        with pytest.raises(RetryAfter) as private:
            await bot.send_message(ALICE, "two")
        assert retry_after_of(private.value) == 1
        await bot.send_message(BOB, "another chat is fine")
        await bot.send_media_group(CHANNEL, [InputMediaPhoto(SAMPLE_JPEG) for _ in range(3)])
        await bot.send_message(CHANNEL, "4th")
        with pytest.raises(RetryAfter) as group:
            await bot.send_media_group(CHANNEL, [InputMediaPhoto(SAMPLE_JPEG) for _ in range(2)])  # 6th, 7th
        assert 58 <= retry_after_of(group.value) <= 60
        await bot.send_message(CHANNEL, "5th")
        assert len(api.bot_messages(CHANNEL)) == 5
        # 7 messages so far within the second; the bot-wide window holds 8.
        api.add_user(CAROL, "Carol")
        api.add_user(45, "Dan")
        await bot.send_message(CAROL, "8th overall")
        with pytest.raises(RetryAfter) as overall:
            await bot.send_message(45, "9th overall")
        assert retry_after_of(overall.value) == 1
        assert api.rate_limited == 3


# -- Commands, webhook, housekeeping ---------------------------------------------------------------


async def test_my_commands(api: FakeBotAPI, bot: Bot) -> None:
    assert api.commands == []
    await bot.set_my_commands([BotCommand("new", "Schedule a new post"), BotCommand("help", "How it works")])
    assert api.commands == [
        {"command": "new", "description": "Schedule a new post"},
        {"command": "help", "description": "How it works"},
    ]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])
    assert len(api.commands) == 2


async def test_command_lists_per_scope_and_language_as_telegram_keeps_them(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("new", "Schedule a new post")])
    await bot.set_my_commands([BotCommand("new", "Запланировать пост")], language_code="ru")
    await bot.set_my_commands([BotCommand("new", "Mine")], scope=BotCommandScopeChat(ALICE))
    assert api.commands == [{"command": "new", "description": "Schedule a new post"}]
    assert api.commands_for(language_code="ru") == [{"command": "new", "description": "Запланировать пост"}]
    assert api.commands_for({"type": "chat", "chat_id": ALICE}) == [{"command": "new", "description": "Mine"}]
    await bot.delete_my_commands(scope=BotCommandScopeChat(ALICE))
    assert api.commands_for({"type": "chat", "chat_id": ALICE}) == []
    assert api.commands_for(language_code="ru") != []
    # What Telegram refuses: a language that is not two letters, a chat it does not know.
    with pytest.raises(BadRequest, match=r"(?i)lang_code_invalid"):
        await bot.set_my_commands([BotCommand("new", "x")], language_code="pt_BR")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands([BotCommand("new", "x")], scope=BotCommandScopeChat(987654321))


async def test_delete_webhook_can_drop_pending_updates(api: FakeBotAPI, bot: Bot) -> None:
    api.send_text(ALICE, "queued")
    assert await bot.delete_webhook() is True
    assert api.pending_updates() == 1
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert api.pending_updates() == 0 and await bot.get_updates() == ()


async def test_wait_for_returns_the_value_or_fails_with_a_dump(api: FakeBotAPI, bot: Bot) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(ALICE, "arrived")

    task = asyncio.create_task(later())
    found = await api.wait_for(lambda: api.bot_messages(ALICE), timeout=2)
    await task
    assert found[0]["text"] == "arrived"
    with pytest.raises(AssertionError) as caught:
        await api.wait_for(lambda: len(api.bot_messages(ALICE)) > 1, timeout=0.1, what="a second message")
    dump = str(caught.value)
    assert "a second message" in dump and "sendMessage" in dump and "arrived" in dump


# -- A real Application polling the fake ---------------------------------------------------------


async def test_an_application_polls_answers_start_and_a_button(api: FakeBotAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("Hello <b>there</b>", parse_mode="HTML", reply_markup=KEYBOARD)

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Going")
        await query.edit_message_text(f"You pressed {query.data}")

    app = Application.builder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=1))
        await app.start()
        try:
            api.send_text(ALICE, "/start")
            (welcome,) = await api.wait_for(lambda: api.bot_messages(ALICE))
            assert welcome["text"] == "Hello there" and welcome["reply_markup"] == KEYBOARD.to_dict()
            assert welcome["entities"] == [{"type": "bold", "offset": 6, "length": 5}]
            query_id = api.press(ALICE, welcome["message_id"], "menu:go")
            await api.wait_for(lambda: api.callback_answers and api.bot_messages(ALICE)[-1]["edit_date"])
            assert api.callback_answers[0]["callback_query_id"] == query_id
            assert api.callback_answers[0]["text"] == "Going"
            (edited,) = api.bot_messages(ALICE)
            assert edited["message_id"] == welcome["message_id"]
            assert edited["text"] == "You pressed menu:go" and edited["reply_markup"] is None
            await api.wait_for(lambda: api.pending_updates() == 0)
        finally:
            await app.updater.stop()
            await app.stop()
    methods = {c.method for c in api.calls}
    assert {"getMe", "deleteWebhook", "getUpdates", "sendMessage", "answerCallbackQuery", "editMessageText"} <= methods
