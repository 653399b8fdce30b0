"""What Herald stores: users, accounts, targets, posters, posts and their deliveries."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


def utc_now() -> datetime:
    """The current time, timezone-aware UTC, at the millisecond precision both stores keep."""
    return to_millis(datetime.now(UTC))


def to_millis(moment: datetime) -> datetime:
    """`moment` in UTC, truncated to milliseconds (BSON dates hold no more)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not allowed: Herald keeps UTC inside")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def new_id() -> str:
    """A fresh random identifier: 12 lowercase hex characters, safe in callback data and field paths."""
    return secrets.token_hex(6)


class Platform(StrEnum):
    TELEGRAM = "telegram"
    FACEBOOK_PAGE = "facebook_page"
    FACEBOOK_GROUPS = "facebook_groups"
    WEBHOOK = "webhook"


class PostStatus(StrEnum):
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_POST_STATUSES


FINAL_POST_STATUSES = frozenset({PostStatus.PUBLISHED, PostStatus.PARTIAL, PostStatus.FAILED, PostStatus.CANCELLED})


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    # Marked just before the request goes out, so a crash mid-request is recognisable.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    AWAITING_YOU = "awaiting_you"
    MISSED = "missed"

    @property
    def is_final(self) -> bool:
        return self in (
            DeliveryStatus.SENT,
            DeliveryStatus.FAILED,
            DeliveryStatus.UNCONFIRMED,
            DeliveryStatus.MISSED,
        )


class ErrorKind(StrEnum):
    RETRYABLE = "retryable"
    PERMANENT = "permanent"
    UNCONFIRMED = "unconfirmed"
    MISSED = "missed"


class PostView(StrEnum):
    UPCOMING = "upcoming"
    HISTORY = "history"


@dataclass
class User:
    user_id: int
    timezone: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    # The language chosen with /language; None: the language of their Telegram app.
    language: str | None = None
    # Their Telegram app's language (`language_code`) when last seen: what reports are written in
    # when they chose none (the scheduler has no update to read it from).
    app_language: str | None = None


@dataclass
class Target:
    """One destination of an account: a chat, a page, a group, an endpoint."""

    target_id: str
    name: str
    # The platform's own address: a chat id, a page id, a group URL, a webhook URL.
    address: str
    # A Telegram chat's type ("channel", "group", "supergroup"); empty on other platforms.
    kind: str = ""
    url: str | None = None
    # The account that publishes to it (a post may mix targets of several accounts).
    account_id: str = ""
    # Which platform publishes to it; the chats of the built-in Telegram account unless said.
    platform: Platform = Platform.TELEGRAM
    # A forum topic of the chat `address` names (Telegram's message_thread_id); None: the chat
    # itself (a forum's General topic included).
    thread_id: int | None = None


# Before targets named their platform, `kind` told the other platforms' targets from Telegram chats.
_PLATFORM_KINDS = {
    "facebook_page": Platform.FACEBOOK_PAGE,
    "facebook_group": Platform.FACEBOOK_GROUPS,
    "webhook": Platform.WEBHOOK,
}


def target_platform(saved: dict[str, Any]) -> tuple[Platform, str]:
    """(platform, kind) of a target saved as a plain dict, by this version or by one from before
    targets named their platform (then its `kind` told: "webhook", "facebook_page"…)."""
    kind = str(saved.get("kind") or "")
    if saved.get("platform"):
        return Platform(saved["platform"]), kind
    platform = _PLATFORM_KINDS.get(kind, Platform.TELEGRAM)
    return platform, kind if platform is Platform.TELEGRAM else ""


@dataclass
class Account:
    """A connected publishing identity; its credential is kept encrypted by the store."""

    account_id: str
    user_id: int
    platform: Platform
    name: str
    targets: list[Target] = field(default_factory=list)
    needs_reconnect: bool = False
    created_at: datetime = field(default_factory=utc_now)


@dataclass
class TelegramChat:
    """A channel or group the bot belongs to, learned from `my_chat_member` updates."""

    chat_id: int
    title: str
    chat_type: str
    bot_is_admin: bool
    username: str | None = None
    updated_at: datetime = field(default_factory=utc_now)


@dataclass
class ForumTopic:
    """A topic of a forum supergroup, a target of its own: learned from the topic's service
    messages the bot sees (created, renamed, closed, reopened) or from a pasted link to it."""

    chat_id: int
    # Telegram's message_thread_id: the id of the message that created the topic.
    thread_id: int
    name: str
    # Closed topics take no posts (Telegram answers TOPIC_CLOSED) and are not offered.
    closed: bool = False
    updated_at: datetime = field(default_factory=utc_now)


