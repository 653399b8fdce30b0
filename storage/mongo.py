"""The production store: MongoDB through pymongo's AsyncMongoClient, image bytes in GridFS."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from gridfs.asynchronous import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from storage.base import (
    MEDIA_CHUNK,
    REVISABLE_STATUSES,
    PostPage,
    Revised,
    Store,
    confirmed_by_hand,
    finished_post,
    retried_post,
    revised_post,
)
from storage.batching import WriteBatcher
from storage.codec import (
    BSON_TIMES,
    delivery_to_doc,
    follow_up_from_doc,
    follow_up_to_doc,
    options_from_doc,
    options_to_doc,
    owned_targets,
    post_from_doc,
    post_to_doc,
    poster_from_doc,
    poster_to_doc,
    slot_from_doc,
    slot_to_doc,
    target_from_doc,
    target_to_doc,
)
from storage.crypto import CredentialCipher
from storage.models import (
    Account,
    Delivery,
    DeliveryOptions,
    Entity,
    FollowUp,
    FollowUpStatus,
    ForumTopic,
    Platform,
    Post,
    Poster,
    PostStatus,
    PostView,
    Target,
    TelegramChat,
    User,
    new_id,
    utc_now,
)
from storage.queue import Slot
from storage.series import Series, SeriesStatus, series_from_doc, series_to_doc

Document = dict[str, Any]

UPCOMING = [PostStatus.SCHEDULED.value, PostStatus.PUBLISHING.value]
HISTORY = [
    PostStatus.PUBLISHED.value,
    PostStatus.PARTIAL.value,
    PostStatus.FAILED.value,
    PostStatus.CANCELLED.value,
]
IMAGE_BUCKET = "images"
# What "I posted it" changes on a post (see storage.base.confirmed_by_hand).
CONFIRMED_FIELDS = ("deliveries", "status", "result", "published_at", "claim", "report_due_at", "report_holder")
# What "Retry failed targets" changes on a post (see storage.base.retried_post).
RETRIED_FIELDS = (
    "deliveries", "status", "scheduled_time", "result", "published_at", "notified_at", "claim", "report_due_at",
    "report_holder", "delay_noticed_at",
)  # fmt: skip
# What "Edit everywhere" and "Delete everywhere" change on a post (see storage.base.revised_post).
REVISED_FIELDS = (
    "main_caption", "caption_entities", "images", "buttons", "link_preview", "caption_above", "deliveries",
    "edited_at", "deleted_at",
)  # fmt: skip


def _post(doc: Document) -> Post:
    return post_from_doc(doc["post_id"], doc, BSON_TIMES)


def _account(doc: Document) -> Account:
    return Account(
        account_id=doc["account_id"],
        user_id=int(doc["user_id"]),
        platform=Platform(doc["platform"]),
        name=doc["name"],
        targets=[target_from_doc(target) for target in doc.get("targets", [])],
        needs_reconnect=bool(doc.get("needs_reconnect")),
        created_at=BSON_TIMES.decode(doc["created_at"]),
    )


def _chat(doc: Document) -> TelegramChat:
    return TelegramChat(
        chat_id=int(doc["chat_id"]),
        title=doc["title"],
        chat_type=doc["chat_type"],
        bot_is_admin=bool(doc["bot_is_admin"]),
        username=doc.get("username"),
        updated_at=BSON_TIMES.decode(doc["updated_at"]),
    )


def _topic(doc: Document) -> ForumTopic:
    return ForumTopic(
        chat_id=int(doc["chat_id"]),
        thread_id=int(doc["thread_id"]),
        name=doc["name"],
        closed=bool(doc.get("closed")),
        updated_at=BSON_TIMES.decode(doc["updated_at"]),
    )


@dataclass
class _FencedUpdate:
    post_id: str
    worker_id: str
    update: Document
    # Tells from the post read back whether this update applied (see _fenced_update).
    applied: Callable[[Document], bool]


def _each_delivery(post: Post) -> Document:
    """`$set` fields writing each of the post's deliveries (and nothing else of the post)."""
    return {f"deliveries.{target_id}": delivery_to_doc(d, BSON_TIMES) for target_id, d in post.deliveries.items()}


def _same_moment(stored: object, written: datetime) -> bool:
    return isinstance(stored, datetime) and abs(stored.replace(tzinfo=UTC) - written.astimezone(UTC)) < timedelta(
        milliseconds=1
    )


def _still_held(worker_id: str) -> Callable[[Document], bool]:
    """An update applied if the claim is still held (a claim lost in between counts as lost,
    which is what it is by then)."""
    return lambda doc: (
        doc.get("status") == PostStatus.PUBLISHING.value and (doc.get("claim") or {}).get("worker_id") == worker_id
    )


def _finished_by(worker_id: str, now: datetime) -> Callable[[Document], bool]:
    """A finish applied if the post is finished under this claim's token at this call's time."""
    return lambda doc: (
        (doc.get("result") or {}).get("worker_id") == worker_id and _same_moment(doc.get("published_at"), now)
    )


def _released_until(until: datetime) -> Callable[[Document], bool]:
    """A release applied if the post waits, held by no worker, until this call's time."""
    return lambda doc: (
        doc.get("status") == PostStatus.PUBLISHING.value
        and not (doc.get("claim") or {}).get("worker_id")
        and _same_moment((doc.get("claim") or {}).get("lease_until"), until)
    )


