"""The Store interface: every read and write Herald makes, whatever the database."""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from pymongo.errors import ConnectionFailure

from storage.crypto import CredentialCipher, CredentialError
from storage.models import (
    Account,
    Content,
    Delivery,
    DeliveryOptions,
    DeliveryStatus,
    Entity,
    FollowUp,
    ForumTopic,
    Platform,
    Post,
    Poster,
    PostStatus,
    PostView,
    Target,
    TelegramChat,
    User,
    derive_status,
    summarize,
)
from storage.queue import Slot
from storage.series import Series

# What a store raises while the database is out of reach or busy (a locked SQLite file, a MongoDB
# server away): worth trying the same write again later. Anything else is a bug or bad data.
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (sqlite3.OperationalError, ConnectionFailure, OSError)
# How much of a media file is read, written or held at once (`put_media`, `media_chunks`).
MEDIA_CHUNK = 1024 * 1024


@dataclass
class PostPage:
    """One page of a user's posts, newest first, and whether another page follows."""

    posts: list[Post]
    page: int
    has_next: bool


def finished_post(post: Post, worker_id: str | None, now: datetime) -> tuple[PostStatus, Post] | None:
    """What `finish_post` makes of a claimed post: its derived final status and the finished
    post (result, publication time, no claim, its report due), or None while a delivery is still
    open. `worker_id` names the worker that finished it in the result (None: a person did)."""
    status = derive_status(post.deliveries)
    if status is None:
        return None
    result = summarize(post.deliveries)
    if worker_id is not None:
        result["worker_id"] = worker_id
    done = replace(
        post,
        status=status,
        result=result,
        published_at=now,
        claim=None,
        retry_at=None,
        deliveries=dict(post.deliveries),
        report_due_at=now,
        report_holder=None,
    )
    return status, done


def confirmed_by_hand(post: Post, target_id: str, now: datetime) -> Post | None:
    """What "I posted it" makes of a post handed to its owner: that target sent, and the post
    finished (derived status, result, report due) if nothing else is open. None if the post is
    not publishing or the target is not awaiting the owner."""
    delivery = post.deliveries.get(target_id)
    if post.status is not PostStatus.PUBLISHING or delivery is None:
        return None
    if delivery.status is not DeliveryStatus.AWAITING_YOU:
        return None
    sent = replace(
        delivery, status=DeliveryStatus.SENT, updated_at=now, error_kind=None, error_code=None, error_message=None
    )
    confirmed = replace(post, deliveries={**post.deliveries, target_id: sent})
    finished = finished_post(confirmed, None, now)
    return finished[1] if finished is not None else confirmed


RETRYABLE_DELIVERIES = (DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED, DeliveryStatus.MISSED)


def retried_post(post: Post, now: datetime) -> Post:
    """What "Retry failed targets" makes of a failed or partial post: scheduled again now, its
    failed, unconfirmed and missed targets pending again (sent ones stay sent), nothing reported."""
    deliveries = {
        target_id: (
            Delivery(target_id=target_id, attempts=delivery.attempts, updated_at=now)
            if delivery.status in RETRYABLE_DELIVERIES
            else delivery
        )
        for target_id, delivery in post.deliveries.items()
    }
    return replace(
        post,
        status=PostStatus.SCHEDULED,
        scheduled_time=now,
        deliveries=deliveries,
        result=None,
        published_at=None,
        notified_at=None,
        claim=None,
        retry_at=None,
        report_due_at=None,
        report_holder=None,
        delay_noticed_at=None,
    )


# A published post can be edited or deleted everywhere while it is in one of these states.
REVISABLE_STATUSES = (PostStatus.PUBLISHED, PostStatus.PARTIAL)


@dataclass
class Revised:
    """What an edit or a delete everywhere came to: the new content if it was edited on at least
    one target, the targets it was deleted on, and when."""

    at: datetime
    content: Content | None = None
    deleted: list[str] | None = None