class MediaKind(StrEnum):
    """What a media item of a post is, as Telegram sends it (an `Image` of any kind)."""

    PHOTO = "photo"
    VIDEO = "video"
    ANIMATION = "animation"  # a GIF, which Telegram keeps as a silent MP4
    DOCUMENT = "document"
    AUDIO = "audio"


# A formatting span of a text, as Telegram's MessageEntity JSON: type, offset and length in UTF-16
# code units, and url, user, language or custom_emoji_id where its type has one.
Entity = dict[str, Any]


@dataclass
class Image:
    """One media item of a poster or post (a photo unless `kind` says otherwise; the seed's name is
    kept): its bytes live in the blob store under `blob_id`."""

    name: str
    blob_id: str
    caption: str = ""
    size: int = 0
    mime_type: str = "image/jpeg"
    telegram_file_id: str | None = None
    kind: MediaKind = MediaKind.PHOTO
    # Hidden under a spoiler until tapped (photos, videos and GIFs).
    spoiler: bool = False
    caption_entities: list[Entity] = field(default_factory=list)


@dataclass
class Button:
    """A button under a post: a link to open, or a text to copy (a promo code)."""

    label: str
    url: str | None = None
    copy_text: str | None = None


@dataclass
class LinkPreview:
    """How a post's text shows the preview of its first link."""

    show: bool = True
    above_text: bool = False
    large_media: bool = False


@dataclass
class Content:
    """What a post (or poster) shows: its text and formatting, its media, the buttons under it, and
    how its link preview and captions are laid out."""

    caption: str = ""
    caption_entities: list[Entity] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    link_preview: LinkPreview = field(default_factory=LinkPreview)
    # The caption shown above the photos and videos instead of below.
    caption_above: bool = False


@dataclass
class DeliveryOptions:
    """How a post is delivered and what becomes of it after: sent without a sound, protected from
    forwarding and saving, pinned (silently) right after publishing, unpinned and deleted a while
    after. Delays are seconds after publishing (None: never)."""

    silent: bool = False
    protect: bool = False
    pin: bool = False
    unpin_after: int | None = None
    delete_after: int | None = None

    @property
    def has_follow_ups(self) -> bool:
        """True if something is to be done after publishing (pin, unpin or delete)."""
        return self.pin or self.delete_after is not None

    @property
    def is_default(self) -> bool:
        return self == DeliveryOptions()


@dataclass
class Poster:
    """Saved, reusable content: a main caption and up to ten images."""

    poster_id: str
    user_id: int
    name: str
    main_caption: str = ""
    images: list[Image] = field(default_factory=list)
    created_at: datetime = field(default_factory=utc_now)
    caption_entities: list[Entity] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    link_preview: LinkPreview = field(default_factory=LinkPreview)
    caption_above: bool = False
    # How its posts are delivered unless the person changes it (silent, pinned, deleted after…).
    options: DeliveryOptions = field(default_factory=DeliveryOptions)

    @property
    def content(self) -> Content:
        """What the poster shows."""
        return _content_of(self)


@dataclass
class Delivery:
    """What became of one post on one target."""

    target_id: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    message_id: str | None = None
    # Every message of the delivery in the order sent (an album's items, then a follow-up text or
    # buttons message); `message_id` is the first. Empty for deliveries from before it was kept.
    message_ids: list[str] = field(default_factory=list)
    url: str | None = None
    error_kind: ErrorKind | None = None
    error_code: str | None = None
    error_message: str | None = None
    updated_at: datetime = field(default_factory=utc_now)
    # While a retryable failure is being retried: when the first of those failures happened
    # (the report says "could not reach Telegram from 14:00 to 14:40"), and how many in a row.
    retry_since: datetime | None = None
    retries: int = 0
    # When the post was deleted on this target by "Delete everywhere" (None: still there).
    deleted_at: datetime | None = None
    # Pinned right after publishing (the post asked for it and Telegram took it).
    pinned: bool = False


@dataclass
class Claim:
    """Which worker is publishing a post, and until when its lease holds."""

    worker_id: str
    lease_until: datetime
    claimed_at: datetime


MAX_IMAGES = 10


