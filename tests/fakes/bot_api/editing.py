"""Editing and deleting the bot's messages: editMessageText, editMessageReplyMarkup, deleteMessage —
refusing a message that is gone or not the bot's, and an edit that changes nothing."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.bot_api.errors import EDIT_NOT_FOUND, NOT_MODIFIED, BotAPIError, JSONDict, bad_request
from tests.fakes.bot_api.formatting import message_text
from tests.fakes.bot_api.params import Params
from tests.fakes.bot_api.sending import link_preview_options, reply_markup
from tests.fakes.bot_api.state import BotState, Message, inline_keyboard


class Editing(BotState):
    """editMessageText, editMessageReplyMarkup and deleteMessage."""

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
        if chat.type != "private" and not message.from_bot:
            member = self._bot_member(chat)
            allowed = member.status == "creator" or (
                member.status == "administrator" and member.rights.get("can_delete_messages", False)
            )
            if not allowed:
                raise bad_request("message can't be deleted")
        message.deleted = True
        return True

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
