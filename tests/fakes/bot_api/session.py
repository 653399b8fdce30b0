"""The bot's session: who it is (getMe), its command list (setMyCommands), the updates it long-polls
(getUpdates, deleteWebhook) and its answers to button presses (answerCallbackQuery)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re

from tests.fakes.bot_api.errors import (
    GET_UPDATES_CONFLICT,
    QUERY_TOO_OLD,
    WEBHOOK_ACTIVE,
    BotAPIError,
    JSONDict,
    bad_request,
)
from tests.fakes.bot_api.params import Params
from tests.fakes.bot_api.state import BotState, scope_key

_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)


class Session(BotState):
    """getMe, setMyCommands, deleteWebhook, getUpdates and answerCallbackQuery."""

    _poll_generation = 0

    async def _get_me(self, params: Params) -> JSONDict:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _command_scope(self, params: Params) -> tuple[str, str]:
        """The (scope, language) key a set/deleteMyCommands names, refused as Telegram refuses it."""
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
            raise bad_request("BOT_COMMAND_SCOPE_INVALID")
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            chat = scope.get("chat_id")
            if not isinstance(chat, int) or (chat not in self._chats and chat not in self._users):
                raise bad_request("chat not found")
            scope = {"type": scope["type"], "chat_id": chat}
        language = params.opt_str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("LANG_CODE_INVALID")
        return scope_key(scope), language

    async def _delete_my_commands(self, params: Params) -> bool:
        self._command_lists.pop(self._command_scope(params), None)
        return True

    async def _set_my_commands(self, params: Params) -> bool:
        key = self._command_scope(params)
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand: object expected")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name.lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("command description is invalid")
            cleaned.append({"command": name.lstrip("/"), "description": description})
        self._command_lists[key] = cleaned
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        self._webhook = None
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_updates(self, params: Params) -> list[JSONDict]:
        if self._webhook is not None:
            raise BotAPIError(409, WEBHOOK_ACTIVE)
        offset = params.opt_int("offset")
        limit = max(1, min(100, params.opt_int("limit") or 100))
        timeout = max(0.0, params.opt_float("timeout") or 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(str(kind) for kind in allowed) if allowed else None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_updates()  # an older long poll still waiting ends with 409 Conflict
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise BotAPIError(409, GET_UPDATES_CONFLICT)
            if self._webhook is not None:
                raise BotAPIError(409, WEBHOOK_ACTIVE)
            if self._updates:
                return [copy.deepcopy(update) for _, update in list(self._updates)[:limit]]
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return []
            signal = self._updates_signal
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining)

    def _confirm(self, offset: int | None) -> None:
        """Forgets the updates an offset confirms (a negative one keeps only the last -offset)."""
        if offset is None or offset == 0:
            return
        if offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
            return
        while self._updates and self._updates[0][0] < offset:
            self._updates.popleft()

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.req_str("callback_query_id")
        if query_id not in self._open_queries:
            raise BotAPIError(400, QUERY_TOO_OLD)
        self._open_queries.discard(query_id)
        self.callback_answers.append(dict(params.values))
        return True