@dataclass
class Post:
    """One scheduled publication (the seed's `group_ids` and `groups` are its targets' ids and
    names; the stored document still carries them under those names)."""

    post_id: str
    user_id: int
    account_id: str
    account_name: str
    # Where it goes, in the order chosen, as each target was when the post was made.
    targets: list[Target]
    main_caption: str
    scheduled_time: datetime
    images: list[Image] = field(default_factory=list)
    poster_name: str | None = None
    status: PostStatus = PostStatus.SCHEDULED
    result: dict[str, Any] | None = None
    created_at: datetime = field(default_factory=utc_now)
    published_at: datetime | None = None
    # When the owner was sent the report of this publication (None: not yet).
    notified_at: datetime | None = None
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    claim: Claim | None = None
    # How many times a worker has claimed this post (a takeover makes it 2 or more).
    attempts: int = 0
    # A post waiting to retry a failed target is `publishing` with no claim: any worker may
    # claim it from this time on.
    retry_at: datetime | None = None
    # The owner's reports are deliveries of their own: one is due from `report_due_at` (the
    # final report once the post is finished, or a notice that it is delayed by an outage),
    # and while a worker sends it, `report_holder` is that worker's claim token and
    # `report_due_at` the end of its lease.
    report_due_at: datetime | None = None
    report_holder: str | None = None
    # When the owner was told that an outage delays this post (told once).
    delay_noticed_at: datetime | None = None
    # Which occurrence of a recurring series this post is (None: a post of its own).
    occurrence: Occurrence | None = None
    # The main caption's formatting, the buttons under the post, its link preview and where its
    # captions show (see `Content`).
    caption_entities: list[Entity] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    link_preview: LinkPreview = field(default_factory=LinkPreview)
    caption_above: bool = False
    # After publication: how many times "Edit everywhere" or "Delete everywhere" was started (a
    # confirm button carries the number it was asked at, so a second press does nothing), and
    # when the post was last edited, or deleted on at least one target.
    revision: int = 0
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    # Given its time by the posting schedule ("Add to queue", a batch): it holds that slot, and
    # the queue view may move it to another queued post's slot (storage/queue.py).
    queued: bool = False
    # How it is delivered: silently, protected, pinned, unpinned and deleted after a while.
    options: DeliveryOptions = field(default_factory=DeliveryOptions)

    @property
    def content(self) -> Content:
        """What the post shows."""
        return _content_of(self)

    @property
    def short_id(self) -> str:
        """The id shown to people, e.g. `a1b2c3`."""
        return self.post_id[:6]

    def target(self, target_id: str) -> Target | None:
        """The post's target with this id, or None."""
        return next((target for target in self.targets if target.target_id == target_id), None)

    def target_name(self, target_id: str) -> str:
        """What people call the target: its name (its id if the post has no such target)."""
        target = self.target(target_id)
        return target.name if target is not None else target_id


def new_post(
    *,
    user_id: int,
    account: Account,
    targets: list[Target],
    main_caption: str,
    scheduled_time: datetime,
    images: list[Image] | None = None,
    poster_name: str | None = None,
    content: Content | None = None,
    options: DeliveryOptions | None = None,
) -> Post:
    """A fresh `scheduled` post with one pending delivery per target; `content`, when given, is its
    caption, media, buttons and layout (instead of `main_caption` and `images`)."""
    if content is not None:
        main_caption, images = content.caption, content.images
    if not targets:
        raise ValueError("a post needs at least one target")
    images = list(images or [])
    if len(images) > MAX_IMAGES:
        raise ValueError(f"a post holds at most {MAX_IMAGES} images")
    return Post(
        post_id=new_id(),
        user_id=user_id,
        account_id=account.account_id,
        account_name=account.name,
        targets=list(targets),
        main_caption=main_caption,
        scheduled_time=to_millis(scheduled_time),
        images=images,
        poster_name=poster_name,
        deliveries={target.target_id: Delivery(target_id=target.target_id) for target in targets},
        caption_entities=list(content.caption_entities) if content else [],
        buttons=[list(row) for row in content.buttons] if content else [],
        link_preview=content.link_preview if content else LinkPreview(),
        caption_above=content.caption_above if content else False,
        options=options or DeliveryOptions(),
    )


def _content_of(source: Post | Poster) -> Content:
    return Content(
        caption=source.main_caption,
        caption_entities=source.caption_entities,
        images=source.images,
        buttons=source.buttons,
        link_preview=source.link_preview,
        caption_above=source.caption_above,
    )


