"""The owner's report when a post finishes: the summary, each failure's reason, links, buttons."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from handlers import keyboards, texts
from storage.models import DeliveryStatus, Post, PostStatus


def report(post: Post) -> tuple[str, InlineKeyboardMarkup]:
    """The message (HTML) and buttons telling the owner how their post went."""
    deliveries = [post.deliveries[target_id] for target_id in post.group_ids if target_id in post.deliveries]
    sent = [d for d in deliveries if d.status is DeliveryStatus.SENT]
    names = dict(zip(post.group_ids, post.groups, strict=False))
    lines = [texts.report_headline(post.short_id, post.status.value, len(sent), len(deliveries))]
    for delivery in deliveries:
        if delivery.status is not DeliveryStatus.SENT:
            badge = texts.DELIVERY_BADGES.get(delivery.status.value, "")
            reason = delivery.error_message or delivery.status.value
            lines.append(f"{badge} " + texts.report_failure(names.get(delivery.target_id, delivery.target_id), reason))
    links = [
        texts.report_link(names.get(d.target_id, d.target_id), d.url) for d in sent if d.url
    ]
    if links:
        lines.append("")
        lines.extend(links)
    if any(d.status is DeliveryStatus.UNCONFIRMED for d in deliveries):
        lines.append(texts.report_unconfirmed_hint())
    can_retry = post.status in (PostStatus.PARTIAL, PostStatus.FAILED)
    return "\n".join(lines), keyboards.report_keyboard(post.post_id, can_retry)