def revised_post(post: Post, revised: Revised) -> Post:
    """What "Edit everywhere" or "Delete everywhere" makes of a published post: the new content
    and `edited_at` once one target shows it; each target it was deleted on marked, and
    `deleted_at` once one was."""
    changed = replace(post, deliveries=dict(post.deliveries))
    content = revised.content
    if content is not None:
        changed.main_caption, changed.caption_entities = content.caption, list(content.caption_entities)
        changed.images, changed.buttons = list(content.images), [list(row) for row in content.buttons]
        changed.link_preview, changed.caption_above = content.link_preview, content.caption_above
        changed.edited_at = revised.at
    for target_id in revised.deleted or []:
        delivery = changed.deliveries.get(target_id)
        if delivery is not None and delivery.deleted_at is None:
            changed.deliveries[target_id] = replace(delivery, deleted_at=revised.at)
            changed.deleted_at = revised.at
    return changed


class Store(ABC):
    """Herald's storage. Every read of user data is scoped by the owner's Telegram user id."""

    def __init__(self, cipher: CredentialCipher) -> None:
        self.cipher = cipher

    def seal(self, secret: str) -> str:
        """`secret` encrypted with the credentials' key, to be kept where the store does not
        look (a conversation's state between two questions)."""
        return self.cipher.encrypt(secret)

    def unseal(self, sealed: str) -> str | None:
        """What `seal` sealed; None if it cannot be read (another key, or not sealed at all)."""
        try:
            return self.cipher.decrypt(sealed)
        except CredentialError:
            return None

    # -- lifecycle -------------------------------------------------------------------------
    @abstractmethod
    async def open(self) -> None:
        """Connect, and create tables, collections and indexes if missing."""

    @abstractmethod
    async def close(self) -> None:
        """Release the connection."""

    # -- users -----------------------------------------------------------------------------
    @abstractmethod
    async def get_user(self, user_id: int) -> User | None:
        """The user's settings, or None if they have never set anything."""

    @abstractmethod
    async def set_timezone(self, user_id: int, timezone: str) -> User:
        """Save the user's IANA time zone, creating the user if needed."""

    @abstractmethod
    async def set_language(self, user_id: int, language: str | None) -> User:
        """Save the language the user chose (None: their app's), creating the user if needed."""

    @abstractmethod
    async def set_app_language(self, user_id: int, code: str | None) -> User:
        """Remember the language of the user's Telegram app, creating the user if needed."""

    # -- accounts and targets --------------------------------------------------------------
    @abstractmethod
    async def add_account(
        self,
        user_id: int,
        platform: Platform,
        name: str,
        credential: str,
        targets: list[Target],
    ) -> Account:
        """Store a new account; the credential is encrypted before it is written."""

    @abstractmethod
    async def list_accounts(self, user_id: int) -> list[Account]:
        """The user's accounts, oldest first."""

    @abstractmethod
    async def get_account(self, user_id: int, account_id: str) -> Account | None:
        """One of the user's accounts, or None if it is not theirs or does not exist."""

    @abstractmethod
    async def account_credential(self, account_id: str) -> str | None:
        """The decrypted credential of an account, for publishers only; None if gone."""

    @abstractmethod
    async def set_account_targets(self, user_id: int, account_id: str, targets: list[Target]) -> bool:
        """Replace an account's targets; False if the account is not the user's."""

    @abstractmethod
    async def set_account_credential(self, user_id: int, account_id: str, credential: str) -> bool:
        """Replace an account's credential (reconnecting it); False if not the user's."""

    @abstractmethod
    async def rename_account(self, user_id: int, account_id: str, name: str) -> bool:
        """Give the user's account a new name (as given: the caller checks it); False if the
        account is not theirs or no longer exists. Its targets keep their names."""

    @abstractmethod
    async def mark_account_needs_reconnect(self, account_id: str, needs: bool = True) -> None:
        """Flag an account whose credential the platform refused."""

    @abstractmethod
    async def remove_account(self, user_id: int, account_id: str) -> int | None:
        """Delete the user's account and cancel its scheduled posts.

        Returns how many posts were cancelled, or None if the account is not theirs."""

    # -- Telegram chats the bot belongs to -------------------------------------------------
    @abstractmethod
    async def upsert_chat(self, chat: TelegramChat) -> None:
        """Remember (or update) a channel or group the bot was added to."""

    @abstractmethod
    async def get_chat(self, chat_id: int) -> TelegramChat | None:
        """A chat the bot knows, or None."""

    @abstractmethod
    async def list_chats(self, admin_only: bool = True) -> list[TelegramChat]:
        """The chats the bot knows, by title; by default only where it is an administrator."""

    @abstractmethod
    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """Follow a group's upgrade to a supergroup: the chat keeps its place under a new id."""

    # -- forum topics (targets of their own) -----------------------------------------------
    @abstractmethod
    async def upsert_topic(self, topic: ForumTopic) -> None:
        """Remember a forum topic, or update its name and whether it is closed."""

    @abstractmethod
    async def get_topic(self, chat_id: int, thread_id: int) -> ForumTopic | None:
        """A topic the bot knows, or None."""

    @abstractmethod
    async def forget_topic(self, chat_id: int, thread_id: int) -> bool:
        """Forget a topic (Telegram says it was deleted); True if it was known."""

    @abstractmethod
    async def list_topics(self, chat_ids: Collection[int]) -> list[ForumTopic]:
        """The topics known in these chats, by chat, then name, then thread id."""

    # -- images ----------------------------------------------------------------------------
    @abstractmethod
    async def put_image(self, data: bytes) -> str:
        """Store image bytes and return their blob id (the same bytes give the same id)."""

    @abstractmethod
    async def load_image(self, blob_id: str) -> bytes | None:
        """The bytes stored under `blob_id`, or None."""

    @abstractmethod
    async def set_image_file_id(self, blob_id: str, file_id: str) -> None:
        """Remember Telegram's file_id for a blob, to re-send it without uploading."""

    @abstractmethod
    async def image_file_id(self, blob_id: str) -> str | None:
        """The Telegram file_id remembered for a blob, if any."""

    @abstractmethod
    async def purge_orphan_images(self, created_before: datetime) -> int:
        """Delete images stored before `created_before` that no post or poster uses; the count."""

    @abstractmethod
    async def put_media(self, source: BinaryIO) -> str:
        """Store the bytes `source` reads (a file of any size: read and written a chunk at a time,
        never held whole) and return their blob id, the same as `put_image` gives those bytes."""

    @abstractmethod
    def media_chunks(self, blob_id: str) -> AsyncIterator[bytes]:
        """The bytes stored under `blob_id` (by `put_image` or `put_media`), a chunk at a time, so
        that a big video is never held whole; nothing if there is no such blob."""

    # -- posters ---------------------------------------------------------------------------
    @abstractmethod
    async def save_poster(self, poster: Poster) -> Poster:
        """Store a poster (its images must already be stored with `put_image`)."""

    @abstractmethod
    async def list_posters(self, user_id: int) -> list[Poster]:
        """The user's posters, by name."""

    @abstractmethod
    async def get_poster(self, user_id: int, poster_id: str) -> Poster | None:
        """One of the user's posters, or None."""

    @abstractmethod
    async def delete_poster(self, user_id: int, poster_id: str) -> bool:
        """Delete one of the user's posters; images still used by posts stay."""

    # -- posts -----------------------------------------------------------------------------
    @abstractmethod
    async def create_post(self, post: Post) -> Post:
        """Store a new scheduled post."""

    @abstractmethod
    async def get_post(self, user_id: int, post_id: str) -> Post | None:
        """One of the user's posts, or None if it is not theirs or does not exist."""

    @abstractmethod
    async def load_post(self, post_id: str) -> Post | None:
        """A post by id, for the scheduler only (no owner check)."""

    @abstractmethod
    async def list_posts(self, user_id: int, view: PostView, page: int = 0, per_page: int = 5) -> PostPage:
        """A page of the user's posts: upcoming soonest first, history latest first."""

    @abstractmethod
    async def cancel_post(self, user_id: int, post_id: str) -> Post | None:
        """Cancel the user's post if it is still `scheduled`; None otherwise."""

    @abstractmethod
    async def reschedule_post(self, user_id: int, post_id: str, scheduled_time: datetime) -> Post | None:
        """Move the user's still-`scheduled` post to a new time; None otherwise."""

    @abstractmethod
    async def update_caption(
        self, user_id: int, post_id: str, caption: str, entities: Sequence[Entity] = ()
    ) -> Post | None:
        """Replace the main caption of the user's still-`scheduled` post, and its formatting with
        `entities`; None otherwise."""

    @abstractmethod
    async def confirm_delivery(self, user_id: int, post_id: str, target_id: str, now: datetime) -> Post | None:
        """The owner posted by hand: an `awaiting_you` delivery becomes sent, and the post is
        finished with its derived status if nothing else is open. None if not theirs or not awaiting."""

    @abstractmethod
    async def scheduled_posts(
        self, until: datetime, limit: int = 1000, after: datetime | None = None
    ) -> list[tuple[str, datetime]]:
        """(post id, time) of scheduled posts, and of posts waiting to retry, due by `until` (and
        after `after`, if given), soonest first."""

    # -- publication -----------------------------------------------------------------------
    @abstractmethod
    async def claim_due_posts(
        self, worker_id: str, now: datetime, lease: timedelta, limit: int = 50, exclude: Collection[str] = ()
    ) -> list[Post]:
        """Atomically take due `scheduled` posts and posts whose lease ran out (or whose retry is
        due), except the posts in `exclude` (those this process is publishing itself).

        Each returned post is now `publishing`, owned by `worker_id` until `now + lease`;
        no other worker can claim it until then."""

    @abstractmethod
    async def count_due_posts(self, now: datetime) -> int:
        """How many posts `claim_due_posts` could take at `now`: due and unclaimed, a retry due, or
        a claim whose lease ran out (the queue depth in /metrics)."""

    @abstractmethod
    async def ping(self, timeout: float) -> None:
        """Returns when the database answers within `timeout` seconds (for SQLite: the file can be
        locked for writing); raises an error saying why not (for /healthz)."""

    @abstractmethod
    async def claim_post(self, post_id: str, worker_id: str, now: datetime, lease: timedelta) -> Post | None:
        """Atomically take one post if it is due, or its lease ran out; None otherwise."""

    @abstractmethod
    async def renew_lease(self, post_id: str, worker_id: str, now: datetime, lease: timedelta) -> bool:
        """Extend the worker's lease on a post; False if the worker lost it."""

    @abstractmethod
    async def record_delivery(self, post_id: str, worker_id: str, delivery: Delivery) -> bool:
        """Save what happened on one target while the worker holds the claim; False if not."""

    @abstractmethod
    async def finish_post(self, post: Post, worker_id: str, now: datetime) -> Post | None:
        """Finish a claimed post from what the worker knows, in one write fenced by the claim.

        The worker passes the post it claimed with every delivery as it ended (so the last
        outcomes need no `record_delivery` of their own); the store writes those deliveries,
        the derived final status and the result only if `worker_id` still holds the claim and
        the post is still `publishing`. Nothing is read back: returns the finished post built
        in memory, or None — writing nothing — if the worker lost the claim or a delivery is
        still open. The owner's report is due from `now` (see `claim_reports`)."""

    @abstractmethod
    async def release_post(
        self, post: Post, worker_id: str, until: datetime, report_due_at: datetime | None = None
    ) -> bool:
        """Give a claimed post back with its deliveries as the worker knows them, in one write
        fenced by the claim: it stays `publishing` with no claim, and any worker may claim it from
        `until` (the time of a retry, or now when this worker stops). `report_due_at`, if given,
        makes a delay notice due then, unless a report is due already. False, writing nothing, if
        `worker_id` no longer holds the claim."""

    @abstractmethod
    async def expire_claims(self, worker_id: str, now: datetime) -> int:
        """A worker died: every claim it held, publications, reports and follow-up actions (claim
        tokens `{worker_id}/…`), ends now, so that the next sweep takes them over. The count."""

    # -- the owner's reports ---------------------------------------------------------------
    @abstractmethod
    async def claim_reports(self, holder: str, now: datetime, lease: timedelta, limit: int = 100) -> list[Post]:
        """Atomically take the posts whose report is due (`report_due_at <= now`): each is now held
        by `holder` until `now + lease`, and no other worker takes it until then."""

    @abstractmethod
    async def mark_reported(self, post_ids: Collection[str], holder: str, now: datetime) -> int:
        """The reports `holder` took were sent: a finished post's owner was told how it went
        (`notified_at`), a publishing one's owner that it is delayed (`delay_noticed_at`); no report
        is due any more. Only posts `holder` still holds change; the count."""

    @abstractmethod
    async def postpone_reports(self, post_ids: Collection[str], holder: str, until: datetime) -> int:
        """The reports `holder` took could not be sent now: due again from `until`, held by nobody."""

    @abstractmethod
    async def retry_failed(self, user_id: int, post_id: str, now: datetime) -> Post | None:
        """Schedule a failed or partial post again, now, for its failed and unconfirmed targets."""

    @abstractmethod
    async def begin_revision(self, user_id: int, post_id: str, seen: int) -> Post | None:
        """Take the next edit or delete of the user's published (or partial) post, asked while its
        `revision` was `seen`: the post with `revision` one more, or None if it is not the user's,
        not published, or another edit or delete was taken since (a second press)."""

    @abstractmethod
    async def save_revision(self, user_id: int, post_id: str, revision: int, revised: Revised) -> Post | None:
        """Keep what the edit or delete `revision` (taken by `begin_revision`) came to
        (`revised_post`); None if the post is not the user's or a later revision was taken."""

    # -- follow-up actions: unpin and delete a published post at their times ------------------
    @abstractmethod
    async def add_follow_ups(self, actions: Sequence[FollowUp]) -> int:
        """Store the actions not stored yet (an action id stored already is left as it is, so that
        a delivery's actions made twice are stored once); the count added."""

    @abstractmethod
    async def follow_ups_of(self, post_id: str) -> list[FollowUp]:
        """A post's actions, soonest first (for the scheduler and the post's details)."""

    @abstractmethod
    async def claim_follow_ups(self, holder: str, now: datetime, lease: timedelta, limit: int = 50) -> list[FollowUp]:
        """Atomically take pending actions due by `now` that nobody holds (or waits to retry), or
        whose holder's lease ran out: each is now held by `holder` until `now + lease`, its attempts counted, and no
        other worker takes it until then."""

    @abstractmethod
    async def settle_follow_up(self, action: FollowUp, holder: str) -> bool:
        """Write how a held action ended (`settled_follow_up` made it: done, failed or missed, and
        its report due if not done), fenced by the claim; False, writing nothing, if `holder` no
        longer holds it."""

    @abstractmethod
    async def release_follow_up(self, action_id: str, holder: str, until: datetime, error: str | None) -> bool:
        """Give a held action back to be tried again after `until` (a transient failure, or this
        worker stopping), with the last error, its due time unchanged (MAX_LATENESS counts from
        it); False if `holder` no longer holds it."""

    @abstractmethod
    async def claim_follow_up_reports(
        self, holder: str, now: datetime, lease: timedelta, limit: int = 100
    ) -> list[FollowUp]:
        """Atomically take the failed or missed actions whose owner's report is due: each is held
        by `holder` until `now + lease`."""

    @abstractmethod
    async def mark_follow_ups_reported(self, action_ids: Collection[str], holder: str, now: datetime) -> int:
        """The owner was told of these actions (only those `holder` still holds change); the count."""

    @abstractmethod
    async def postpone_follow_up_reports(self, action_ids: Collection[str], holder: str, until: datetime) -> int:
        """These actions' report could not be sent now: due again from `until`, held by nobody."""

    # -- the user's delivery defaults ---------------------------------------------------------
    @abstractmethod
    async def delivery_defaults(self, user_id: int) -> DeliveryOptions:
        """The delivery options the user chose last, for their next post (the defaults if none)."""

    @abstractmethod
    async def set_delivery_defaults(self, user_id: int, options: DeliveryOptions) -> None:
        """Remember the user's delivery options for their next posts."""

    # -- python-telegram-bot persistence ---------------------------------------------------
    @abstractmethod
    async def load_state(self, namespace: str) -> dict[str, Any]:
        """Every key and JSON value saved under a persistence namespace."""

    @abstractmethod
    async def save_state(self, namespace: str, key: str, value: Any) -> None:
        """Save a JSON value under a key; None deletes it."""

    # -- recurring series (storage/series.py says how an occurrence is made exactly once) ------
    @abstractmethod
    async def create_series(self, series: Series) -> Series:
        """Store a new series."""

    @abstractmethod
    async def get_series(self, user_id: int, series_id: str) -> Series | None:
        """One of the user's series, or None if it is not theirs or does not exist."""

    @abstractmethod
    async def load_series(self, series_id: str) -> Series | None:
        """A series by id, for the scheduler only (no owner check)."""

    @abstractmethod
    async def list_series(self, user_id: int) -> list[Series]:
        """The user's series that are not ended: active ones by their next time, then paused ones."""

    @abstractmethod
    async def save_series(self, series: Series) -> bool:
        """Write a series changed from the version before `series.version`, only if the stored one
        is still at that version (nobody changed it meanwhile); False, writing nothing, otherwise."""

    @abstractmethod
    async def due_series(self, now: datetime, limit: int = 500) -> list[Series]:
        """Active series with nothing pending whose next occurrence is due by `now`, soonest first."""

    @abstractmethod
    async def abandoned_series(self, now: datetime, limit: int = 500) -> list[Series]:
        """Series with a pending occurrence whose claim's lease ran out before `now`."""

    @abstractmethod
    async def upcoming_series(self, until: datetime, after: datetime, limit: int = 1000) -> list[tuple[str, datetime]]:
        """(series id, time) of the active series whose next occurrence falls after `after` and by
        `until`, with nothing pending, soonest first."""

    @abstractmethod
    async def settle_series(self, series_id: str, holder: str) -> bool:
        """The pending occurrence's post is written: the series has nothing pending and no claim
        any more, if `holder` still holds the claim (one version on); False otherwise."""

    @abstractmethod
    async def expire_series_claims(self, worker_id: str, now: datetime) -> int:
        """A worker died: its claims on pending occurrences (tokens `{worker_id}/…`) end now. The count."""

    @abstractmethod
    async def add_post_if_absent(self, post: Post) -> bool:
        """Store the post unless a post with its id exists: True if this call stored it. Two
        calls with the same id, from any processes, store one post."""

    # -- the posting schedule and its queue (storage/queue.py has the rules) -----------------
    @abstractmethod
    async def queue_slots(self, user_id: int) -> list[Slot]:
        """The user's posting-schedule slots (for all targets and per target set), in weekly order."""

    @abstractmethod
    async def set_queue_slots(self, user_id: int, slots: Sequence[Slot]) -> None:
        """Replace the user's posting-schedule slots with `slots`."""

    @abstractmethod
    async def queued_posts(self, user_id: int, limit: int = 500) -> list[Post]:
        """The user's queued posts still `scheduled`, soonest first."""

    @abstractmethod
    async def leave_queue(self, user_id: int, post_id: str) -> bool:
        """The user's post is no longer queued (given an exact time by the person): it holds no
        slot any more. False if it is not theirs."""