def derive_status(deliveries: dict[str, Delivery]) -> PostStatus | None:
    """The post's final status once every delivery is final, else None."""
    if not deliveries or not all(d.status.is_final for d in deliveries.values()):
        return None
    sent = sum(1 for d in deliveries.values() if d.status is DeliveryStatus.SENT)
    if sent == len(deliveries):
        return PostStatus.PUBLISHED
    if sent == 0:
        return PostStatus.FAILED
    return PostStatus.PARTIAL


def summarize(deliveries: dict[str, Delivery]) -> dict[str, Any]:
    """The seed's `result` object: counts per outcome and each failure's reason."""
    counts: dict[str, int] = {}
    errors: dict[str, str] = {}
    for delivery in deliveries.values():
        counts[delivery.status.value] = counts.get(delivery.status.value, 0) + 1
        if delivery.status is not DeliveryStatus.SENT and delivery.error_message:
            errors[delivery.target_id] = delivery.error_message
    return {"total": len(deliveries), "counts": counts, "errors": errors}


@dataclass(frozen=True)
class Occurrence:
    """What makes a post one occurrence of a recurring series: the series, the occurrence's
    number in it (from 0; the post's id is derived from both, see storage/series.py), and the
    earlier occurrences missed while the bot was offline that this one tells the owner of."""

    series_id: str
    number: int
    missed_before: int = 0
    missed_since: datetime | None = None


class FollowUpKind(StrEnum):
    """What is done to a published delivery at its time."""

    UNPIN = "unpin"
    DELETE = "delete"


class FollowUpStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    # Its time passed more than MAX_LATENESS ago while no worker ran: not done (as a missed post).
    MISSED = "missed"


@dataclass
class FollowUp:
    """An action due on one delivery of a published post at a time: unpin it or delete it. Kept
    in the database and claimed like a post, so that it runs once, whatever restarts or runs
    beside it."""

    action_id: str
    post_id: str
    user_id: int
    target_id: str
    # What people call the target, and the chat (its address) with the delivery's messages.
    target_name: str
    chat_id: str
    message_ids: list[str]
    kind: FollowUpKind
    due_at: datetime
    status: FollowUpStatus = FollowUpStatus.PENDING
    # While a worker runs it: its claim token and lease (as a post's `Claim`).
    claim: Claim | None = None
    attempts: int = 0
    done_at: datetime | None = None
    error_message: str | None = None
    # A failed or missed action's owner is told once: the report is due from `report_due_at`;
    # while a worker sends it, `report_holder` is its claim token and `report_due_at` its lease.
    report_due_at: datetime | None = None
    report_holder: str | None = None
    notified_at: datetime | None = None


def follow_up_id(post_id: str, target_id: str, kind: FollowUpKind) -> str:
    """The one id an action of this kind on this delivery has: made twice, it is stored once."""
    return f"{post_id}:{target_id}:{kind.value}"


def follow_ups_for(post: Post, target: Target, delivery: Delivery, published_at: datetime) -> list[FollowUp]:
    """The actions due after `delivery` went out (only where the platform can do them: Telegram;
    an unpin only if it was pinned, and before it is deleted)."""
    options = post.options
    if target.platform is not Platform.TELEGRAM or delivery.status is not DeliveryStatus.SENT:
        return []
    message_ids = list(delivery.message_ids) or ([delivery.message_id] if delivery.message_id else [])
    if not message_ids:
        return []
    planned: list[tuple[FollowUpKind, int]] = []
    if (
        delivery.pinned
        and options.unpin_after is not None
        and (options.delete_after is None or options.unpin_after < options.delete_after)
    ):
        planned.append((FollowUpKind.UNPIN, options.unpin_after))
    if options.delete_after is not None:
        planned.append((FollowUpKind.DELETE, options.delete_after))
    return [
        FollowUp(
            action_id=follow_up_id(post.post_id, target.target_id, kind),
            post_id=post.post_id,
            user_id=post.user_id,
            target_id=target.target_id,
            target_name=target.name,
            chat_id=target.address,
            message_ids=message_ids,
            kind=kind,
            due_at=to_millis(published_at + timedelta(seconds=delay)),
        )
        for kind, delay in planned
    ]


def settled_follow_up(action: FollowUp, status: FollowUpStatus, now: datetime, error: str | None = None) -> FollowUp:
    """What running an action came to: done, or failed or missed (then its owner's report is due now)."""
    return replace(
        action,
        status=status,
        claim=None,
        done_at=now if status is FollowUpStatus.DONE else None,
        error_message=error,
        report_due_at=None if status is FollowUpStatus.DONE else now,
        report_holder=None,
    )