class MongoStore(Store):
    """Herald's storage in MongoDB; several bot processes may share one database."""

    def __init__(self, url: str, cipher: CredentialCipher, database: str | None = None) -> None:
        super().__init__(cipher)
        self.url = url
        self._database_name = database
        self._client: AsyncMongoClient[Document] | None = None
        self._db: AsyncDatabase[Document] | None = None
        self._images: AsyncGridFSBucket | None = None
        # Fenced single-document updates (record_delivery, finish_post…) made in the same tick.
        self._fenced: WriteBatcher[_FencedUpdate, bool] = WriteBatcher(self._write_fenced)

    @property
    def db(self) -> AsyncDatabase[Document]:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    @property
    def images(self) -> AsyncGridFSBucket:
        if self._images is None:
            raise RuntimeError("the store is not open")
        return self._images

    async def open(self) -> None:
        self._client = AsyncMongoClient(self.url, tz_aware=True, tzinfo=UTC)
        if self._database_name:
            self._db = self._client[self._database_name]
        else:
            self._db = self._client.get_default_database(default="herald")
        from pymongo import timeout

        # An unreachable server is reported at start within seconds, not after pymongo's 30 s of
        # server selection; later operations keep the client's own timeouts.
        with timeout(5):
            await self._db.command("ping")
        self._images = AsyncGridFSBucket(self._db, bucket_name=IMAGE_BUCKET)
        db = self._db
        # Herald's own ids are unique keys; `_id` stays the server's ObjectId.
        for collection, key in (
            ("users", "user_id"),
            ("accounts", "account_id"),
            ("telegram_chats", "chat_id"),
            ("posters", "poster_id"),
            ("scheduled_posts", "post_id"),
        ):
            await db[collection].create_index([(key, ASCENDING)], unique=True)
        posts = db.scheduled_posts
        await posts.create_index([("status", ASCENDING), ("scheduled_time", ASCENDING)])
        await posts.create_index([("user_id", ASCENDING), ("scheduled_time", ASCENDING)])
        # The Upcoming and History views filter by status: without it they scan finished posts.
        await posts.create_index([("user_id", ASCENDING), ("status", ASCENDING), ("scheduled_time", ASCENDING)])
        await posts.create_index([("status", ASCENDING), ("claim.lease_until", ASCENDING)])
        await posts.create_index([("images.blob_id", ASCENDING)])
        await posts.create_index([("report_due_at", ASCENDING)], sparse=True)
        await db.telegram_topics.create_index([("chat_id", ASCENDING), ("thread_id", ASCENDING)], unique=True)
        # Posts finished lately by an earlier version whose owner was never told: their reports are
        # due now. Older ones are not worth a message after an upgrade.
        now = utc_now()
        await posts.update_many(
            {
                "notified_at": None,
                "report_due_at": {"$exists": False},
                "status": {"$in": [PostStatus.PUBLISHED.value, PostStatus.PARTIAL.value, PostStatus.FAILED.value]},
                "published_at": {"$gte": now - timedelta(days=1)},
            },
            {"$set": {"report_due_at": now}},
        )
        await db.accounts.create_index([("user_id", ASCENDING), ("created_at", ASCENDING)])
        await db.posters.create_index([("user_id", ASCENDING), ("name", ASCENDING)])
        await db.posters.create_index([("images.blob_id", ASCENDING)])
        await db.state.create_index([("namespace", ASCENDING), ("key", ASCENDING)], unique=True)
        await db[f"{IMAGE_BUCKET}.files"].create_index([("metadata.created_at", ASCENDING)])
        await self._open_series(db)
        await db.queue_slots.create_index([("user_id", ASCENDING)], unique=True)
        follow_ups = db.follow_ups
        await follow_ups.create_index([("action_id", ASCENDING)], unique=True)
        await follow_ups.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        await follow_ups.create_index([("post_id", ASCENDING), ("due_at", ASCENDING)])
        await follow_ups.create_index([("report_due_at", ASCENDING)], sparse=True)
        await db.delivery_defaults.create_index([("user_id", ASCENDING)], unique=True)

    async def close(self) -> None:
        await self._fenced.drain()  # writes queued by publications finishing right now
        if self._client is not None:
            await self._client.close()
            self._client = self._db = self._images = None

    # -- users -----------------------------------------------------------------------------
    async def get_user(self, user_id: int) -> User | None:
        doc = await self.db.users.find_one({"user_id": user_id})
        return None if doc is None else _user(doc)

    async def set_timezone(self, user_id: int, timezone: str) -> User:
        return await self._set_user_field(user_id, "timezone", timezone)

    async def set_language(self, user_id: int, language: str | None) -> User:
        return await self._set_user_field(user_id, "language", language)

    async def set_app_language(self, user_id: int, code: str | None) -> User:
        return await self._set_user_field(user_id, "app_language", code)

    async def _set_user_field(self, user_id: int, name: str, value: str | None) -> User:
        doc = await self.db.users.find_one_and_update(
            {"user_id": user_id},
            {"$set": {name: value}, "$setOnInsert": {"created_at": utc_now()}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None, "an upsert returns the document"
        return _user(doc)

    # -- accounts --------------------------------------------------------------------------
    async def add_account(
        self,
        user_id: int,
        platform: Platform,
        name: str,
        credential: str,
        targets: list[Target],
    ) -> Account:
        account_id = new_id()
        account = Account(account_id, user_id, platform, name, owned_targets(targets, account_id))
        await self.db.accounts.insert_one(
            {
                "account_id": account.account_id,
                "user_id": user_id,
                "platform": platform.value,
                "name": name,
                "credential": self.cipher.encrypt(credential),
                "targets": [target_to_doc(target) for target in account.targets],
                "needs_reconnect": False,
                "created_at": account.created_at,
            }
        )
        return account

    async def list_accounts(self, user_id: int) -> list[Account]:
        cursor = self.db.accounts.find({"user_id": user_id}).sort(
            [("created_at", ASCENDING), ("account_id", ASCENDING)]
        )
        return [_account(doc) async for doc in cursor]

    async def get_account(self, user_id: int, account_id: str) -> Account | None:
        doc = await self.db.accounts.find_one({"account_id": account_id, "user_id": user_id})
        return _account(doc) if doc else None

    async def account_credential(self, account_id: str) -> str | None:
        doc = await self.db.accounts.find_one({"account_id": account_id}, {"credential": 1})
        return self.cipher.decrypt(doc["credential"]) if doc else None

    async def set_account_targets(self, user_id: int, account_id: str, targets: list[Target]) -> bool:
        targets = owned_targets(targets, account_id)
        result = await self.db.accounts.update_one(
            {"account_id": account_id, "user_id": user_id},
            {"$set": {"targets": [target_to_doc(target) for target in targets]}},
        )
        return result.matched_count == 1

    async def set_account_credential(self, user_id: int, account_id: str, credential: str) -> bool:
        result = await self.db.accounts.update_one(
            {"account_id": account_id, "user_id": user_id},
            {"$set": {"credential": self.cipher.encrypt(credential), "needs_reconnect": False}},
        )
        return result.matched_count == 1

    async def rename_account(self, user_id: int, account_id: str, name: str) -> bool:
        result = await self.db.accounts.update_one(
            {"account_id": account_id, "user_id": user_id}, {"$set": {"name": name}}
        )
        return result.matched_count == 1

    async def mark_account_needs_reconnect(self, account_id: str, needs: bool = True) -> None:
        await self.db.accounts.update_one({"account_id": account_id}, {"$set": {"needs_reconnect": needs}})

    async def remove_account(self, user_id: int, account_id: str) -> int | None:
        result = await self.db.accounts.delete_one({"account_id": account_id, "user_id": user_id})
        if result.deleted_count != 1:
            return None
        cancelled = await self.db.scheduled_posts.update_many(
            {"user_id": user_id, "account_id": account_id, "status": PostStatus.SCHEDULED.value},
            {"$set": {"status": PostStatus.CANCELLED.value}},
        )
        return cancelled.modified_count

    # -- Telegram chats --------------------------------------------------------------------
    async def upsert_chat(self, chat: TelegramChat) -> None:
        await self.db.telegram_chats.update_one(
            {"chat_id": chat.chat_id},
            {
                "$set": {
                    "title": chat.title,
                    "chat_type": chat.chat_type,
                    "bot_is_admin": chat.bot_is_admin,
                    "username": chat.username,
                    "updated_at": chat.updated_at,
                }
            },
            upsert=True,
        )

    async def get_chat(self, chat_id: int) -> TelegramChat | None:
        doc = await self.db.telegram_chats.find_one({"chat_id": chat_id})
        return _chat(doc) if doc else None

    async def list_chats(self, admin_only: bool = True) -> list[TelegramChat]:
        query: Document = {"bot_is_admin": True} if admin_only else {}
        cursor = self.db.telegram_chats.find(query).sort([("title", ASCENDING), ("chat_id", ASCENDING)])
        return [_chat(doc) async for doc in cursor]

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        if await self.db.telegram_chats.find_one({"chat_id": old_chat_id}) is None:
            return  # already followed (the service message and a send may both report it)
        await self.db.telegram_chats.delete_many({"chat_id": new_chat_id})
        await self.db.telegram_chats.update_one(
            {"chat_id": old_chat_id},
            {"$set": {"chat_id": new_chat_id, "chat_type": "supergroup", "updated_at": utc_now()}},
        )

    # -- forum topics ----------------------------------------------------------------------
    async def upsert_topic(self, topic: ForumTopic) -> None:
        await self.db.telegram_topics.update_one(
            {"chat_id": topic.chat_id, "thread_id": topic.thread_id},
            {"$set": {"name": topic.name, "closed": topic.closed, "updated_at": topic.updated_at}},
            upsert=True,
        )

    async def get_topic(self, chat_id: int, thread_id: int) -> ForumTopic | None:
        doc = await self.db.telegram_topics.find_one({"chat_id": chat_id, "thread_id": thread_id})
        return _topic(doc) if doc else None

    async def forget_topic(self, chat_id: int, thread_id: int) -> bool:
        deleted = await self.db.telegram_topics.delete_many({"chat_id": chat_id, "thread_id": thread_id})
        return deleted.deleted_count > 0

    async def list_topics(self, chat_ids: Collection[int]) -> list[ForumTopic]:
        wanted = sorted(set(chat_ids))
        if not wanted:
            return []
        cursor = self.db.telegram_topics.find({"chat_id": {"$in": wanted}}).sort(
            [("chat_id", ASCENDING), ("name", ASCENDING), ("thread_id", ASCENDING)]
        )
        return [_topic(doc) async for doc in cursor]

    # -- images ----------------------------------------------------------------------------
    # GridFS files are named by the sha256 of their bytes: the blob id Herald passes around.
    async def put_image(self, data: bytes) -> str:
        blob_id = hashlib.sha256(data).hexdigest()
        if await self._image_file(blob_id) is None:
            await self.images.upload_from_stream(blob_id, data, metadata={"created_at": utc_now()})
        return blob_id

    async def _image_file(self, blob_id: str) -> Document | None:
        return await self.db[f"{IMAGE_BUCKET}.files"].find_one({"filename": blob_id})

    async def load_image(self, blob_id: str) -> bytes | None:
        try:
            stream = await self.images.open_download_stream_by_name(blob_id)
        except NoFile:
            return None
        return await stream.read()

    async def set_image_file_id(self, blob_id: str, file_id: str) -> None:
        await self.db[f"{IMAGE_BUCKET}.files"].update_many(
            {"filename": blob_id}, {"$set": {"metadata.telegram_file_id": file_id}}
        )

    async def image_file_id(self, blob_id: str) -> str | None:
        doc = await self._image_file(blob_id)
        return (doc.get("metadata") or {}).get("telegram_file_id") if doc else None

    async def put_media(self, source: BinaryIO) -> str:
        chunk = await asyncio.to_thread(source.read, MEDIA_CHUNK)
        following = await asyncio.to_thread(source.read, MEDIA_CHUNK) if chunk else b""
        if not following:
            return await self.put_image(chunk)
        # Written under a name of its own until the whole has been read and its hash is known; one
        # cut off is purged with the orphans (it has their `created_at`).
        upload = self.images.open_upload_stream(f"partial-{secrets.token_hex(8)}", metadata={"created_at": utc_now()})
        digest = hashlib.sha256()
        try:
            while chunk:
                digest.update(chunk)
                await upload.write(chunk)
                chunk, following = following, (await asyncio.to_thread(source.read, MEDIA_CHUNK) if following else b"")
            await upload.close()
        except BaseException:
            await upload.abort()
            raise
        blob_id = digest.hexdigest()
        if await self._image_file(blob_id) is None:
            await self.images.rename(upload._id, blob_id)
        else:
            await self.images.delete(upload._id)
        return blob_id

    async def media_chunks(self, blob_id: str) -> AsyncIterator[bytes]:
        try:
            stream = await self.images.open_download_stream_by_name(blob_id)
        except NoFile:
            return
        while True:
            # GridFS chunks are 255 kB; a megabyte at a time keeps the round trips few.
            data = await stream.read(MEDIA_CHUNK)
            if not data:
                return
            yield data

    async def purge_orphan_images(self, created_before: datetime) -> int:
        purged = 0
        cursor = self.db[f"{IMAGE_BUCKET}.files"].find(
            {"metadata.created_at": {"$lt": created_before}}, {"filename": 1}
        )
        async for doc in cursor:
            blob_id = doc["filename"]
            in_use = await self.db.scheduled_posts.find_one({"images.blob_id": blob_id}, {"post_id": 1})
            in_use = in_use or await self.db.posters.find_one({"images.blob_id": blob_id}, {"poster_id": 1})
            if not in_use:
                await self.images.delete(doc["_id"])
                purged += 1
        return purged

    # -- posters ---------------------------------------------------------------------------
    async def save_poster(self, poster: Poster) -> Poster:
        await self.db.posters.replace_one(
            {"poster_id": poster.poster_id, "user_id": poster.user_id},
            {"poster_id": poster.poster_id, **poster_to_doc(poster, BSON_TIMES)},
            upsert=True,
        )
        return poster

    async def list_posters(self, user_id: int) -> list[Poster]:
        cursor = self.db.posters.find({"user_id": user_id}).sort([("name", ASCENDING), ("poster_id", ASCENDING)])
        return [poster_from_doc(doc["poster_id"], doc, BSON_TIMES) async for doc in cursor]

    async def get_poster(self, user_id: int, poster_id: str) -> Poster | None:
        doc = await self.db.posters.find_one({"poster_id": poster_id, "user_id": user_id})
        return poster_from_doc(doc["poster_id"], doc, BSON_TIMES) if doc else None

    async def delete_poster(self, user_id: int, poster_id: str) -> bool:
        result = await self.db.posters.delete_one({"poster_id": poster_id, "user_id": user_id})
        return result.deleted_count == 1

    # -- posts -----------------------------------------------------------------------------
    async def create_post(self, post: Post) -> Post:
        await self.db.scheduled_posts.insert_one({"post_id": post.post_id, **post_to_doc(post, BSON_TIMES)})
        return post

    async def get_post(self, user_id: int, post_id: str) -> Post | None:
        doc = await self.db.scheduled_posts.find_one({"post_id": post_id, "user_id": user_id})
        return _post(doc) if doc else None

    async def load_post(self, post_id: str) -> Post | None:
        doc = await self.db.scheduled_posts.find_one({"post_id": post_id})
        return _post(doc) if doc else None

    async def list_posts(self, user_id: int, view: PostView, page: int = 0, per_page: int = 5) -> PostPage:
        statuses = UPCOMING if view is PostView.UPCOMING else HISTORY
        order = ASCENDING if view is PostView.UPCOMING else DESCENDING
        page = max(page, 0)
        cursor = (
            self.db.scheduled_posts.find({"user_id": user_id, "status": {"$in": statuses}})
            .sort([("scheduled_time", order), ("post_id", order)])
            .skip(page * per_page)
            .limit(per_page + 1)
        )
        docs = [doc async for doc in cursor]
        return PostPage(posts=[_post(doc) for doc in docs[:per_page]], page=page, has_next=len(docs) > per_page)

    async def cancel_post(self, user_id: int, post_id: str) -> Post | None:
        doc = await self.db.scheduled_posts.find_one_and_update(
            {"post_id": post_id, "user_id": user_id, "status": PostStatus.SCHEDULED.value},
            {"$set": {"status": PostStatus.CANCELLED.value}},
            return_document=ReturnDocument.AFTER,
        )
        return _post(doc) if doc else None

    async def reschedule_post(self, user_id: int, post_id: str, scheduled_time: datetime) -> Post | None:
        doc = await self.db.scheduled_posts.find_one_and_update(
            {"post_id": post_id, "user_id": user_id, "status": PostStatus.SCHEDULED.value},
            {"$set": {"scheduled_time": scheduled_time}},
            return_document=ReturnDocument.AFTER,
        )
        return _post(doc) if doc else None

    async def update_caption(
        self, user_id: int, post_id: str, caption: str, entities: Sequence[Entity] = ()
    ) -> Post | None:
        doc = await self.db.scheduled_posts.find_one_and_update(
            {"post_id": post_id, "user_id": user_id, "status": PostStatus.SCHEDULED.value},
            {"$set": {"main_caption": caption, "caption_entities": [dict(entity) for entity in entities]}},
            return_document=ReturnDocument.AFTER,
        )
        return _post(doc) if doc else None

    async def confirm_delivery(self, user_id: int, post_id: str, target_id: str, now: datetime) -> Post | None:
        posts = self.db.scheduled_posts
        # Read, apply the rule, write only if no delivery changed meanwhile (another "I posted it"
        # for another group of the same post): otherwise read again.
        while True:
            doc = await posts.find_one({"post_id": post_id, "user_id": user_id, "status": PostStatus.PUBLISHING.value})
            if doc is None:
                return None
            post = _post(doc)
            confirmed = confirmed_by_hand(post, target_id, now)
            if confirmed is None:
                return None
            unchanged = {f"deliveries.{t}.status": d.status.value for t, d in post.deliveries.items()}
            fields = post_to_doc(confirmed, BSON_TIMES)
            written = await posts.update_one(
                {"post_id": post_id, "status": PostStatus.PUBLISHING.value, **unchanged},
                {"$set": {name: fields[name] for name in CONFIRMED_FIELDS}},
            )
            if written.matched_count == 1:
                return confirmed

    async def scheduled_posts(
        self, until: datetime, limit: int = 1000, after: datetime | None = None
    ) -> list[tuple[str, datetime]]:
        posts = self.db.scheduled_posts
        window: Document = {"$lte": until} if after is None else {"$gt": after, "$lte": until}
        due = posts.find(
            {"status": PostStatus.SCHEDULED.value, "scheduled_time": window},
            {"post_id": 1, "scheduled_time": 1},
        )
        found = [
            (doc["post_id"], BSON_TIMES.decode(doc["scheduled_time"]))
            async for doc in due.sort("scheduled_time", ASCENDING).limit(limit)
        ]
        # Posts waiting to retry: a claim with no worker that ends at the retry time.
        retrying = posts.find(
            {"status": PostStatus.PUBLISHING.value, "claim.worker_id": None, "claim.lease_until": window},
            {"post_id": 1, "claim": 1},
        )
        found += [
            (doc["post_id"], BSON_TIMES.decode(doc["claim"]["lease_until"]))
            async for doc in retrying.sort("claim.lease_until", ASCENDING).limit(limit)
        ]
        found.sort(key=lambda item: item[1])
        return found[:limit]

    # -- publication -----------------------------------------------------------------------
    @staticmethod
    def _claim_update(worker_id: str, now: datetime, lease: timedelta) -> Document:
        return {
            "$set": {
                "status": PostStatus.PUBLISHING.value,
                "claim": {"worker_id": worker_id, "lease_until": now + lease, "claimed_at": now},
            },
            "$inc": {"attempts": 1},
        }

    @staticmethod
    def _due(now: datetime) -> Document:
        return {"status": PostStatus.SCHEDULED.value, "scheduled_time": {"$lte": now}}

    @staticmethod
    def _expired(now: datetime) -> Document:
        return {"status": PostStatus.PUBLISHING.value, "claim.lease_until": {"$lt": now}}

    async def claim_due_posts(
        self, worker_id: str, now: datetime, lease: timedelta, limit: int = 50, exclude: Collection[str] = ()
    ) -> list[Post]:
        posts = self.db.scheduled_posts
        # Candidates first (due posts soonest first, then expired leases), then one update_many
        # that claims those still claimable — each document is updated atomically, so a post
        # another worker took meanwhile is skipped — then the claimed ones, found by the claim
        # token (a claim's worker_id is never reused). Herald's ids are in `post_id`: the
        # stand-in keeps only ObjectIds in `_id`.
        while True:
            candidates: list[str] = []
            for query, sort in ((self._due(now), "scheduled_time"), (self._expired(now), "claim.lease_until")):
                if len(candidates) >= limit:
                    break
                if exclude:
                    query = {**query, "post_id": {"$nin": list(exclude)}}
                cursor = posts.find(query, {"post_id": 1, "_id": 0}).sort(sort, ASCENDING)
                candidates.extend([doc["post_id"] async for doc in cursor.limit(limit - len(candidates))])
            if not candidates:
                return []
            taken = await posts.update_many(
                {"post_id": {"$in": candidates}, "$or": [self._due(now), self._expired(now)]},
                self._claim_update(worker_id, now, lease),
            )
            if taken.matched_count:
                break
            # Other workers took every candidate between the find and the update: look again,
            # rather than answer "nothing due" while posts are due.
        order = {post_id: number for number, post_id in enumerate(candidates)}
        cursor = posts.find(
            {"post_id": {"$in": candidates}, "status": PostStatus.PUBLISHING.value, "claim.worker_id": worker_id}
        )
        claimed = [_post(doc) async for doc in cursor]
        claimed.sort(key=lambda post: order[post.post_id])
        return claimed

    async def count_due_posts(self, now: datetime) -> int:
        posts = self.db.scheduled_posts
        return await posts.count_documents(self._due(now)) + await posts.count_documents(self._expired(now))

    async def ping(self, timeout: float) -> None:
        from pymongo import timeout as deadline

        with deadline(timeout):
            await self.db.command("ping")

    async def claim_post(self, post_id: str, worker_id: str, now: datetime, lease: timedelta) -> Post | None:
        doc = await self.db.scheduled_posts.find_one_and_update(
            {"post_id": post_id, "$or": [self._due(now), self._expired(now)]},
            self._claim_update(worker_id, now, lease),
            return_document=ReturnDocument.AFTER,
        )
        return _post(doc) if doc else None

    def _held_by(self, post_id: str, worker_id: str) -> Document:
        return {
            "post_id": post_id,
            "status": PostStatus.PUBLISHING.value,
            "claim.worker_id": worker_id,
        }

    async def renew_lease(self, post_id: str, worker_id: str, now: datetime, lease: timedelta) -> bool:
        result = await self.db.scheduled_posts.update_one(
            self._held_by(post_id, worker_id), {"$set": {"claim.lease_until": now + lease}}
        )
        return result.matched_count == 1

    async def record_delivery(self, post_id: str, worker_id: str, delivery: Delivery) -> bool:
        return await self._fenced_update(
            post_id,
            worker_id,
            {"$set": {f"deliveries.{delivery.target_id}": delivery_to_doc(delivery, BSON_TIMES)}},
            _still_held(worker_id),
        )

    async def _fenced_update(
        self, post_id: str, worker_id: str, update: Document, applied: Callable[[Document], bool]
    ) -> bool:
        """One update of a post this worker holds; True if it applied (the claim still held).

        Updates made by many publications in the same event-loop tick go out as one unordered
        bulk write. Its matched count says whether every one applied (the usual case); when it
        falls short, each post is read back and `applied` tells from it whether this one did."""
        return await self._fenced.write(_FencedUpdate(post_id, worker_id, update, applied))

    async def _write_fenced(self, batch: list[_FencedUpdate]) -> list[bool | Exception]:
        answers: list[bool | Exception | None] = [None] * len(batch)
        try:
            result = await self.db.scheduled_posts.bulk_write(
                [UpdateOne(self._held_by(u.post_id, u.worker_id), u.update) for u in batch], ordered=False
            )
            if result.matched_count == len(batch):
                return [True] * len(batch)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                answers[error["index"]] = exc
        open_ = [number for number, answer in enumerate(answers) if answer is None]
        docs = self.db.scheduled_posts.find(
            {"post_id": {"$in": [batch[number].post_id for number in open_]}},
            {"_id": 0, "post_id": 1, "status": 1, "claim": 1, "result": 1, "published_at": 1},
        )
        found = {doc["post_id"]: doc async for doc in docs}
        for number in open_:
            answers[number] = batch[number].applied(found.get(batch[number].post_id) or {})
        return [answer if answer is not None else False for answer in answers]

    async def finish_post(self, post: Post, worker_id: str, now: datetime) -> Post | None:
        finished = finished_post(post, worker_id, now)
        if finished is None:
            return None
        status, done = finished
        # One update fenced by the claim: if another worker took the post over, nothing changes.
        # The report is due at once (a delay notice being sent meanwhile no longer holds it).
        applied = await self._fenced_update(
            post.post_id,
            worker_id,
            {
                "$set": {
                    **_each_delivery(post),
                    "status": status.value,
                    "result": done.result,
                    "published_at": now,
                    "claim": None,
                    "report_due_at": now,
                    "report_holder": None,
                }
            },
            _finished_by(worker_id, now),
        )
        return done if applied else None

    async def release_post(
        self, post: Post, worker_id: str, until: datetime, report_due_at: datetime | None = None
    ) -> bool:
        applied = await self._fenced_update(
            post.post_id,
            worker_id,
            {"$set": {**_each_delivery(post), "claim": {"worker_id": None, "lease_until": until, "claimed_at": None}}},
            _released_until(until),
        )
        if applied and report_due_at is not None:
            # Only when no report is due already (one being sent keeps its lease).
            await self.db.scheduled_posts.update_one(
                {"post_id": post.post_id, "report_due_at": None}, {"$set": {"report_due_at": report_due_at}}
            )
        return applied

    async def expire_claims(self, worker_id: str, now: datetime) -> int:
        tokens = {"$regex": f"^{re.escape(worker_id)}/"}
        posts = self.db.scheduled_posts
        expired = await posts.update_many(
            {"status": PostStatus.PUBLISHING.value, "claim.worker_id": tokens},
            {"$set": {"claim.lease_until": now - timedelta(milliseconds=1)}},
        )
        reports = await posts.update_many(
            {"report_holder": tokens}, {"$set": {"report_due_at": now, "report_holder": None}}
        )
        actions = await self.db.follow_ups.update_many(
            {"status": FollowUpStatus.PENDING.value, "holder": tokens},
            {"$set": {"lease_until": now - timedelta(milliseconds=1)}},
        )
        action_reports = await self.db.follow_ups.update_many(
            {"report_holder": tokens}, {"$set": {"report_due_at": now, "report_holder": None}}
        )
        return expired.modified_count + reports.modified_count + actions.modified_count + action_reports.modified_count

    async def retry_failed(self, user_id: int, post_id: str, now: datetime) -> Post | None:
        doc = await self.db.scheduled_posts.find_one(
            {
                "post_id": post_id,
                "user_id": user_id,
                "status": {"$in": [PostStatus.FAILED.value, PostStatus.PARTIAL.value]},
            }
        )
        if doc is None:
            return None
        post = retried_post(_post(doc), now)
        fields = post_to_doc(post, BSON_TIMES)
        retried = await self.db.scheduled_posts.find_one_and_update(
            {"post_id": post_id, "user_id": user_id, "status": doc["status"]},
            {"$set": {name: fields[name] for name in RETRIED_FIELDS}},
            return_document=ReturnDocument.AFTER,
        )
        return _post(retried) if retried else None

    async def begin_revision(self, user_id: int, post_id: str, seen: int) -> Post | None:
        # A post from before revisions were counted has none: that is revision 0.
        current: Document = {"revision": seen}
        if seen == 0:
            current = {"$or": [{"revision": 0}, {"revision": None}, {"revision": {"$exists": False}}]}
        doc = await self.db.scheduled_posts.find_one_and_update(
            {
                "post_id": post_id,
                "user_id": user_id,
                "status": {"$in": [status.value for status in REVISABLE_STATUSES]},
                **current,
            },
            {"$set": {"revision": seen + 1}},
            return_document=ReturnDocument.AFTER,
        )
        return _post(doc) if doc else None

    async def save_revision(self, user_id: int, post_id: str, revision: int, revised: Revised) -> Post | None:
        posts = self.db.scheduled_posts
        doc = await posts.find_one({"post_id": post_id, "user_id": user_id, "revision": revision})
        if doc is None:
            return None
        post = revised_post(_post(doc), revised)
        fields = post_to_doc(post, BSON_TIMES)
        written = await posts.update_one(
            {"post_id": post_id, "user_id": user_id, "revision": revision},
            {"$set": {name: fields[name] for name in REVISED_FIELDS}},
        )
        return post if written.matched_count == 1 else None

    async def claim_reports(self, holder: str, now: datetime, lease: timedelta, limit: int = 100) -> list[Post]:
        posts = self.db.scheduled_posts
        # As claim_due_posts: candidates, one update_many fenced by "still due", then the claimed
        # ones found by the holder's token (never reused).
        while True:
            cursor = posts.find({"report_due_at": {"$lte": now}}, {"post_id": 1, "_id": 0})
            candidates = [doc["post_id"] async for doc in cursor.sort("report_due_at", ASCENDING).limit(limit)]
            if not candidates:
                return []
            taken = await posts.update_many(
                {"post_id": {"$in": candidates}, "report_due_at": {"$lte": now}},
                {"$set": {"report_holder": holder, "report_due_at": now + lease}},
            )
            if taken.matched_count:
                break
        return [_post(doc) async for doc in posts.find({"post_id": {"$in": candidates}, "report_holder": holder})]

    async def mark_reported(self, post_ids: Collection[str], holder: str, now: datetime) -> int:
        if not post_ids:
            return 0
        posts = self.db.scheduled_posts
        held = {"post_id": {"$in": list(post_ids)}, "report_holder": holder}
        # A post still publishing was told of a delay; a finished one, of how it went.
        delayed = await posts.update_many(
            {**held, "status": PostStatus.PUBLISHING.value},
            {"$set": {"delay_noticed_at": now, "report_due_at": None, "report_holder": None}},
        )
        finished = await posts.update_many(
            {**held, "status": {"$ne": PostStatus.PUBLISHING.value}},
            {"$set": {"notified_at": now, "report_due_at": None, "report_holder": None}},
        )
        return delayed.modified_count + finished.modified_count

    async def postpone_reports(self, post_ids: Collection[str], holder: str, until: datetime) -> int:
        if not post_ids:
            return 0
        result = await self.db.scheduled_posts.update_many(
            {"post_id": {"$in": list(post_ids)}, "report_holder": holder},
            {"$set": {"report_due_at": until, "report_holder": None}},
        )
        return result.modified_count

    # -- follow-up actions -----------------------------------------------------------------
    @staticmethod
    def _claimable_follow_up(now: datetime) -> Document:
        return {
            "status": FollowUpStatus.PENDING.value,
            "due_at": {"$lte": now},
            "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
        }

    async def add_follow_ups(self, actions: Sequence[FollowUp]) -> int:
        added = 0
        for action in actions:
            doc = follow_up_to_doc(action, BSON_TIMES)
            result = await self.db.follow_ups.update_one(
                {"action_id": action.action_id}, {"$setOnInsert": doc}, upsert=True
            )
            added += 1 if result.upserted_id is not None else 0
        return added

    async def follow_ups_of(self, post_id: str) -> list[FollowUp]:
        cursor = self.db.follow_ups.find({"post_id": post_id}).sort([("due_at", ASCENDING), ("action_id", ASCENDING)])
        return [follow_up_from_doc(doc, BSON_TIMES) async for doc in cursor]

    async def claim_follow_ups(self, holder: str, now: datetime, lease: timedelta, limit: int = 50) -> list[FollowUp]:
        actions = self.db.follow_ups
        # As claim_due_posts: candidates, one update_many fenced by "still claimable" (each document
        # is updated atomically), then the claimed ones found by the holder's token (never reused).
        while True:
            cursor = actions.find(self._claimable_follow_up(now), {"action_id": 1, "_id": 0}).sort("due_at", ASCENDING)
            candidates = [doc["action_id"] async for doc in cursor.limit(limit)]
            if not candidates:
                return []
            taken = await actions.update_many(
                {"action_id": {"$in": candidates}, **self._claimable_follow_up(now)},
                {
                    "$set": {"holder": holder, "lease_until": now + lease, "claimed_at": now},
                    "$inc": {"attempts": 1},
                },
            )
            if taken.matched_count:
                break
        cursor = actions.find({"action_id": {"$in": candidates}, "holder": holder})
        claimed = [follow_up_from_doc(doc, BSON_TIMES) async for doc in cursor]
        claimed.sort(key=lambda action: action.due_at)
        return claimed

    async def settle_follow_up(self, action: FollowUp, holder: str) -> bool:
        result = await self.db.follow_ups.update_one(
            {"action_id": action.action_id, "holder": holder, "status": FollowUpStatus.PENDING.value},
            {
                "$set": {
                    "status": action.status.value,
                    "holder": None,
                    "lease_until": None,
                    "claimed_at": None,
                    "done_at": action.done_at,
                    "error_message": action.error_message,
                    "report_due_at": action.report_due_at,
                    "report_holder": None,
                }
            },
        )
        return result.matched_count == 1

    async def release_follow_up(self, action_id: str, holder: str, until: datetime, error: str | None) -> bool:
        result = await self.db.follow_ups.update_one(
            {"action_id": action_id, "holder": holder, "status": FollowUpStatus.PENDING.value},
            {
                "$set": {
                    "holder": None,
                    "lease_until": until,
                    "claimed_at": None,
                    "error_message": error,
                }
            },
        )
        return result.matched_count == 1

    async def claim_follow_up_reports(
        self, holder: str, now: datetime, lease: timedelta, limit: int = 100
    ) -> list[FollowUp]:
        actions = self.db.follow_ups
        while True:
            cursor = actions.find({"report_due_at": {"$lte": now}}, {"action_id": 1, "_id": 0})
            candidates = [doc["action_id"] async for doc in cursor.sort("report_due_at", ASCENDING).limit(limit)]
            if not candidates:
                return []
            taken = await actions.update_many(
                {"action_id": {"$in": candidates}, "report_due_at": {"$lte": now}},
                {"$set": {"report_holder": holder, "report_due_at": now + lease}},
            )
            if taken.matched_count:
                break
        cursor = actions.find({"action_id": {"$in": candidates}, "report_holder": holder})
        return [follow_up_from_doc(doc, BSON_TIMES) async for doc in cursor]

    async def mark_follow_ups_reported(self, action_ids: Collection[str], holder: str, now: datetime) -> int:
        if not action_ids:
            return 0
        result = await self.db.follow_ups.update_many(
            {"action_id": {"$in": list(action_ids)}, "report_holder": holder},
            {"$set": {"notified_at": now, "report_due_at": None, "report_holder": None}},
        )
        return result.modified_count

    async def postpone_follow_up_reports(self, action_ids: Collection[str], holder: str, until: datetime) -> int:
        if not action_ids:
            return 0
        result = await self.db.follow_ups.update_many(
            {"action_id": {"$in": list(action_ids)}, "report_holder": holder},
            {"$set": {"report_due_at": until, "report_holder": None}},
        )
        return result.modified_count

    # -- the user's delivery defaults -------------------------------------------------------
    async def delivery_defaults(self, user_id: int) -> DeliveryOptions:
        doc = await self.db.delivery_defaults.find_one({"user_id": user_id})
        return options_from_doc(doc.get("options")) if doc else DeliveryOptions()

    async def set_delivery_defaults(self, user_id: int, options: DeliveryOptions) -> None:
        await self.db.delivery_defaults.update_one(
            {"user_id": user_id}, {"$set": {"options": options_to_doc(options)}}, upsert=True
        )

    # -- persistence -----------------------------------------------------------------------
    async def load_state(self, namespace: str) -> dict[str, Any]:
        cursor = self.db.state.find({"namespace": namespace})
        return {doc["key"]: json.loads(doc["value"]) async for doc in cursor}

    async def save_state(self, namespace: str, key: str, value: Any) -> None:
        if value is None:
            await self.db.state.delete_one({"namespace": namespace, "key": key})
            return
        await self.db.state.replace_one(
            {"namespace": namespace, "key": key},
            {"namespace": namespace, "key": key, "value": json.dumps(value)},
            upsert=True,
        )

    # -- recurring series ------------------------------------------------------------------
    @staticmethod
    async def _open_series(db: AsyncDatabase[Document]) -> None:
        """The series collection's indexes: its id, the due ones, a user's, the claims to take over."""
        series = db.series
        await series.create_index([("series_id", ASCENDING)], unique=True)
        await series.create_index([("status", ASCENDING), ("next_time", ASCENDING)])
        await series.create_index([("user_id", ASCENDING), ("status", ASCENDING), ("next_time", ASCENDING)])
        await series.create_index([("claim.lease_until", ASCENDING)], sparse=True)

    @staticmethod
    def _series(doc: Document) -> Series:
        return series_from_doc(doc, BSON_TIMES)

    async def create_series(self, series: Series) -> Series:
        await self.db.series.insert_one(series_to_doc(series, BSON_TIMES))
        return series

    async def get_series(self, user_id: int, series_id: str) -> Series | None:
        doc = await self.db.series.find_one({"series_id": series_id, "user_id": user_id})
        return self._series(doc) if doc else None

    async def load_series(self, series_id: str) -> Series | None:
        doc = await self.db.series.find_one({"series_id": series_id})
        return self._series(doc) if doc else None

    async def list_series(self, user_id: int) -> list[Series]:
        cursor = self.db.series.find(
            {"user_id": user_id, "status": {"$in": [SeriesStatus.ACTIVE.value, SeriesStatus.PAUSED.value]}}
        ).sort([("status", ASCENDING), ("next_time", ASCENDING), ("series_id", ASCENDING)])
        return [self._series(doc) async for doc in cursor]

    async def save_series(self, series: Series) -> bool:
        # One document replaced only at the version it was read at: atomic on the server.
        result = await self.db.series.replace_one(
            {"series_id": series.series_id, "version": series.version - 1}, series_to_doc(series, BSON_TIMES)
        )
        return result.matched_count == 1

    async def due_series(self, now: datetime, limit: int = 500) -> list[Series]:
        cursor = self.db.series.find(
            {"status": SeriesStatus.ACTIVE.value, "pending": None, "next_time": {"$lte": now}}
        ).sort("next_time", ASCENDING)
        return [self._series(doc) async for doc in cursor.limit(limit)]

    async def abandoned_series(self, now: datetime, limit: int = 500) -> list[Series]:
        cursor = self.db.series.find({"pending": {"$ne": None}, "claim.lease_until": {"$lt": now}}).sort(
            "claim.lease_until", ASCENDING
        )
        return [self._series(doc) async for doc in cursor.limit(limit)]

    async def upcoming_series(self, until: datetime, after: datetime, limit: int = 1000) -> list[tuple[str, datetime]]:
        cursor = self.db.series.find(
            {"status": SeriesStatus.ACTIVE.value, "pending": None, "next_time": {"$gt": after, "$lte": until}},
            {"series_id": 1, "next_time": 1},
        ).sort("next_time", ASCENDING)
        return [(doc["series_id"], BSON_TIMES.decode(doc["next_time"])) async for doc in cursor.limit(limit)]

    async def settle_series(self, series_id: str, holder: str) -> bool:
        result = await self.db.series.update_one(
            {"series_id": series_id, "pending": {"$ne": None}, "claim.holder": holder},
            {"$set": {"pending": None, "claim": None}, "$inc": {"version": 1}},
        )
        return result.matched_count == 1

    async def expire_series_claims(self, worker_id: str, now: datetime) -> int:
        result = await self.db.series.update_many(
            {"pending": {"$ne": None}, "claim.holder": {"$regex": f"^{re.escape(worker_id)}/"}},
            {"$set": {"claim.lease_until": now - timedelta(milliseconds=1)}},
        )
        return result.modified_count

    async def add_post_if_absent(self, post: Post) -> bool:
        # An upsert that only inserts: a post already there (its id derived from what it is) is
        # left as it is. The server runs it as one operation; on a real MongoDB two at once may
        # both try to insert, and the unique index refuses the second.
        try:
            result = await self.db.scheduled_posts.update_one(
                {"post_id": post.post_id},
                {"$setOnInsert": {"post_id": post.post_id, **post_to_doc(post, BSON_TIMES)}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return result.upserted_id is not None

    # -- the posting schedule and its queue --------------------------------------------------
    async def queue_slots(self, user_id: int) -> list[Slot]:
        doc = await self.db.queue_slots.find_one({"user_id": user_id})
        return sorted(slot_from_doc(slot) for slot in doc["slots"]) if doc else []

    async def set_queue_slots(self, user_id: int, slots: Sequence[Slot]) -> None:
        await self.db.queue_slots.update_one(
            {"user_id": user_id},
            {"$set": {"slots": [slot_to_doc(slot) for slot in sorted(set(slots))]}},
            upsert=True,
        )

    async def queued_posts(self, user_id: int, limit: int = 500) -> list[Post]:
        cursor = (
            self.db.scheduled_posts.find({"user_id": user_id, "status": PostStatus.SCHEDULED.value, "queued": True})
            .sort([("scheduled_time", ASCENDING), ("post_id", ASCENDING)])
            .limit(limit)
        )
        return [_post(doc) async for doc in cursor]

    async def leave_queue(self, user_id: int, post_id: str) -> bool:
        result = await self.db.scheduled_posts.update_one(
            {"post_id": post_id, "user_id": user_id}, {"$set": {"queued": False}}
        )
        return result.matched_count == 1


def _user(doc: dict[str, Any]) -> User:
    return User(
        int(doc["user_id"]),
        doc.get("timezone"),
        BSON_TIMES.decode(doc["created_at"]),
        language=doc.get("language"),
        app_language=doc.get("app_language"),
    )
