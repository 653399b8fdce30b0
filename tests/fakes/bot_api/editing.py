"""Editing, deleting and pinning the bot's messages: editMessageText, editMessageReplyMarkup,
deleteMessage, deleteMessages, pinChatMessage, unpinChatMessage — refusing a message that is gone or
not the bot's, an edit that changes nothing, and what the bot's rights or a message's age forbid,
with Telegram's words.

Deleting, as Telegram rules it: in a channel the bot needs can_delete_messages (its creator may
always); in a group or supergroup it may delete its own messages for 48 hours, older ones (and
other people's) only as an administrator with can_delete_messages. Pinning needs can_pin_messages
in a group or supergroup, can_edit_messages in a channel."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tests.fakes.bot_api.errors import EDIT_NOT_FOUND, NOT_MODIFIED, BotAPIError, JSONDict, bad_request
from tests.fakes.bot_api.formatting import message_text
from tests.fakes.bot_api.params import Params
from tests.fakes.bot_api.sending import link_preview_options, reply_markup
from tests.fakes.bot_api.state import BotState, Chat, Message, inline_keyboard

# How long the bot may delete its own messages in a group without the right to delete any.
OWN_MESSAGE_DELETE_WINDOW = 48 * 3600
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

    async def _delete_message(self, params: Params) -> bool:
        chat = self._chat_for(params.chat_id(), send=False)
        message = self._visible_message(chat, params.req_int("message_id", "message identifier is not specified"))
        if message is None:
            raise bad_request("message to delete not found")
        self._check_deletable(chat, message)
        message.deleted = True
        return True

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
            self._check_deletable(chat, message)
        for message in found:
            message.deleted = True
        return True

    def _check_deletable(self, chat: Chat, message: Message) -> None:
        if chat.type == "private":
            return
        member = self._bot_member(chat)
        may_delete_any = member.status == "creator" or (
            member.status == "administrator" and member.rights.get("can_delete_messages", False)
        )
        if may_delete_any:
            return
        if chat.type == "channel" or not message.from_bot:
            raise bad_request(CANT_DELETE)
        if self.clock() - message.date > OWN_MESSAGE_DELETE_WINDOW:
            raise bad_request(CANT_DELETE_FOR_EVERYONE)

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
        return message

    def _apply_edit(self, message: Message, **changes: Any) -> JSONDict:
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = int(time.time())
        return self._message_json(message)
