"""The people on the other side: what tests call to act as a person in their private chat with the
bot (send a text, photos, an album, a document, a sticker; press a button) or as a chat's
administrator (add the bot to a channel or group, remove it, upgrade a group; create, rename, close, reopen
or delete a forum's topic), each arriving at the bot as the update Telegram would send."""

from __future__ import annotations

import copy
import mimetypes
import re
import time
from collections.abc import Sequence
from typing import Any

from tests.fakes.bot_api.errors import JSONDict
from tests.fakes.bot_api.limits import utf16_len
from tests.fakes.bot_api.state import (
    DEFAULT_MIME_TYPES,
    SAMPLE_JPEG,
    BotState,
    Chat,
    Member,
    Message,
    Topic,
    member_json,
)

# The colour Telegram gives a topic made without one chosen (0x6FB9F0, blue).
DEFAULT_TOPIC_COLOR = 7322096


class Person(BotState):
    """Driving the fake as people do."""

    def send_text(self, user_id: int, text: str, entities: Sequence[JSONDict] = ()) -> JSONDict:
        """The person sends a text to the bot, formatted with `entities` (as Telegram's editor makes
        them: bold, a link…). A text starting with "/" gets a bot_command entity. Returns the Message."""
        found: list[JSONDict] = [copy.deepcopy(dict(entity)) for entity in entities]
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            found.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))})
        found.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return self._say(user_id, kind="text", text=text, entities=found)

    def send_photo(
        self,
        user_id: int,
        data: bytes = SAMPLE_JPEG,
        caption: str | None = None,
        *,
        file_size: int | None = None,
        caption_entities: Sequence[JSONDict] = (),
        has_spoiler: bool = False,
    ) -> JSONDict:
        """The person sends a photo; its bytes are kept under new file_ids (2 sizes). `file_size`
        declares the largest size's size in bytes (getFile refuses a file over 20 MB)."""
        return self._say(
            user_id,
            kind="photo",
            photo=self._store_photo(data, file_size),
            caption=caption,
            caption_entities=[dict(entity) for entity in caption_entities],
            has_media_spoiler=has_spoiler,
        )

    def send_media(
        self,
        user_id: int,
        kind: str,
        data: bytes,
        file_name: str,
        caption: str | None = None,
        *,
        caption_entities: Sequence[JSONDict] = (),
        has_spoiler: bool = False,
        file_size: int | None = None,
        media_group_id: str | None = None,
    ) -> JSONDict:
        """The person sends a video, animation (GIF), document or audio file (a photo with
        `send_photo`); `file_size` declares its size as `send_photo` does. Returns the Message."""
        if kind not in ("video", "animation", "document", "audio"):
            raise ValueError(f"send_media sends videos, animations, documents and audio, not {kind!r}")
        mime = mimetypes.guess_type(file_name)[0] or DEFAULT_MIME_TYPES[kind]
        extension = file_name.rpartition(".")[2] if "." in file_name else "bin"
        stored = self._store_file(kind, data, extension, mime, file_size, file_name=file_name)
        fields: dict[str, Any] = {kind: self._file_json(stored, file_name)}
        if kind in ("video", "animation"):
            fields["has_media_spoiler"] = has_spoiler
        return self._say(
            user_id,
            kind=kind,
            caption=caption,
            caption_entities=[dict(entity) for entity in caption_entities],
            media_group_id=media_group_id,
            **fields,
        )

    def send_mixed_album(self, user_id: int, items: Sequence[tuple[str, bytes, str | None]]) -> list[JSONDict]:
        """The person sends an album of (kind, bytes, caption) items — photos and videos together,
        or documents, or audio files — sharing a fresh media_group_id, each its own update."""
        if not 2 <= len(items) <= 10:
            raise ValueError("an album holds 2 to 10 items")
        group_id = str(next(self._media_group_numbers))
        sent = []
        for number, (kind, data, caption) in enumerate(items, start=1):
            if kind == "photo":
                sent.append(
                    self._say(
                        user_id, kind="photo", photo=self._store_photo(data), caption=caption, media_group_id=group_id
                    )
                )
            else:
                name = f"{kind}-{number}.{'mp4' if kind == 'video' else 'bin'}"
                sent.append(self.send_media(user_id, kind, data, name, caption, media_group_id=group_id))
        return sent

    def send_album(
        self,
        user_id: int,
        images: Sequence[bytes],
        captions: Sequence[str | None] | None = None,
        *,
        file_sizes: Sequence[int | None] | None = None,
    ) -> list[JSONDict]:
        """The person sends an album: one message per image, sharing a fresh media_group_id,
        each its own update, back to back. `file_sizes` declares sizes as `send_photo` does."""
        if not 2 <= len(images) <= 10:
            raise ValueError("an album holds 2 to 10 photos")
        captions = list(captions) if captions is not None else [None] * len(images)
        sizes = list(file_sizes) if file_sizes is not None else [None] * len(images)
        if len(captions) != len(images) or len(sizes) != len(images):
            raise ValueError("one caption (or None) and one size (or None) per image")
        group_id = str(next(self._media_group_numbers))
        return [
            self._say(user_id, kind="photo", photo=self._store_photo(data, size), caption=text, media_group_id=group_id)
            for data, text, size in zip(images, captions, sizes, strict=True)
        ]

    def channel_post(
        self, chat_id: int, text: str | None = None, photos: Sequence[bytes] = (), caption: str | None = None
    ) -> list[int]:
        """The channel's own people post in it: a text, or one photo or an album of `photos` (the
        album's caption on its first photo). Returns the message ids, to forward them."""
        chat = self._group_chat(chat_id)
        if chat.type != "channel":
            raise ValueError("channel_post posts in a channel")
        if (text is None) == (not photos):
            raise ValueError("a text or photos")
        group_id = str(next(self._media_group_numbers)) if len(photos) > 1 else None
        made = (
            [self._new_message(chat, kind="text", text=text)]
            if text is not None
            else [
                self._new_message(
                    chat,
                    kind="photo",
                    photo=self._store_photo(data),
                    caption=caption if number == 0 else None,
                    media_group_id=group_id,
                )
                for number, data in enumerate(photos)
            ]
        )
        for message in made:
            message.from_bot = False  # posted by the channel's people, not by the bot
        return [message.message_id for message in made]

    def forward(self, user_id: int, from_chat_id: int, message_ids: Sequence[int]) -> list[JSONDict]:
        """The person forwards messages of a channel to the bot, as Telegram does: each a new
        message in their private chat, its content kept, a forward_origin naming the channel, and
        an album's items sharing a fresh media_group_id. Returns the Messages."""
        source = self._group_chat(from_chat_id)
        user = self._user(user_id)
        chat = self._private_chat(user)
        groups: dict[str, str] = {}
        forwarded = []
        for message_id in message_ids:
            original = self._visible_message(source, message_id)
            if original is None:
                raise ValueError(f"no message {message_id} in chat {from_chat_id}")
            group = original.media_group_id
            if group is not None and group not in groups:
                groups[group] = str(next(self._media_group_numbers))
            fields = {
                name: copy.deepcopy(getattr(original, name))
                for name in (
                    "text", "entities", "caption", "caption_entities", "photo", "video", "animation", "document",
                    "audio", "has_media_spoiler", "show_caption_above_media",
                )
            }  # fmt: skip
            origin = {"type": "channel", "chat": source.to_json(), "message_id": message_id, "date": original.date}
            copied = self._new_message(
                chat,
                kind=original.kind,
                from_user=user,
                media_group_id=groups.get(group) if group else None,
                forward_origin=origin,
                **fields,
            )
            forwarded.append(self._deliver(chat, copied))
        return forwarded

    def send_document(self, user_id: int, data: bytes, file_name: str, caption: str | None = None) -> JSONDict:
        """The person sends a file as a document."""
        return self.send_media(user_id, "document", data, file_name, caption)

    def send_sticker(self, user_id: int) -> JSONDict:
        """The person sends a sticker."""
        stored = self._store_file("sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 sticker", "webp", "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
            "set_name": "HeraldTestStickers",
            "file_size": len(stored.data),
        }
        return self._say(user_id, kind="sticker", sticker=sticker)

    def press(self, user_id: int, message_id: int, data: str) -> str:
        """The person presses an inline button carrying `data` under a bot message in their chat
        (forged data welcome). The query's message is that message as it is now, or a minimal one
        if it does not exist. Returns the query id."""
        user = self._user(user_id)
        chat = self._private_chat(user)
        stored = self._visible_message(chat, message_id)
        message: JSONDict
        if stored is None:
            message = {"message_id": message_id, "date": int(time.time()), "chat": chat.to_json()}
            message["from"] = self.bot_user
        else:
            message = self._message_json(stored)
        query_id = f"{self._bot_id % 10_000_000}{next(self._query_numbers):09d}"
        self._open_queries.add(query_id)
        self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_json(),
                "message": message,
                "chat_instance": str(-(abs(chat.id) * 7919 + 1) % 10**18),
                "data": data,
            },
        )
        return query_id

    def bot_added_to_chat(self, chat_id: int, by_user_id: int) -> JSONDict:
        """`by_user_id`, an administrator of the chat, adds the bot as administrator: a
        my_chat_member update (plus a new_chat_members message in groups). Returns the
        ChatMemberUpdated."""
        chat = self._group_chat(chat_id)
        actor = self._user(by_user_id)
        if chat.members.get(actor.id, Member("left")).status not in ("creator", "administrator"):
            raise ValueError(f"only an administrator adds the bot; set_member({chat_id}, {by_user_id}, ...) first")
        old = copy.deepcopy(self._bot_member(chat))
        if old.status == "administrator":
            old = Member("left")
        update = self._bot_status_changed(chat, actor.to_json(), old, "administrator")
        if chat.type != "channel":
            service = self._new_message(
                chat, kind="service", from_user=actor, service={"new_chat_members": [self.bot_user]}
            )
            self._deliver(chat, service)
        return update

    def block_bot(self, user_id: int) -> JSONDict:
        """The person blocks the bot: a my_chat_member update for their private chat; messages to
        them fail with 403 "bot was blocked by the user" from then on. Returns the update."""
        user = self._user(user_id)
        user.blocked_bot = True
        chat = self._private_chat(user)
        update = {
            "chat": chat.to_json(),
            "from": user.to_json(),
            "date": int(time.time()),
            "old_chat_member": member_json(self.bot_user, Member("member")),
            "new_chat_member": member_json(self.bot_user, Member("kicked")),
        }
        self._enqueue("my_chat_member", update)
        return update

    def bot_removed_from_chat(self, chat_id: int, by_user_id: int) -> JSONDict:
        """`by_user_id` removes the bot: a my_chat_member update; later requests there fail with
        403. Returns the ChatMemberUpdated."""
        chat = self._group_chat(chat_id)
        actor = self._user(by_user_id)
        return self._bot_status_changed(chat, actor.to_json(), copy.deepcopy(self._bot_member(chat)), "kicked")

    def upgrade_to_supergroup(self, chat_id: int, new_chat_id: int) -> JSONDict:
        """The group becomes a supergroup with `new_chat_id`: requests for the old id fail with
        migrate_to_chat_id; the bot (if a member) gets the two migration service messages.
        Returns the old group's migrate_to_chat_id message."""
        old = self._group_chat(chat_id)
        if old.type != "group":
            raise ValueError("only a basic group can be upgraded")
        if new_chat_id in self._chats:
            raise ValueError(f"chat {new_chat_id} exists already")
        new = Chat(new_chat_id, "supergroup", old.name, old.username, members=copy.deepcopy(old.members))
        self._chats[new_chat_id] = new
        creators = [uid for uid, m in old.members.items() if m.status == "creator" and uid in self._users]
        actor = self._users[creators[0]] if creators else None
        to_old = self._new_message(old, kind="service", from_user=actor, service={"migrate_to_chat_id": new_chat_id})
        to_new = self._new_message(new, kind="service", from_user=actor, service={"migrate_from_chat_id": chat_id})
        result = self._deliver(old, to_old)
        self._deliver(new, to_new)
        old.migrated_to = new_chat_id
        self._changed()
        return result

    def topic_created(self, chat_id: int, by_user_id: int, name: str, icon_color: int = DEFAULT_TOPIC_COLOR) -> int:
        """`by_user_id`, an administrator of the forum, creates a topic: a forum_topic_created
        service message, which is the topic's first message (its id is the thread id). Returns
        the thread id."""
        chat, actor = self._forum_admin(chat_id, by_user_id)
        if not 1 <= len(name) <= 128:
            raise ValueError("a topic's name has 1 to 128 characters")
        thread_id = chat.next_message_id
        chat.topics[thread_id] = Topic(thread_id, name, icon_color)
        created = {"forum_topic_created": {"name": name, "icon_color": icon_color}}
        message = self._new_message(chat, kind="service", from_user=actor, service=created, message_thread_id=thread_id)
        self._deliver(chat, message)
        return thread_id

    def topic_renamed(self, chat_id: int, thread_id: int, by_user_id: int, name: str) -> JSONDict:
        """The topic gets a new name: a forum_topic_edited service message in it. Returns it."""
        chat, actor = self._forum_admin(chat_id, by_user_id)
        self._topic(chat, thread_id).name = name
        return self._topic_event(chat, actor, thread_id, {"forum_topic_edited": {"name": name}})

    def topic_closed(self, chat_id: int, thread_id: int, by_user_id: int) -> JSONDict:
        """The topic is closed (only those who may manage topics post there): a forum_topic_closed
        service message. Returns it."""
        chat, actor = self._forum_admin(chat_id, by_user_id)
        self._topic(chat, thread_id).closed = True
        return self._topic_event(chat, actor, thread_id, {"forum_topic_closed": {}})

    def topic_reopened(self, chat_id: int, thread_id: int, by_user_id: int) -> JSONDict:
        """The topic is open again: a forum_topic_reopened service message. Returns it."""
        chat, actor = self._forum_admin(chat_id, by_user_id)
        self._topic(chat, thread_id).closed = False
        return self._topic_event(chat, actor, thread_id, {"forum_topic_reopened": {}})

    def topic_deleted(self, chat_id: int, thread_id: int, by_user_id: int) -> None:
        """The topic is deleted with all its messages. Telegram tells bots nothing of it: sending
        there fails with "message thread not found" from then on."""
        chat, _ = self._forum_admin(chat_id, by_user_id)
        self._topic(chat, thread_id)
        del chat.topics[thread_id]
        for message in self._messages.get(chat.id, {}).values():
            if message.message_thread_id == thread_id:
                message.deleted = True
        self._changed()

    def _forum_admin(self, chat_id: int, user_id: int) -> tuple[Chat, Any]:
        chat = self._group_chat(chat_id)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum; add_chat(..., is_forum=True)")
        actor = self._user(user_id)
        if chat.members.get(actor.id, Member("left")).status not in ("creator", "administrator"):
            raise ValueError(f"only an administrator manages topics; set_member({chat_id}, {user_id}, ...) first")
        return chat, actor

    def _topic(self, chat: Chat, thread_id: int) -> Topic:
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise ValueError(f"no topic {thread_id} in chat {chat.id}")
        return topic

    def _topic_event(self, chat: Chat, actor: Any, thread_id: int, service: JSONDict) -> JSONDict:
        message = self._new_message(chat, kind="service", from_user=actor, service=service, message_thread_id=thread_id)
        return self._deliver(chat, message)

    def _say(self, user_id: int, *, kind: str, **fields: Any) -> JSONDict:
        """A message from the person in their private chat, delivered to the bot."""
        user = self._user(user_id)
        chat = self._private_chat(user)
        return self._deliver(chat, self._new_message(chat, kind=kind, from_user=user, **fields))

    def _deliver(self, chat: Chat, message: Message) -> JSONDict:
        """Send a message to the bot as an update, if the bot is there to see it."""
        data = self._message_json(message)
        if chat.type == "private":
            self._enqueue("message", data)
        elif self._bot_member(chat).status in ("creator", "administrator", "member"):
            self._enqueue("channel_post" if chat.type == "channel" else "message", data)
        return data

    def _bot_status_changed(self, chat: Chat, actor: JSONDict, old: Member, status: str) -> JSONDict:
        """Sets the bot's status in the chat and tells the bot (my_chat_member)."""
        self._set_status(chat, self._bot_id, status)
        update = {
            "chat": chat.to_json(),
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": member_json(self.bot_user, old),
            "new_chat_member": member_json(self.bot_user, self._bot_member(chat)),
        }
        self._enqueue("my_chat_member", update)
        return update
