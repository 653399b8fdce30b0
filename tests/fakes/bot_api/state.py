"""What the fake Telegram knows: users, chats and who is a member where, messages, files and the
updates waiting for the bot; how it all looks in the Bot API's JSON, and how tests read it back.

``BotState`` is the base every part of ``FakeBotAPI`` builds on. It also answers the requests
that only read it: getChat, getChatMember and getFile.

Forum supergroups (``add_chat(..., is_forum=True)``) have topics, made by people through
``Person.topic_created``: a topic's thread id is the id of the service message that created it, and
a message sent with ``message_thread_id`` goes into that topic — refused as Telegram refuses it when
the topic does not exist or was deleted ("message thread not found") or is closed ("TOPIC_CLOSED",
unless the bot may manage topics).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import mimetypes
import secrets
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.bot_api.errors import (
    THREAD_NOT_FOUND,
    TOPIC_CLOSED,
    UPGRADED,
    BotAPIError,
    JSONDict,
    bad_request,
    forbidden,
)
from tests.fakes.bot_api.limits import DOWNLOAD_LIMIT, FloodWindows, RateLimits
from tests.fakes.bot_api.params import Params, Upload

if TYPE_CHECKING:
    from tests.fakes.bot_api.webhook import WebhookSet

DEFAULT_TOKEN = "1000000001:TEST-TOKEN"
DEFAULT_MIME_TYPES = {
    "video": "video/mp4",
    "animation": "video/mp4",
    "document": "application/octet-stream",
    "audio": "audio/mpeg",
}
CHAT_TYPES = ("channel", "group", "supergroup")
MEMBER_STATUSES = ("creator", "administrator", "member", "left", "kicked")
# Update types delivered when the bot has not chosen `allowed_updates` (as Telegram does).
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "my_chat_member",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "chat_join_request",
    }
)


def jpeg_bytes(width: int = 640, height: int = 480, tag: bytes = b"") -> bytes:
    """Small JPEG-looking bytes (SOI, JFIF, SOF0 with the given size, EOI); `tag` makes them unique."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    comment = b"\xff\xfe" + struct.pack(">H", len(tag) + 2) + tag if tag else b""
    return b"\xff\xd8" + app0 + comment + sof0 + b"\xff\xd9"


