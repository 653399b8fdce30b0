"""python-telegram-bot persistence on Herald's store, so conversations survive a restart.

Values are kept as JSON: handlers keep only JSON-friendly data (str, int, float, bool, None,
lists and dicts with string keys) in `user_data`, `chat_data` and `bot_data`."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage.base import Store

ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]

USER_DATA = "user_data"
CHAT_DATA = "chat_data"
BOT_DATA = "bot_data"
CALLBACK_DATA = "callback_data"
# How often (seconds) the Application writes changed data; short, so a crash loses little.
UPDATE_INTERVAL = 1.0


def _conversation_namespace(name: str) -> str:
    return f"conversation:{name}"


def _key_text(key: ConversationKey) -> str:
    return json.dumps(list(key))


def _key_from_text(text: str) -> ConversationKey:
    return tuple(json.loads(text))


class StorePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """Keeps user, chat and bot data, callback data and conversation states in the Store."""

    def __init__(self, store: Store, update_interval: float = UPDATE_INTERVAL) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=True, user_data=True, callback_data=True),
            update_interval=update_interval,
        )
        self.store = store

    async def _load_ids(self, namespace: str) -> dict[int, dict[str, Any]]:
        return {int(key): value for key, value in (await self.store.load_state(namespace)).items()}

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        """Every user's saved `user_data`."""
        return await self._load_ids(USER_DATA)

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        """Every chat's saved `chat_data`."""
        return await self._load_ids(CHAT_DATA)

    async def get_bot_data(self) -> dict[str, Any]:
        """The saved `bot_data`."""
        saved: dict[str, Any] = (await self.store.load_state(BOT_DATA)).get("bot", {})
        return saved

    async def get_callback_data(self) -> CDCData | None:
        """The saved arbitrary-callback-data cache, if any."""
        saved = (await self.store.load_state(CALLBACK_DATA)).get("cache")
        if saved is None:
            return None
        buttons, mapping = saved
        return [(uuid, stamp, data) for uuid, stamp, data in buttons], dict(mapping)

    async def get_conversations(self, name: str) -> ConversationDict:
        """The saved states of conversation `name`, by chat/user key."""
        saved = await self.store.load_state(_conversation_namespace(name))
        return {_key_from_text(key): state for key, state in saved.items()}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        """Save (or, with None, forget) one conversation's state."""
        await self.store.save_state(_conversation_namespace(name), _key_text(key), new_state)

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        """Save one user's `user_data`."""
        await self.store.save_state(USER_DATA, str(user_id), data)

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        """Save one chat's `chat_data`."""
        await self.store.save_state(CHAT_DATA, str(chat_id), data)

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        """Save the `bot_data`."""
        await self.store.save_state(BOT_DATA, "bot", data)

    async def update_callback_data(self, data: CDCData) -> None:
        """Save the arbitrary-callback-data cache."""
        buttons, mapping = data
        await self.store.save_state(CALLBACK_DATA, "cache", [[list(button) for button in buttons], mapping])

    async def drop_chat_data(self, chat_id: int) -> None:
        """Forget one chat's `chat_data`."""
        await self.store.save_state(CHAT_DATA, str(chat_id), None)

    async def drop_user_data(self, user_id: int) -> None:
        """Forget one user's `user_data`."""
        await self.store.save_state(USER_DATA, str(user_id), None)

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """Nothing to do: this process is the only writer of its users' data."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """Nothing to do: this process is the only writer of its chats' data."""

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        """Nothing to do: this process is the only writer of the bot data."""

    async def flush(self) -> None:
        """Nothing buffered: every update is written as it comes."""
