"""Models to plain documents and back, shared by both stores.

Times pass through `TimeCodec`: MongoDB keeps BSON dates, SQLite keeps sortable ISO text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import Any

from storage.models import (
    Button,
    Claim,
    Delivery,
    DeliveryOptions,
    DeliveryStatus,
    ErrorKind,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Image,
    LinkPreview,
    MediaKind,
    Occurrence,
    Post,
    Poster,
    PostStatus,
    Target,
    target_platform,
)
from storage.queue import Slot


@dataclass(frozen=True)
class TimeCodec:
    encode: Callable[[datetime], Any]
    decode: Callable[[Any], datetime]


def iso_text(moment: datetime) -> str:
    """UTC text that sorts like time: `2026-12-01T17:30:00.000Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def from_iso_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _as_utc(moment: datetime) -> datetime:
    # pymongo hands back aware datetimes with tz_aware=True; older documents may be naive UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


ISO_TIMES = TimeCodec(encode=iso_text, decode=from_iso_text)
BSON_TIMES = TimeCodec(encode=lambda moment: moment.astimezone(UTC), decode=_as_utc)


def target_to_doc(target: Target) -> dict[str, Any]:
    return {
        "target_id": target.target_id,
        "name": target.name,
        "address": target.address,
        "platform": target.platform.value,
        "kind": target.kind,
        "url": target.url,
        "account_id": target.account_id,
        # Only a forum topic's target carries one: every other target's document stays as it was.
        **({"thread_id": target.thread_id} if target.thread_id is not None else {}),
    }


def target_from_doc(doc: dict[str, Any]) -> Target:
    """The target; one stored before targets named their platform gets it from its `kind`."""
    platform, kind = target_platform(doc)
    return Target(
        target_id=doc["target_id"],
        name=doc["name"],
        address=doc["address"],
        kind=kind,
        url=doc.get("url"),
        account_id=doc.get("account_id", ""),
        platform=platform,
        thread_id=doc.get("thread_id"),
    )


def image_to_doc(image: Image) -> dict[str, Any]:
    return {
        "name": image.name,
        "caption": image.caption,
        "blob_id": image.blob_id,
        "size": image.size,
        "mime_type": image.mime_type,
        "telegram_file_id": image.telegram_file_id,
        "kind": image.kind.value,
        "spoiler": image.spoiler,
        "caption_entities": [dict(entity) for entity in image.caption_entities],
    }


def image_from_doc(doc: dict[str, Any]) -> Image:
    """The media item; one stored before media had kinds is a photo."""
    return Image(
        name=doc["name"],
        caption=doc.get("caption", ""),
        blob_id=doc["blob_id"],
        size=doc.get("size", 0),
        mime_type=doc.get("mime_type", "image/jpeg"),
        telegram_file_id=doc.get("telegram_file_id"),
        kind=MediaKind(doc.get("kind") or MediaKind.PHOTO.value),
        spoiler=bool(doc.get("spoiler", False)),
        caption_entities=list(doc.get("caption_entities") or []),
    )


def buttons_to_doc(buttons: list[list[Button]]) -> list[list[dict[str, Any]]]:
    """Rows of buttons as documents: each `{"label", "url"}` or `{"label", "copy_text"}`."""
    return [
        [
            {"label": button.label, **({"url": button.url} if button.url else {"copy_text": button.copy_text or ""})}
            for button in row
        ]
        for row in buttons
    ]


def buttons_from_doc(doc: Any) -> list[list[Button]]:
    return [[Button(str(item["label"]), item.get("url"), item.get("copy_text")) for item in row] for row in (doc or [])]


def link_preview_to_doc(preview: LinkPreview) -> dict[str, bool]:
    return {"show": preview.show, "above_text": preview.above_text, "large_media": preview.large_media}


def link_preview_from_doc(doc: Any) -> LinkPreview:
    """The link preview choice; none stored (a post from before the choice existed) is Telegram's default."""
    if not isinstance(doc, dict):
        return LinkPreview()
    return LinkPreview(
        show=bool(doc.get("show", True)),
        above_text=bool(doc.get("above_text", False)),
        large_media=bool(doc.get("large_media", False)),
    )


def content_to_doc(source: Post | Poster) -> dict[str, Any]:
    """What a post or poster shows beyond the seed's `main_caption` and `images`."""
    return {
        "caption_entities": [dict(entity) for entity in source.caption_entities],
        "buttons": buttons_to_doc(source.buttons),
        "link_preview": link_preview_to_doc(source.link_preview),
        "caption_above": source.caption_above,
        "options": options_to_doc(source.options),
    }


def content_from_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The fields `content_to_doc` wrote, as keyword arguments of Post or Poster (defaults for a
    document written before they existed)."""
    return {
        "caption_entities": list(doc.get("caption_entities") or []),
        "buttons": buttons_from_doc(doc.get("buttons")),
        "link_preview": link_preview_from_doc(doc.get("link_preview")),
        "caption_above": bool(doc.get("caption_above", False)),
        "options": options_from_doc(doc.get("options")),
    }


def delivery_to_doc(delivery: Delivery, times: TimeCodec) -> dict[str, Any]:
    return {
        "target_id": delivery.target_id,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "message_id": delivery.message_id,
        "message_ids": list(delivery.message_ids),
        "url": delivery.url,
        "error_kind": delivery.error_kind.value if delivery.error_kind else None,
        "error_code": delivery.error_code,
        "error_message": delivery.error_message,
        "updated_at": times.encode(delivery.updated_at),
        "retry_since": times.encode(delivery.retry_since) if delivery.retry_since else None,
        "retries": delivery.retries,
        "deleted_at": times.encode(delivery.deleted_at) if delivery.deleted_at else None,
        "pinned": delivery.pinned,
    }


def delivery_from_doc(doc: dict[str, Any], times: TimeCodec) -> Delivery:
    return Delivery(
        target_id=doc["target_id"],
        status=DeliveryStatus(doc["status"]),
        attempts=doc.get("attempts", 0),
        message_id=doc.get("message_id"),
        message_ids=list(doc.get("message_ids") or ([doc["message_id"]] if doc.get("message_id") else [])),
        url=doc.get("url"),
        error_kind=ErrorKind(doc["error_kind"]) if doc.get("error_kind") else None,
        error_code=doc.get("error_code"),
        error_message=doc.get("error_message"),
        updated_at=times.decode(doc["updated_at"]),
        retry_since=times.decode(doc["retry_since"]) if doc.get("retry_since") else None,
        retries=doc.get("retries", 0),
        deleted_at=times.decode(doc["deleted_at"]) if doc.get("deleted_at") else None,
        pinned=bool(doc.get("pinned", False)),
    )


def post_to_doc(post: Post, times: TimeCodec) -> dict[str, Any]:
    """The post as a document with the seed's field names, plus deliveries, claim and attempts."""
    return {
        "user_id": post.user_id,
        "account_id": post.account_id,
        "account_name": post.account_name,
        # The seed's names for the targets' ids and names, kept for whoever reads the documents.
        "group_ids": [target.target_id for target in post.targets],
        "groups": [target.name for target in post.targets],
        "main_caption": post.main_caption,
        "scheduled_time": times.encode(post.scheduled_time),
        "poster_name": post.poster_name,
        "images": [image_to_doc(image) for image in post.images],
        "targets": [target_to_doc(target) for target in post.targets],
        "status": post.status.value,
        "result": post.result,
        "created_at": times.encode(post.created_at),
        "published_at": times.encode(post.published_at) if post.published_at else None,
        "notified_at": times.encode(post.notified_at) if post.notified_at else None,
        "deliveries": {target_id: delivery_to_doc(delivery, times) for target_id, delivery in post.deliveries.items()},
        "claim": _claim_to_doc(post, times),
        "attempts": post.attempts,
        "report_due_at": times.encode(post.report_due_at) if post.report_due_at else None,
        "report_holder": post.report_holder,
        "delay_noticed_at": times.encode(post.delay_noticed_at) if post.delay_noticed_at else None,
        "occurrence": _occurrence_to_doc(post.occurrence, times),
        "queued": post.queued,
        **content_to_doc(post),
        **revision_to_doc(post, times),
    }


def _claim_to_doc(post: Post, times: TimeCodec) -> dict[str, Any] | None:
    """The claim; a post waiting to retry has a claim with no worker that ends at the retry time,
    so that the claims that take over expired leases take it then, with no query of its own."""
    if post.claim:
        return {
            "worker_id": post.claim.worker_id,
            "lease_until": times.encode(post.claim.lease_until),
            "claimed_at": times.encode(post.claim.claimed_at),
        }
    if post.retry_at:
        return {"worker_id": None, "lease_until": times.encode(post.retry_at), "claimed_at": None}
    return None


# Telegram ids may exceed 32 bits; some MongoDB servers (CongoDB among them) hand 64-bit
# integers back as doubles, so ids are made ints again on the way out.
def post_from_doc(post_id: str, doc: dict[str, Any], times: TimeCodec) -> Post:
    claim = doc.get("claim")
    return Post(
        post_id=post_id,
        user_id=int(doc["user_id"]),
        account_id=doc["account_id"],
        account_name=doc["account_name"],
        targets=_targets(doc),
        main_caption=doc["main_caption"],
        scheduled_time=times.decode(doc["scheduled_time"]),
        images=[image_from_doc(image) for image in doc.get("images", [])],
        poster_name=doc.get("poster_name"),
        status=PostStatus(doc["status"]),
        result=doc.get("result"),
        created_at=times.decode(doc["created_at"]),
        published_at=times.decode(doc["published_at"]) if doc.get("published_at") else None,
        notified_at=times.decode(doc["notified_at"]) if doc.get("notified_at") else None,
        deliveries={
            target_id: delivery_from_doc(delivery, times)
            for target_id, delivery in (doc.get("deliveries") or {}).items()
        },
        claim=(
            Claim(
                worker_id=claim["worker_id"],
                lease_until=times.decode(claim["lease_until"]),
                claimed_at=times.decode(claim["claimed_at"]),
            )
            if claim and claim.get("worker_id")
            else None
        ),
        attempts=doc.get("attempts", 0),
        retry_at=(
            times.decode(claim["lease_until"])
            if claim and not claim.get("worker_id") and claim.get("lease_until")
            else None
        ),
        report_due_at=times.decode(doc["report_due_at"]) if doc.get("report_due_at") else None,
        report_holder=doc.get("report_holder"),
        delay_noticed_at=times.decode(doc["delay_noticed_at"]) if doc.get("delay_noticed_at") else None,
        occurrence=_occurrence_from_doc(doc.get("occurrence"), times),
        queued=bool(doc.get("queued")),
        **content_from_doc(doc),
        **revision_from_doc(doc, times),
    )


def revision_to_doc(post: Post, times: TimeCodec) -> dict[str, Any]:
    """What "Edit everywhere" and "Delete everywhere" keep on a published post."""
    return {
        "revision": post.revision,
        "edited_at": times.encode(post.edited_at) if post.edited_at else None,
        "deleted_at": times.encode(post.deleted_at) if post.deleted_at else None,
    }


def revision_from_doc(doc: dict[str, Any], times: TimeCodec) -> dict[str, Any]:
    """The fields `revision_to_doc` wrote, as keyword arguments of Post (none for an older post)."""
    return {
        "revision": int(doc.get("revision") or 0),
        "edited_at": times.decode(doc["edited_at"]) if doc.get("edited_at") else None,
        "deleted_at": times.decode(doc["deleted_at"]) if doc.get("deleted_at") else None,
    }


def _targets(doc: dict[str, Any]) -> list[Target]:
    """A post's targets; a document of the seed's shape has only `group_ids` and `groups`."""
    if doc.get("targets"):
        return [target_from_doc(target) for target in doc["targets"]]
    names = list(doc.get("groups") or [])
    return [
        Target(target_id, names[number] if number < len(names) else target_id, target_id)
        for number, target_id in enumerate(doc.get("group_ids") or [])
    ]


def poster_to_doc(poster: Poster, times: TimeCodec) -> dict[str, Any]:
    return {
        "user_id": poster.user_id,
        "name": poster.name,
        "main_caption": poster.main_caption,
        "images": [image_to_doc(image) for image in poster.images],
        "created_at": times.encode(poster.created_at),
        **content_to_doc(poster),
    }


def poster_from_doc(poster_id: str, doc: dict[str, Any], times: TimeCodec) -> Poster:
    return Poster(
        poster_id=poster_id,
        user_id=int(doc["user_id"]),
        name=doc["name"],
        main_caption=doc.get("main_caption", ""),
        images=[image_from_doc(image) for image in doc.get("images", [])],
        created_at=times.decode(doc["created_at"]),
        **content_from_doc(doc),
    )


def owned_targets(targets: list[Target], account_id: str) -> list[Target]:
    """Copies of `targets` that name the account publishing to them."""
    return [replace(target, account_id=account_id) for target in targets]


def _occurrence_to_doc(occurrence: Occurrence | None, times: TimeCodec) -> dict[str, Any] | None:
    if occurrence is None:
        return None
    return {
        "series_id": occurrence.series_id,
        "number": occurrence.number,
        "missed_before": occurrence.missed_before,
        "missed_since": times.encode(occurrence.missed_since) if occurrence.missed_since else None,
    }


def _occurrence_from_doc(doc: dict[str, Any] | None, times: TimeCodec) -> Occurrence | None:
    """The post's place in its series; None for a post of its own (and every post stored before series)."""
    if not doc:
        return None
    return Occurrence(
        series_id=doc["series_id"],
        number=int(doc["number"]),
        missed_before=int(doc.get("missed_before") or 0),
        missed_since=times.decode(doc["missed_since"]) if doc.get("missed_since") else None,
    )


def slot_to_doc(slot: Slot) -> dict[str, Any]:
    """A posting-schedule slot: its weekday, local time (`HH:MM`) and target set."""
    return {"weekday": slot.weekday, "at": f"{slot.at:%H:%M}", "targets": list(slot.targets)}


def slot_from_doc(doc: dict[str, Any]) -> Slot:
    hour, minute = (int(part) for part in str(doc["at"]).split(":"))
    return Slot(int(doc["weekday"]), time(hour, minute), tuple(doc.get("targets") or ()))


def options_to_doc(options: DeliveryOptions) -> dict[str, Any]:
    return {
        "silent": options.silent,
        "protect": options.protect,
        "pin": options.pin,
        "unpin_after": options.unpin_after,
        "delete_after": options.delete_after,
    }


def options_from_doc(doc: Any) -> DeliveryOptions:
    """The delivery options; none stored (a post from before they existed) are the defaults."""
    if not isinstance(doc, dict):
        return DeliveryOptions()

    def seconds(value: Any) -> int | None:
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return DeliveryOptions(
        silent=bool(doc.get("silent", False)),
        protect=bool(doc.get("protect", False)),
        pin=bool(doc.get("pin", False)),
        unpin_after=seconds(doc.get("unpin_after")),
        delete_after=seconds(doc.get("delete_after")),
    )


def follow_up_to_doc(action: FollowUp, times: TimeCodec) -> dict[str, Any]:
    """An action as a document (the claim flattened: `holder`, `lease_until`, `claimed_at`)."""

    def moment(value: datetime | None) -> Any:
        return times.encode(value) if value is not None else None

    return {
        "action_id": action.action_id,
        "post_id": action.post_id,
        "user_id": action.user_id,
        "target_id": action.target_id,
        "target_name": action.target_name,
        "chat_id": action.chat_id,
        "message_ids": list(action.message_ids),
        "kind": action.kind.value,
        "due_at": times.encode(action.due_at),
        "status": action.status.value,
        "holder": action.claim.worker_id if action.claim else None,
        "lease_until": moment(action.claim.lease_until) if action.claim else None,
        "claimed_at": moment(action.claim.claimed_at) if action.claim else None,
        "attempts": action.attempts,
        "done_at": moment(action.done_at),
        "error_message": action.error_message,
        "report_due_at": moment(action.report_due_at),
        "report_holder": action.report_holder,
        "notified_at": moment(action.notified_at),
    }


def follow_up_from_doc(doc: dict[str, Any], times: TimeCodec) -> FollowUp:
    def moment(value: Any) -> datetime | None:
        return times.decode(value) if value else None

    holder, lease_until, claimed_at = doc.get("holder"), moment(doc.get("lease_until")), moment(doc.get("claimed_at"))
    return FollowUp(
        action_id=doc["action_id"],
        post_id=doc["post_id"],
        user_id=int(doc["user_id"]),
        target_id=doc["target_id"],
        target_name=doc.get("target_name") or doc["target_id"],
        chat_id=str(doc["chat_id"]),
        message_ids=[str(message_id) for message_id in doc.get("message_ids") or []],
        kind=FollowUpKind(doc["kind"]),
        due_at=times.decode(doc["due_at"]),
        status=FollowUpStatus(doc["status"]),
        claim=(
            Claim(worker_id=holder, lease_until=lease_until, claimed_at=claimed_at or lease_until)
            if holder and lease_until
            else None
        ),
        attempts=int(doc.get("attempts") or 0),
        done_at=moment(doc.get("done_at")),
        error_message=doc.get("error_message"),
        report_due_at=moment(doc.get("report_due_at")),
        report_holder=doc.get("report_holder"),
        notified_at=moment(doc.get("notified_at")),
    )