SAMPLE_JPEG = jpeg_bytes(640, 480, b"herald-sample")


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a JPEG's frame header, or None."""
    if not data.startswith(b"\xff\xd8"):
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:
            i += 1 if marker == 0xFF else 2
            continue
        if marker in (0xD9, 0xDA):
            return None
        (segment,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and i + 9 <= len(data):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + segment
    return None


def inline_keyboard(markup: JSONDict | None) -> JSONDict | None:
    """The markup as it shows on a message: an inline keyboard with at least one row, else None."""
    if markup and isinstance(markup.get("inline_keyboard"), list) and markup["inline_keyboard"]:
        return markup
    return None


def button_texts(markup: JSONDict | None) -> list[list[str]]:
    keyboard = inline_keyboard(markup)
    if keyboard is None:
        return []
    return [[str(button.get("text", "")) for button in row] for row in keyboard["inline_keyboard"]]


@dataclass
class User:
    """A person who has started the bot."""

    id: int
    first_name: str
    username: str | None = None
    # The person blocked the bot: Telegram refuses every message to them (403).
    blocked_bot: bool = False
    # Their app's language (IETF tag, as Telegram sends it); None: Telegram sends none.
    language_code: str | None = "en"

    def to_json(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class Member:
    """Someone's status in a chat, and an administrator's rights."""

    status: str
    rights: dict[str, bool] = field(default_factory=dict)


@dataclass
class Topic:
    """A topic of a forum supergroup; its thread id is the id of the message that created it."""

    thread_id: int
    name: str
    icon_color: int
    closed: bool = False


@dataclass
class Chat:
    """A private chat, group, supergroup or channel, and who is a member there."""

    id: int
    type: str
    name: str  # a group's or channel's title, a private chat's first name
    username: str | None = None
    members: dict[int, Member] = field(default_factory=dict)
    migrated_to: int | None = None
    next_message_id: int = 1
    # A supergroup with topics turned on, and its topics (deleted ones are gone).
    is_forum: bool = False
    topics: dict[int, Topic] = field(default_factory=dict)

    def to_json(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "type": self.type}
        data["first_name" if self.type == "private" else "title"] = self.name
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class File:
    """A file Telegram keeps, by file_id and by the path getFile gives."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    mime_type: str
    file_name: str | None = None
    # The size Telegram knows the file by, when a test declares one bigger than the bytes kept
    # (a 25 MB photo without 25 MB in memory).
    declared_size: int | None = None

    @property
    def size(self) -> int:
        return self.declared_size if self.declared_size is not None else len(self.data)


@dataclass
class Message:
    """A message as it stands now (deleted ones are kept, marked)."""

    chat_id: int
    message_id: int
    date: int
    kind: str  # text, photo, video, animation, document, audio, sticker, service
    from_bot: bool
    from_user_id: int | None = None
    text: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSONDict] = field(default_factory=list)
    photo: list[JSONDict] | None = None
    video: JSONDict | None = None
    animation: JSONDict | None = None
    document: JSONDict | None = None
    audio: JSONDict | None = None
    sticker: JSONDict | None = None
    has_media_spoiler: bool = False
    show_caption_above_media: bool = False
    # What a text was sent with (the fake shows no preview; tests read what was asked).
    link_preview_options: JSONDict | None = None
    media_group_id: str | None = None
    reply_markup: JSONDict | None = None
    service: JSONDict = field(default_factory=dict)
    # The forum topic the message is in (None: the chat itself, a forum's General topic included).
    message_thread_id: int | None = None
    # Where a forwarded message came from (Telegram's MessageOrigin), None for one written here.
    forward_origin: JSONDict | None = None
    deleted: bool = False
    edit_date: int | None = None
    # Sent with disable_notification / protect_content; pinned now (and whether the pin was silent).
    silent: bool = False
    protected: bool = False
    pinned: bool = False
    pinned_silently: bool = False


class BotState:
    """The fake Telegram's memory, and the refusals that depend on it."""

    _closing = False  # the server is stopping: a waiting long poll answers at once

    def __init__(self, token: str, enforce_limits: bool, limits: RateLimits) -> None:
        self._token = token
        self._bot_id = int(token.partition(":")[0])
        self.enforce_limits = enforce_limits
        self._flood = FloodWindows(limits)
        self.callback_answers: list[JSONDict] = []
        self.rate_limited = 0

        self._users: dict[int, User] = {}
        self._chats: dict[int, Chat] = {}
        self._messages: dict[int, dict[int, Message]] = {}
        self._files: dict[str, File] = {}
        self._files_by_path: dict[str, File] = {}
        self._photo_sizes: dict[str, list[JSONDict]] = {}
        self._open_queries: set[str] = set()
        # setMyCommands' lists by (scope as JSON, language code); ("default", "") is the plain one.
        self._command_lists: dict[tuple[str, str], list[JSONDict]] = {}
        self._allowed_updates: frozenset[str] | None = None
        # Set by setWebhook (webhook.py): updates are then POSTed to it, and getUpdates refused.
        self._webhook: WebhookSet | None = None
        self._updates: deque[tuple[int, JSONDict]] = deque()
        self._update_ids = itertools.count(500_000_001)
        self._file_numbers = itertools.count(1)
        self._query_numbers = itertools.count(1)
        self._media_group_numbers = itertools.count(13_000_000_000_000_001)
        self._updates_signal = asyncio.Event()
        self._state_signal = asyncio.Event()
        # Seconds the fake Telegram's clock runs ahead of the real one (`advance_clock`): message
        # dates and the age rules of deleting (48 h) follow it.
        self._clock_offset = 0.0

    def clock(self) -> float:
        """The fake Telegram's time, in seconds since the epoch."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Moves the fake Telegram's clock forward: the messages sent so far are `seconds` older."""
        self._clock_offset += seconds

    @property
    def token(self) -> str:
        return self._token

    @property
    def bot_user(self) -> JSONDict:
        return {"id": self._bot_id, "is_bot": True, "first_name": "Herald", "username": "herald_test_bot"}

    # -- Setting up people and chats ---------------------------------------------------------------

    def add_user(
        self, user_id: int, first_name: str = "User", username: str | None = None, *, language_code: str | None = "en"
    ) -> JSONDict:
        """A person who has started the bot; their private chat has id == user_id."""
        if user_id <= 0 or user_id in self._users:
            raise ValueError(f"user ids are positive and new, not {user_id}")
        user = self._users[user_id] = User(user_id, first_name, username, language_code=language_code)
        return user.to_json()

    def set_user_language(self, user_id: int, language_code: str | None) -> None:
        """The person switched their app's language: their next updates carry the new code."""
        self._users[user_id].language_code = language_code

    def add_chat(
        self, chat_id: int, type: str, title: str, username: str | None = None, *, is_forum: bool = False
    ) -> JSONDict:
        """A channel, group or supergroup (`is_forum`: a supergroup with topics). The bot starts as
        administrator there, so sends work at once; `bot_added_to_chat` still reports it as newly
        added."""
        if type not in CHAT_TYPES:
            raise ValueError(f"chat type must be one of {CHAT_TYPES}, not {type!r}")
        if chat_id in self._chats or chat_id in self._users:
            raise ValueError(f"chat {chat_id} exists already")
        if is_forum and type != "supergroup":
            raise ValueError("only a supergroup can be a forum")
        chat = self._chats[chat_id] = Chat(chat_id, type, title, username.lstrip("@") if username else None)
        chat.is_forum = is_forum
        if is_forum:
            # Thread id 1 is the General topic (the chat itself): the first topic made is 2 or more.
            chat.next_message_id = 2
        self._set_status(chat, self._bot_id, "administrator")
        self._changed()
        return chat.to_json()

    def set_bot_rights(self, chat_id: int, **rights: bool) -> None:
        """Changes administrator rights of the bot in a chat (e.g. can_delete_messages=False)."""
        member = self._bot_member(self._group_chat(chat_id))
        if member.status != "administrator":
            raise ValueError("the bot is not an administrator there")
        member.rights.update(rights)
        self._changed()

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Set someone's status in a chat (no update is sent); for the bot itself use bot_user["id"]."""
        chat = self._group_chat(chat_id)
        if user_id != self._bot_id:
            self._user(user_id)
        self._set_status(chat, user_id, status)
        self._changed()

    # -- Reading back ------------------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[JSONDict]:
        """Every message in the chat, in order (the bot's and people's, deleted ones too), as records
        of their current state: chat_id, message_id, date, from_bot, from_user_id, kind, text,
        entities, caption, caption_entities, photo (the largest size's file_id), video, animation,
        document, audio (file_ids), has_media_spoiler, show_caption_above_media,
        link_preview_options, media_group_id, reply_markup, deleted, edit_date, message_thread_id
        (the forum topic it is in, or None), disable_notification, protect_content, pinned,
        pinned_silently."""
        return [self._record(m) for m in self._messages.get(chat_id, {}).values()]

    def topics(self, chat_id: int) -> dict[int, str]:
        """The forum's topics as they are now: thread id → name (deleted ones are gone)."""
        return {thread_id: topic.name for thread_id, topic in self._group_chat(chat_id).topics.items()}

    def bot_messages(self, chat_id: int) -> list[JSONDict]:
        """The bot's messages in the chat (records as in `messages`)."""
        return [r for r in self.messages(chat_id) if r["from_bot"]]

    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    @property
    def commands(self) -> list[JSONDict]:
        """The list given by the last setMyCommands for every chat and no particular language."""
        return self.commands_for()

    def commands_for(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The list set for `scope` (default: every chat) and `language_code` ("" for none)."""
        key = (scope_key(scope or {"type": "default"}), language_code)
        return copy.deepcopy(self._command_lists.get(key, []))

    def _record(self, message: Message) -> JSONDict:
        return {
            "chat_id": message.chat_id,
            "message_id": message.message_id,
            "date": message.date,
            "from_bot": message.from_bot,
            "from_user_id": message.from_user_id,
            "kind": message.kind,
            "text": message.text,
            "entities": copy.deepcopy(message.entities),
            "caption": message.caption,
            "caption_entities": copy.deepcopy(message.caption_entities),
            "photo": message.photo[-1]["file_id"] if message.photo else None,
            "video": message.video["file_id"] if message.video else None,
            "animation": message.animation["file_id"] if message.animation else None,
            "document": message.document["file_id"] if message.document else None,
            "audio": message.audio["file_id"] if message.audio else None,
            "has_media_spoiler": message.has_media_spoiler,
            "show_caption_above_media": message.show_caption_above_media,
            "link_preview_options": copy.deepcopy(message.link_preview_options),
            "media_group_id": message.media_group_id,
            "reply_markup": copy.deepcopy(message.reply_markup),
            "deleted": message.deleted,
            "edit_date": message.edit_date,
            "message_thread_id": message.message_thread_id,
            "disable_notification": message.silent,
            "protect_content": message.protected,
            "pinned": message.pinned,
            "pinned_silently": message.pinned_silently,
        }

    # -- Signals and updates -----------------------------------------------------------------------

    def _changed(self) -> None:
        """Wakes whoever waits for the state to change (`wait_for`)."""
        self._state_signal.set()
        self._state_signal = asyncio.Event()

    def _notify_updates(self) -> None:
        """Wakes a waiting long poll."""
        self._updates_signal.set()
        self._updates_signal = asyncio.Event()

    def _enqueue(self, kind: str, payload: JSONDict) -> None:
        allowed = self._allowed_updates if self._allowed_updates is not None else DEFAULT_UPDATE_TYPES
        if kind not in allowed:
            return
        update_id = next(self._update_ids)
        self._updates.append((update_id, {"update_id": update_id, kind: copy.deepcopy(payload)}))
        self._notify_updates()
        self._changed()

    # -- Users, chats, members ---------------------------------------------------------------------

    def _user(self, user_id: int) -> User:
        user = self._users.get(user_id)
        if user is None:
            raise ValueError(f"no user {user_id}; add_user() them first")
        return user

    def _private_chat(self, user: User) -> Chat:
        chat = self._chats.get(user.id)
        if chat is None:
            chat = self._chats[user.id] = Chat(user.id, "private", user.first_name, user.username)
        return chat

    def _group_chat(self, chat_id: int) -> Chat:
        chat = self._chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise ValueError(f"no group or channel {chat_id}; add_chat() it first")
        return chat

    def _bot_member(self, chat: Chat) -> Member:
        return chat.members.get(self._bot_id, Member("left"))

    def _set_status(self, chat: Chat, user_id: int, status: str) -> None:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}, not {status!r}")
        member = Member(status)
        if status == "administrator":
            member.rights = _default_rights(chat.type)
        chat.members[user_id] = member

    def _user_json(self, user_id: int) -> JSONDict:
        if user_id == self._bot_id:
            return self.bot_user
        user = self._users.get(user_id)
        return user.to_json() if user else {"id": user_id, "is_bot": False, "first_name": "User"}

    def _chat_for(self, chat_id: int, *, send: bool) -> Chat:
        """The chat, if the bot may act there (send=True: may post), else the Bot API's error."""
        chat = self._chats.get(chat_id)
        if chat is None and chat_id in self._users:
            chat = self._private_chat(self._users[chat_id])
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise BotAPIError(400, UPGRADED, {"migrate_to_chat_id": chat.migrated_to})
        if chat.type == "private":
            if send and chat.id in self._users and self._users[chat.id].blocked_bot:
                raise forbidden("bot was blocked by the user")
            return chat
        member = self._bot_member(chat)
        if member.status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if member.status == "left":
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        if send and chat.type == "channel":
            may_post = member.status == "creator" or (
                member.status == "administrator" and member.rights.get("can_post_messages", True)
            )
            if not may_post:
                raise bad_request("need administrator rights in the channel chat")
        return chat

    def _thread_for(self, chat: Chat, params: Params) -> int | None:
        """The forum topic a message is sent into (None: the chat itself), or Telegram's refusal:
        a topic that does not exist — never made, deleted, the General topic named by id, or a
        chat that is no forum — or one that is closed to a bot that may not manage topics."""
        thread_id = params.opt_int("message_thread_id")
        if thread_id is None:
            return None
        topic = chat.topics.get(thread_id) if chat.is_forum else None
        if topic is None:
            raise BotAPIError(400, THREAD_NOT_FOUND)
        member = self._bot_member(chat)
        manages = member.status == "creator" or member.rights.get("can_manage_topics", False)
        if topic.closed and not manages:
            raise BotAPIError(400, TOPIC_CLOSED)
        return thread_id

    async def _get_chat(self, params: Params) -> JSONDict:
        reference = params.get("chat_id")
        if isinstance(reference, str) and reference.strip().startswith("@"):
            name = reference.strip()[1:].lower()
            found = [c for c in self._chats.values() if c.type != "private" and (c.username or "").lower() == name]
            if not found:
                raise bad_request("chat not found")
            chat = self._chat_for(found[0].id, send=False)
        else:
            chat = self._chat_for(params.chat_id(), send=False)
        # ChatFullInfo: the fields a full chat always has, and those Herald reads.
        return chat.to_json() | {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": _NO_GIFTS}

    async def _get_chat_member(self, params: Params) -> JSONDict:
        chat = self._chat_for(params.chat_id(), send=False)
        user_id = params.req_int("user_id", "invalid user_id specified")
        if chat.type == "private":
            member = Member("member" if user_id in (chat.id, self._bot_id) else "left")
        else:
            member = chat.members.get(user_id, Member("left"))
        return member_json(self._user_json(user_id), member)

    # -- Files -------------------------------------------------------------------------------------

    def _store_file(
        self,
        kind: str,
        data: bytes,
        extension: str,
        mime_type: str,
        declared_size: int | None = None,
        file_name: str | None = None,
    ) -> File:
        if not data:
            raise bad_request("file must be non-empty")
        number = next(self._file_numbers)
        prefix = {
            "photo": "AgAC",
            "video": "BAAC",
            "animation": "CgAC",
            "document": "BQAC",
            "audio": "CQAC",
            "sticker": "CAAC",
        }[kind]
        file_id = f"{prefix}AgIAAxkBAAI{number:06d}{secrets.token_hex(8)}"
        unique = f"AQAD{number:06d}{secrets.token_hex(4)}"
        path = f"{kind}s/file_{number}.{extension}"
        stored = self._files[file_id] = File(file_id, unique, kind, data, path, mime_type, file_name, declared_size)
        self._files_by_path[path] = stored
        return stored

    def _store_photo(self, data: bytes, declared_size: int | None = None) -> list[JSONDict]:
        """The PhotoSize list of a new photo: a thumbnail and the full size, each its own file_id;
        `declared_size` is the full size's file_size (the thumbnail's a twentieth)."""
        width, height = image_size(data) or (800, 600)
        largest = declared_size if declared_size is not None else len(data)
        sizes: list[JSONDict] = []
        for side, size in ((90, max(1, largest // 20)), (1280, largest)):
            scale = min(1.0, side / max(width, height, 1))
            stored = self._store_file("photo", data, "jpg", "image/jpeg", size if declared_size is not None else None)
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                    "file_size": size,
                }
            )
        for size_entry in sizes:
            self._photo_sizes[size_entry["file_id"]] = sizes
        return copy.deepcopy(sizes)

    def _media_from(self, kind: str, source: Upload | str) -> JSONDict | list[JSONDict]:
        """What a message of this kind carries (a photo's sizes, or the file's object) for an upload,
        or for a file sent before by file_id (of the same kind)."""
        if kind == "photo":
            return self._photo_from(source)
        if isinstance(source, Upload):
            name = source.filename
            extension = name.rpartition(".")[2] if "." in name else "bin"
            mime = mimetypes.guess_type(name)[0] or DEFAULT_MIME_TYPES[kind]
            return self._file_json(self._store_file(kind, source.data, extension, mime, file_name=name), name)
        if source.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        stored = self._files.get(source)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request("type of file mismatch")
        return self._file_json(stored, stored.file_name)

    def _file_json(self, stored: File, file_name: str | None) -> JSONDict:
        """A Video, Animation, Document or Audio as the Bot API shows it."""
        data: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "mime_type": stored.mime_type,
        }
        if file_name:
            data["file_name"] = file_name
        if stored.kind in ("video", "animation"):
            data.update(width=640, height=360, duration=1)
        if stored.kind == "audio":
            data["duration"] = 1
        return data

    def _photo_from(self, source: Upload | str) -> list[JSONDict]:
        """The sizes of an uploaded photo, or of one sent before by file_id."""
        if isinstance(source, Upload):
            return self._store_photo(source.data)
        if source.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        stored = self._files.get(source)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != "photo":
            raise bad_request("type of file mismatch")
        return copy.deepcopy(self._photo_sizes[source])

    async def _get_file(self, params: Params) -> JSONDict:
        stored = self._files.get(params.req_str("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        # Telegram's answer for any file over the 20 MB a bot may download.
        if stored.size > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    # -- Messages ----------------------------------------------------------------------------------

    def _new_message(self, chat: Chat, *, kind: str, from_user: User | None = None, **fields: Any) -> Message:
        message = Message(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            date=int(self.clock()),
            kind=kind,
            from_bot=from_user is None and kind != "service",
            from_user_id=from_user.id if from_user else None,
            **fields,
        )
        chat.next_message_id += 1
        self._messages.setdefault(chat.id, {})[message.message_id] = message
        self._changed()
        return message

    def _visible_message(self, chat: Chat, message_id: int) -> Message | None:
        message = self._messages.get(chat.id, {}).get(message_id)
        return None if message is None or message.deleted else message

    def _message_json(self, message: Message) -> JSONDict:
        chat = self._chats[message.chat_id]
        data: JSONDict = {"message_id": message.message_id}
        if chat.type == "channel":
            data["sender_chat"] = chat.to_json()
        elif message.from_bot:
            data["from"] = self.bot_user
        elif message.from_user_id is not None:
            data["from"] = self._user_json(message.from_user_id)
        data["chat"] = chat.to_json()
        data["date"] = message.date
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.media_group_id:
            data["media_group_id"] = message.media_group_id
        if message.message_thread_id is not None:
            data["message_thread_id"] = message.message_thread_id
            data["is_topic_message"] = True
            opening = self._messages.get(chat.id, {}).get(message.message_thread_id)
            if opening is not None and opening is not message:
                # As Telegram does: a message in a topic replies to the message that created it.
                data["reply_to_message"] = self._message_json(opening)
        if message.forward_origin is not None:
            data["forward_origin"] = copy.deepcopy(message.forward_origin)
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = copy.deepcopy(message.entities)
        for kind in ("photo", "video", "animation", "document", "audio", "sticker"):
            if getattr(message, kind) is not None:
                data[kind] = copy.deepcopy(getattr(message, kind))
        if message.animation is not None and message.document is None:
            # Telegram gives a GIF as a document too, for clients that know no animations.
            data["document"] = copy.deepcopy(message.animation)
        if message.caption:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = copy.deepcopy(message.caption_entities)
            if message.show_caption_above_media:
                data["show_caption_above_media"] = True
        if message.has_media_spoiler:
            data["has_media_spoiler"] = True
        if message.protected:
            data["has_protected_content"] = True
        if message.link_preview_options is not None:
            data["link_preview_options"] = copy.deepcopy(message.link_preview_options)
        data.update(copy.deepcopy(message.service))
        markup = inline_keyboard(message.reply_markup)
        if markup is not None:
            data["reply_markup"] = copy.deepcopy(markup)
        return data


_NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}


def _default_rights(chat_type: str) -> dict[str, bool]:
    """An administrator's rights when nobody said otherwise: all but promoting others."""
    rights = {
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": True,
        "can_edit_stories": True,
        "can_delete_stories": True,
    }
    if chat_type == "channel":
        rights.update(can_post_messages=True, can_edit_messages=True)
    else:
        rights["can_pin_messages"] = True
    if chat_type == "supergroup":
        rights["can_manage_topics"] = False
    return rights


def member_json(user: JSONDict, member: Member) -> JSONDict:
    """A ChatMember as the Bot API shows it."""
    data: JSONDict = {"status": member.status, "user": dict(user)}
    if member.status == "creator":
        data["is_anonymous"] = False
    elif member.status == "administrator":
        data.update(member.rights)
    elif member.status == "kicked":
        data["until_date"] = 0
    return data


def scope_key(scope: JSONDict) -> str:
    return json.dumps(scope, sort_keys=True)
