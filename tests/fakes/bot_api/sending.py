"""Sending: sendMessage, sendPhoto, sendVideo, sendAnimation, sendDocument, sendAudio and
sendMediaGroup, each refusing what Telegram refuses — empty or too long texts and captions, bad
entities, bad keyboards (a button's link, too many buttons), unknown files or files of another kind,
uploads over 50 MB, albums of the wrong size, a GIF in an album, documents or audio mixed with other
media, a forum topic that does not exist or is closed (`message_thread_id`) — and counted against
the flood limits when those are on.

Where Telegram silently drops what it cannot use, the fake refuses it instead, so that a test sees
what would have been lost: a `reply_markup` on sendMediaGroup (telegram-bot-api reads none, so the
buttons would vanish)."""

from __future__ import annotations

import copy

from tests.fakes.bot_api.errors import TEXT_TOO_LONG, BotAPIError, JSONDict, bad_request, unsupported
from tests.fakes.bot_api.formatting import caption_text, message_text
from tests.fakes.bot_api.limits import CALLBACK_DATA_LIMIT, UPLOAD_LIMIT
from tests.fakes.bot_api.params import Params, Upload
from tests.fakes.bot_api.state import BotState, Chat

BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Telegram's limit on the buttons under one message ("reply markup is too long" past it).
KEYBOARD_BUTTONS_LIMIT = 100
COPY_TEXT_LIMIT = 256
BUTTON_URL_SCHEMES = ("http://", "https://", "tg://")
# Kinds whose caption may be shown above them and that may hide under a spoiler.
VISUAL_KINDS = frozenset({"photo", "video", "animation"})
# Album items TDLib keeps among their own kind (is_homogenous_media_group_content), by the name
# its error gives them.
HOMOGENOUS_KINDS = {"document": "Document", "audio": "Audio"}
ALBUM_KINDS = frozenset({"photo", "video", "document", "audio"})
LINK_PREVIEW_FLAGS = ("is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text")


