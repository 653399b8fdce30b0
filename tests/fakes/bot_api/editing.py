"""Editing, deleting and pinning the bot's messages: editMessageText, editMessageCaption,
editMessageMedia, editMessageReplyMarkup, deleteMessage, deleteMessages, pinChatMessage,
unpinChatMessage — refusing what Telegram refuses: a message that is gone or not the bot's, an edit
that changes nothing, a caption edit of a text message, a media edit that would put a kind into an
album that cannot hold it (documents only with documents, audio only with audio, photos and videos
together, never a GIF: MEDIA_GROUPED_INVALID), an edit in a channel where the bot may no longer post;
a delete without the right, or after 48 hours (on the fake's clock) where Telegram allows no more
("message can't be deleted for everyone": private chats and basic groups always; supergroups and
channels unless the bot may delete any message there); a pin without can_pin_messages (groups) or
can_edit_messages (channels). `age_messages` makes messages older.

The refusals' descriptions are Telegram's own where they are known, so that the bot's code that
reads them is tested against what it will meet."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tests.fakes.bot_api.errors import EDIT_NOT_FOUND, NOT_MODIFIED, BotAPIError, JSONDict, bad_request
from tests.fakes.bot_api.formatting import caption_text, message_text
from tests.fakes.bot_api.params import Params, Upload
from tests.fakes.bot_api.sending import VISUAL_KINDS, link_preview_options, reply_markup
from tests.fakes.bot_api.state import BotState, Chat, Message, inline_keyboard

# Seconds after which Telegram lets a message be deleted only by an administrator who may delete
# any message (and in private chats and basic groups not at all).
DELETE_WINDOW = 48 * 3600
MEDIA_KINDS = ("photo", "video", "animation", "document", "audio")
# Which kinds may stand in for an album item of each kind (TDLib: MEDIA_GROUPED_INVALID otherwise).
ALBUM_CLASSES = {"photo": "visual", "video": "visual", "document": "document", "audio": "audio"}
CANT_DELETE = "message can't be deleted"
CANT_DELETE_FOR_EVERYONE = "message can't be deleted for everyone"
CANT_PIN = "not enough rights to pin a message"
CANT_UNPIN = "not enough rights to manage pinned messages in the chat"


class Editing(BotState):
    """editMessageText, editMessageReplyMarkup, deleteMessage(s), pinChatMessage and unpinChatMessage."""

    async def _edit_message_text(self, params: Params) -> JSONDict:
        message = self._editable(params)
        raw = params.opt_str("text")
        if raw is not None and raw.strip() and message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text, entities = message_text(
            raw, params.opt_str("parse_mode"), bad_request("MESSAGE_TOO_LONG"), params.get("entities")
        )
        link_preview_options(params)
        markup = reply_markup(params, editing=True)
        if text == message.text and entities == message.entities and markup == inline_keyboard(message.reply_markup):
            raise BotAPIError(400, NOT_MODIFIED)
        return self._apply_edit(message, text=text, entities=entities, reply_markup=markup)

    async def _edit_message_reply_markup(self, params: Params) -> JSONDict:
        message = self._editable(params)
        markup = reply_markup(params, editing=True)
        if markup == inline_keyboard(message.reply_markup):
            raise BotAPIError(400, NOT_MODIFIED)
        return self._apply_edit(message, reply_markup=markup)

    async def _edit_message_caption(self, params: Params) -> JSONDict:
        message = self._editable(params)
        if message.kind not in MEDIA_KINDS:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = caption_text(
            params.opt_str("caption"), params.opt_str("parse_mode"), params.get("caption_entities")
        )
        markup = reply_markup(params, editing=True)
        above = params.flag("show_caption_above_media") and message.kind in VISUAL_KINDS
        if (
            caption == message.caption
            and entities == message.caption_entities
            and above == message.show_caption_above_media
            and markup == inline_keyboard(message.reply_markup)
        ):
            raise BotAPIError(400, NOT_MODIFIED)
        return self._apply_edit(
            message, caption=caption, caption_entities=entities, show_caption_above_media=above, reply_markup=markup
        )

    async def _edit_message_media(self, params: Params) -> JSONDict:
        message = self._editable(params)
        if message.kind not in MEDIA_KINDS:
            raise bad_request("there is no media in the message to edit")
        media = params.get("media")
        if not isinstance(media, dict):
            raise bad_request("can't parse InputMedia: expected an Object")
        kind = media.get("type")
        if kind not in MEDIA_KINDS:
            raise bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
        if message.media_group_id is not None and (
            kind not in ALBUM_CLASSES or ALBUM_CLASSES[kind] != ALBUM_CLASSES.get(message.kind)
        ):
            raise bad_request("MEDIA_GROUPED_INVALID")
        reference = media.get("media")
        if not isinstance(reference, str) or not reference:
            raise bad_request("can't parse InputMedia: media not found")
        source: Upload | str = params.attached(reference) if reference.startswith("attach://") else reference
        raw, parse_mode = media.get("caption"), media.get("parse_mode")
        caption, entities = caption_text(
            None if raw is None else str(raw), parse_mode and str(parse_mode), media.get("caption_entities")
        )
        markup = reply_markup(params, editing=True)
        if message.media_group_id is not None and markup is not None:
            raise bad_request("reply markup can't be set on a message of an album (refused by the fake Bot API)")
        visual = kind in VISUAL_KINDS
        spoiler = visual and media.get("has_spoiler") is True
        above = visual and media.get("show_caption_above_media") is True
        file = self._media_from(str(kind), source)
        if (
            kind == message.kind
            and _unique_id(file) == _unique_id(getattr(message, message.kind))
            and (caption, entities, spoiler, above) == (message.caption, message.caption_entities,
                                                        message.has_media_spoiler, message.show_caption_above_media)
            and markup == inline_keyboard(message.reply_markup)
        ):  # fmt: skip
            raise BotAPIError(400, NOT_MODIFIED)
        changes: dict[str, Any] = dict.fromkeys(MEDIA_KINDS)
        changes.update(
            {
                str(kind): file,
                "kind": kind,
                "caption": caption,
                "caption_entities": entities,
                "has_media_spoiler": spoiler,
                "show_caption_above_media": above,
                "reply_markup": markup,
            }
        )
        return self._apply_edit(message, **changes)

    async def _delete_message(self, params: Params) -> bool:
        chat = self._chat_for(params.chat_id(), send=False)
        message = self._visible_message(chat, params.req_int("message_id", "message identifier is not specified"))
        if message is None:
            raise bad_request("message to delete not found")
        self._check_delete(chat, message)
        message.deleted = True
        self._changed()
        return True

    def _check_delete(self, chat: Chat, message: Message) -> None:
        """Telegram's rules of deleteMessage for bots, as the Bot API documents them."""
        fresh = self.clock() - message.date < DELETE_WINDOW
        if chat.type == "private":
            if not fresh:
                raise bad_request(CANT_DELETE_FOR_EVERYONE)
            return
        member = self._bot_member(chat)
        admin = member.status in ("creator", "administrator")
        may_delete_any = member.status == "creator" or (
            member.status == "administrator" and member.rights.get("can_delete_messages", False)
        )
        if chat.type == "group":
            # A basic group: the bot's own messages, or any as an administrator; within 48 hours only.
            if not message.from_bot and not admin:
                raise bad_request(CANT_DELETE)
            if not fresh:
                raise bad_request(CANT_DELETE_FOR_EVERYONE)
            return
        if may_delete_any:
            return
        if chat.type == "channel":
            may_post = member.status == "administrator" and member.rights.get("can_post_messages", False)
            if not message.from_bot or not may_post:
                raise bad_request(CANT_DELETE)
        elif not message.from_bot:
            raise bad_request(CANT_DELETE)
        if not fresh:
            raise bad_request(CANT_DELETE_FOR_EVERYONE)

    def age_messages(self, chat_id: int, seconds: float) -> None:
        """Makes every message of the chat `seconds` older (as if sent that much earlier)."""
        for message in self._messages.get(chat_id, {}).values():
            message.date -= int(seconds)

    async def _delete_messages(self, params: Params) -> bool:
        """Deletes 1–100 messages at once; those not found are skipped, and if one found cannot be
        deleted nothing is."""
        chat = self._chat_for(params.chat_id(), send=False)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not ids:
            raise bad_request("message identifiers are not specified")
        if len(ids) > 100:
            raise bad_request("too many message identifiers specified")
        if not all(isinstance(one, int) and not isinstance(one, bool) for one in ids):
            raise bad_request("can't parse message identifiers JSON object")
        found = [message for message in (self._visible_message(chat, one) for one in ids) if message is not None]
        if not found:
            raise bad_request("message to delete not found")
        for message in found:
            self._check_delete(chat, message)
        for message in found:
            message.deleted = True
        return True

    async def _pin_chat_message(self, params: Params) -> bool:
        chat = self._chat_for(params.chat_id(), send=False)
        if not self._may_pin(chat):
            raise bad_request(CANT_PIN)
        message = self._visible_message(chat, params.req_int("message_id", "message identifier is not specified"))
        if message is None:
            raise bad_request("message to pin not found")
        message.pinned, message.pinned_silently = True, params.flag("disable_notification")
        return True

    async def _unpin_chat_message(self, params: Params) -> bool:
        chat = self._chat_for(params.chat_id(), send=False)
        if not self._may_pin(chat):
            raise bad_request(CANT_UNPIN)
        message_id = params.opt_int("message_id")
        pinned = [m for m in self._messages.get(chat.id, {}).values() if m.pinned and not m.deleted]
        if message_id is not None:
            message = self._visible_message(chat, message_id)
            if message is None:
                raise bad_request("message to unpin not found")
            pinned = [message]
        elif not pinned:
            raise bad_request("message to unpin not found")
        # Without a message id Telegram unpins the latest pinned message.
        latest: Sequence[Message] = pinned if message_id is not None else pinned[-1:]
        for message in latest:
            message.pinned = False
        return True

    def _may_pin(self, chat: Chat) -> bool:
        if chat.type == "private":
            return True
        member = self._bot_member(chat)
        right = "can_edit_messages" if chat.type == "channel" else "can_pin_messages"
        return member.status == "creator" or (member.status == "administrator" and member.rights.get(right, False))

    def _editable(self, params: Params) -> Message:
        chat = self._chat_for(params.chat_id(), send=False)
        message = self._visible_message(chat, params.req_int("message_id", "message identifier is not specified"))
        if message is None:
            raise BotAPIError(400, EDIT_NOT_FOUND)
        if not message.from_bot:
            raise bad_request("message can't be edited")
        if chat.type == "channel":
            member = self._bot_member(chat)
            may_post = member.status == "creator" or (
                member.status == "administrator" and member.rights.get("can_post_messages", True)
            )
            if not may_post:
                raise bad_request("need administrator rights in the channel chat")
        return message

    def _apply_edit(self, message: Message, **changes: Any) -> JSONDict:
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = int(time.time())
        return self._message_json(message)


def _unique_id(media: Any) -> str | None:
    """The file_unique_id of a message's media (a photo: of its largest size)."""
    if isinstance(media, list):
        media = media[-1] if media else None
    return media.get("file_unique_id") if isinstance(media, dict) else None
