"""Sending: sendMessage, sendPhoto and sendMediaGroup (photos), each refusing what Telegram refuses
(empty or too long texts and captions, bad keyboards, unknown files, albums of the wrong size) and
counted against the flood limits when those are on."""

from __future__ import annotations

import copy

from tests.fakes.bot_api.errors import TEXT_TOO_LONG, BotAPIError, JSONDict, bad_request, unsupported
from tests.fakes.bot_api.formatting import caption_text, message_text
from tests.fakes.bot_api.limits import CALLBACK_DATA_LIMIT
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
    return copy.deepcopy(markup) if rows else None


class Sending(BotState):
    """sendMessage, sendPhoto and sendMediaGroup."""

    async def _send_message(self, params: Params) -> JSONDict:
        chat = self._chat_for(params.chat_id(), send=True)
        too_long = BotAPIError(400, TEXT_TOO_LONG)
        text, entities = message_text(params.opt_str("text"), params.opt_str("parse_mode"), too_long)
        markup = reply_markup(params)
        return self._post(chat, [{"kind": "text", "text": text, "entities": entities, "reply_markup": markup}])[0]

    async def _send_photo(self, params: Params) -> JSONDict:
        chat = self._chat_for(params.chat_id(), send=True)
        source = params.file_input("photo")
        if source is None:
            raise bad_request('parameter "photo" is required')
        caption, entities = caption_text(params.opt_str("caption"), params.opt_str("parse_mode"))
        markup = reply_markup(params)
        photo = self._photo_from(source)
        sent = {"kind": "photo", "photo": photo, "caption": caption, "caption_entities": entities}
        return self._post(chat, [sent | {"reply_markup": markup}])[0]

    async def _send_media_group(self, params: Params) -> list[JSONDict]:
        chat = self._chat_for(params.chat_id(), send=True)
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
        items: list[tuple[Upload | str, str | None, list[JSONDict]]] = []
        for item in media:
            if not isinstance(item, dict):
                raise bad_request("can't parse InputMedia: object expected")
            if item.get("type") != "photo":
                raise unsupported(f'an InputMedia of type "{item.get("type")}"')
            reference = item.get("media")
            if not isinstance(reference, str) or not reference:
                raise bad_request("can't parse InputMedia: media not found")
            source: Upload | str = reference
            if reference.startswith("attach://"):
                upload = params.uploads.get(reference.removeprefix("attach://"))
                if upload is None:
                    raise bad_request("can't parse InputMedia: media not found")
                source = upload
            raw, parse_mode = item.get("caption"), item.get("parse_mode")
            items.append((source, *caption_text(None if raw is None else str(raw), parse_mode and str(parse_mode))))
        photos = [self._photo_from(source) for source, _, _ in items]
        group_id = str(next(self._media_group_numbers))
        album = [
            {"kind": "photo", "photo": photo, "caption": text, "caption_entities": entities, "media_group_id": group_id}
            for photo, (_, text, entities) in zip(photos, items, strict=True)
        ]
        return self._post(chat, album)

    def _post(self, chat: Chat, messages: list[JSONDict]) -> list[JSONDict]:
        """Posts the bot's messages to the chat, if the flood limits let them through."""
        self._take_rate(chat, len(messages))
        return [self._message_json(self._new_message(chat, **fields)) for fields in messages]

    def _take_rate(self, chat: Chat, count: int) -> None:
        if self.enforce_limits:
            self._flood.take(chat.id, chat.type == "private", count)