def reply_markup(params: Params, *, editing: bool = False) -> JSONDict | None:
    """The inline keyboard a message is sent or edited with (None without one), or the 400."""
    markup = params.get("reply_markup")
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected") if editing else unsupported("a reply_markup but inline keyboards")
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request("can't parse inline keyboard button: Text must be a String")
        if not any(key in button for key in BUTTON_ACTIONS):
            raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
        data = button.get("callback_data")
        if "callback_data" in button and (
            not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT
        ):
            raise bad_request("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not url.lower().startswith(BUTTON_URL_SCHEMES) or " " in url:
                raise bad_request("BUTTON_URL_INVALID")
        if "copy_text" in button:
            copied = button["copy_text"]
            if not isinstance(copied, dict) or not isinstance(copied.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Can't find field \"text\"")
            if not 1 <= len(copied["text"]) <= COPY_TEXT_LIMIT:
                raise bad_request("COPY_TEXT_INVALID")
    if sum(len(row) for row in rows) > KEYBOARD_BUTTONS_LIMIT:
        raise bad_request("reply markup is too long")
    return copy.deepcopy(markup) if rows else None


def link_preview_options(params: Params) -> JSONDict | None:
    """The LinkPreviewOptions a text is sent with (None without), or the 400."""
    options = params.get("link_preview_options")
    if options is None or options == "":
        return None
    if not isinstance(options, dict):
        raise bad_request("Object expected as link preview options")
    for flag in LINK_PREVIEW_FLAGS:
        if flag in options and not isinstance(options[flag], bool):
            raise bad_request(f'Field "{flag}" must be of type Boolean')
    if "url" in options and not isinstance(options["url"], str):
        raise bad_request('Field "url" must be of type String')
    return copy.deepcopy(options)


def _check_upload(source: Upload | str) -> None:
    """Telegram's cloud server takes no file over 50 MB."""
    if isinstance(source, Upload) and len(source.data) > UPLOAD_LIMIT:
        raise BotAPIError(413, "Request Entity Too Large")


def delivery_flags(params: Params) -> JSONDict:
    """How a message was asked to arrive: without a sound, and protected from forwarding and saving."""
    return {"silent": params.flag("disable_notification"), "protected": params.flag("protect_content")}


class Sending(BotState):
    """sendMessage, the single-media methods and sendMediaGroup."""

    async def _send_message(self, params: Params) -> JSONDict:
        chat = self._chat_for(params.chat_id(), send=True)
        thread_id = self._thread_for(chat, params)
        too_long = BotAPIError(400, TEXT_TOO_LONG)
        text, entities = message_text(
            params.opt_str("text"), params.opt_str("parse_mode"), too_long, params.get("entities")
        )
        markup = reply_markup(params)
        preview = link_preview_options(params)
        sent = {"kind": "text", "text": text, "entities": entities, "link_preview_options": preview}
        return self._post(chat, [sent | {"reply_markup": markup} | delivery_flags(params)], thread_id)[0]

    async def _send_photo(self, params: Params) -> JSONDict:
        return self._send_media(params, "photo")

    async def _send_video(self, params: Params) -> JSONDict:
        return self._send_media(params, "video")

    async def _send_animation(self, params: Params) -> JSONDict:
        return self._send_media(params, "animation")

    async def _send_document(self, params: Params) -> JSONDict:
        return self._send_media(params, "document")

    async def _send_audio(self, params: Params) -> JSONDict:
        return self._send_media(params, "audio")

    def _send_media(self, params: Params, kind: str) -> JSONDict:
        chat = self._chat_for(params.chat_id(), send=True)
        thread_id = self._thread_for(chat, params)
        source = params.file_input(kind)
        if source is None:
            raise bad_request(f'parameter "{kind}" is required')
        _check_upload(source)
        caption, entities = caption_text(
            params.opt_str("caption"), params.opt_str("parse_mode"), params.get("caption_entities")
        )
        markup = reply_markup(params)
        sent: JSONDict = {"kind": kind, kind: self._media_from(kind, source), "caption": caption}
        sent["caption_entities"] = entities
        if kind in VISUAL_KINDS:
            sent["has_media_spoiler"] = params.flag("has_spoiler")
            sent["show_caption_above_media"] = params.flag("show_caption_above_media")
        return self._post(chat, [sent | {"reply_markup": markup} | delivery_flags(params)], thread_id)[0]

    async def _send_media_group(self, params: Params) -> list[JSONDict]:
        chat = self._chat_for(params.chat_id(), send=True)
        thread_id = self._thread_for(chat, params)
        if params.get("reply_markup") not in (None, ""):
            raise bad_request(
                "sendMediaGroup takes no reply_markup: Telegram ignores it, so the buttons would be lost "
                "(refused by the fake Bot API)"
            )
        media = params.get("media")
        if media is None or media == "":
            raise bad_request('parameter "media" is required')
        if not isinstance(media, list):
            raise bad_request("expected an Array of InputMedia")
        if not media:
            raise bad_request("there are no messages to send")
        if len(media) > 10:
            raise bad_request("too many messages to send as an album")
        if len(media) < 2:
            raise bad_request("media group must contain 2-10 items")
        items: list[tuple[str, Upload | str, str | None, list[JSONDict], JSONDict]] = []
        for item in media:
            if not isinstance(item, dict):
                raise bad_request("can't parse InputMedia: expected an Object")
            kind = item.get("type")
            if kind == "animation":
                raise bad_request("can't parse InputMedia: type \"animation\" can't be used in sendMediaGroup")
            if kind not in ALBUM_KINDS:
                raise bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
            reference = item.get("media")
            if not isinstance(reference, str) or not reference:
                raise bad_request("can't parse InputMedia: media not found")
            source: Upload | str = reference
            if reference.startswith("attach://"):
                upload = params.uploads.get(reference.removeprefix("attach://"))
                if upload is None:
                    raise bad_request("can't parse InputMedia: media not found")
                source = upload
            _check_upload(source)
            raw, parse_mode = item.get("caption"), item.get("parse_mode")
            text, entities = caption_text(
                None if raw is None else str(raw), parse_mode and str(parse_mode), item.get("caption_entities")
            )
            extra: JSONDict = {}
            if kind in VISUAL_KINDS:
                extra = {
                    "has_media_spoiler": item.get("has_spoiler") is True,
                    "show_caption_above_media": item.get("show_caption_above_media") is True,
                }
            items.append((str(kind), source, text, entities, extra))
        kinds = {kind for kind, *_ in items}
        if len(kinds) > 1:
            # TDLib names whichever such kind it meets first in a set; the fake names the first item's.
            for kind, *_ in items:
                if kind in HOMOGENOUS_KINDS:
                    raise bad_request(f"{HOMOGENOUS_KINDS[kind]} can't be mixed with other media types")
        files = [self._media_from(kind, source) for kind, source, *_ in items]
        group_id = str(next(self._media_group_numbers))
        album = [
            {
                "kind": kind,
                kind: file,
                "caption": text,
                "caption_entities": entities,
                "media_group_id": group_id,
                **extra,
                **delivery_flags(params),
            }
            for file, (kind, _, text, entities, extra) in zip(files, items, strict=True)
        ]
        return self._post(chat, album, thread_id)

    def _post(self, chat: Chat, messages: list[JSONDict], thread_id: int | None = None) -> list[JSONDict]:
        """Posts the bot's messages to the chat (into the forum topic `thread_id`, if given), if the
        flood limits let them through."""
        self._take_rate(chat, len(messages))
        return [
            self._message_json(self._new_message(chat, message_thread_id=thread_id, **fields)) for fields in messages
        ]

    def _take_rate(self, chat: Chat, count: int) -> None:
        if self.enforce_limits:
            self._flood.take(chat.id, chat.type == "private", count)
