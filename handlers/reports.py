"""The owner's reports: how a finished post went (each failure's reason, links, buttons), that an
outage delays a post, and several of these in one message when posts end together — built here,
sent by the scheduler's Reporter through `send_report`, which bot.py hands it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import ExtBot

import i18n
from handlers import keyboards, texts
from handlers.language import language_for
from handlers.series import paused_notices
from publishers.facebook import TOKEN_CODES
from publishers.rate_limit import retry_after_seconds
from publishers.telegram_layout import TEXT_LIMIT, utf16_len
from scheduler.reporting import ReportDelayed, ReportRefused
from services import Services
from storage.models import Delivery, DeliveryStatus, Platform, Post, PostStatus

Report = tuple[str, InlineKeyboardMarkup]
# Facebook's codes for a token it no longer accepts, as a delivery keeps them.
_REFUSED_CODES = frozenset(str(code) for code in TOKEN_CODES)


def _clock(moment: datetime, zone: str) -> str:
    return i18n.clock(moment.astimezone(ZoneInfo(zone)))


def _day_and_clock(moment: datetime, zone: str) -> str:
    return i18n.day_time(moment.astimezone(ZoneInfo(zone)))


def _reason(delivery: Delivery, zone: str) -> str:
    """Why a delivery did not go out; for one retried until it could no longer matter, since when."""
    # Stored in English (the publisher's words); shown in the reader's language.
    reason = i18n.stored(delivery.error_message) if delivery.error_message else delivery.status.value
    if delivery.retry_since is not None and delivery.status is DeliveryStatus.FAILED:
        since, until = _clock(delivery.retry_since, zone), _clock(delivery.updated_at, zone)
        reason = texts.report_tried_between(reason, since, until)
    return reason


def _deliveries(post: Post) -> list[Delivery]:
    """The post's deliveries, in the order of its targets."""
    return [post.deliveries[t.target_id] for t in post.targets if t.target_id in post.deliveries]


def shown_status(post: Post) -> str:
    """The post's status as people are told it: "unconfirmed" for a failed post whose every
    target may have the post (no answer came back from any), else the post's status."""
    outcomes = {d.status for d in _deliveries(post)}
    if post.status is PostStatus.FAILED and outcomes == {DeliveryStatus.UNCONFIRMED}:
        return "unconfirmed"
    return post.status.value


def refused_accounts(post: Post) -> list[tuple[str, str]]:
    """(account id, name of its first target here) of each account whose credential the platform
    refused when this post was sent: what a Reconnect button fixes."""
    found: dict[str, str] = {}
    for target in post.targets:
        delivery = post.deliveries.get(target.target_id)
        if delivery is None or delivery.status is not DeliveryStatus.FAILED:
            continue
        refused = target.platform is Platform.FACEBOOK_PAGE and delivery.error_code in _REFUSED_CODES
        if refused:
            found.setdefault(target.account_id or post.account_id, target.name)
    return list(found.items())


def _section(post: Post, zone: str) -> list[str]:
    """The lines telling how one finished post went."""
    deliveries = _deliveries(post)
    sent = [d for d in deliveries if d.status is DeliveryStatus.SENT]
    lines = [texts.report_headline(post.short_id, shown_status(post), len(sent), len(deliveries))]
    for delivery in deliveries:
        if delivery.status is not DeliveryStatus.SENT:
            badge = texts.DELIVERY_BADGES.get(delivery.status.value, "")
            name = post.target_name(delivery.target_id)
            lines.append(f"{badge} " + texts.report_failure(name, _reason(delivery, zone)))
    for delivery in sent:
        if delivery.error_message:
            # Sent, with something the owner should hear (not pinned, part of an album missing…).
            note = i18n.stored(delivery.error_message)
            lines.append(texts.report_note(post.target_name(delivery.target_id), note))
    links = [texts.report_link(post.target_name(d.target_id), d.url) for d in sent if d.url]
    if links:
        lines.append("")
        lines.extend(links)
    unconfirmed = [post.target_name(d.target_id) for d in deliveries if d.status is DeliveryStatus.UNCONFIRMED]
    if unconfirmed:
        lines.append(texts.report_unconfirmed_hint(unconfirmed))
    return lines


def _delay_section(post: Post, zone: str, deadline: datetime) -> list[str]:
    """The lines telling that an outage delays a post still being published."""
    waiting = [d for d in post.deliveries.values() if d.status is DeliveryStatus.PENDING and d.retry_since]
    since = min((d.retry_since for d in waiting if d.retry_since), default=post.scheduled_time)
    lines = [texts.delay_headline(post.short_id, len(waiting), len(post.targets), _clock(since, zone))]
    for delivery in waiting:
        name = post.target_name(delivery.target_id)
        why = i18n.stored(delivery.error_message) if delivery.error_message else i18n._("waiting")
        lines.append(texts.report_failure(name, why))
    lines.append(texts.delay_until(_day_and_clock(deadline, zone), zone))
    return lines


def _can_retry(post: Post) -> bool:
    return post.status in (PostStatus.PARTIAL, PostStatus.FAILED)


def report(post: Post, zone: str = "UTC") -> Report:
    """The message (HTML) and buttons telling the owner how their post went."""
    markup = keyboards.report_keyboard(post.post_id, _can_retry(post), reconnect=refused_accounts(post))
    return _fitted(_section(post, zone)), markup


def reports(posts: list[Post], zone: str, deadline_of: dict[str, datetime]) -> Report:
    """One message about several posts of one owner (finished, or delayed by an outage), with a
    row of buttons for each; a single finished post reads exactly as `report`."""
    if len(posts) == 1 and posts[0].status.is_final:
        return report(posts[0], zone)
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    for post in posts:
        if lines:
            lines.append("")
        if post.status.is_final:
            lines.extend(_section(post, zone))
        else:
            lines.extend(_delay_section(post, zone, deadline_of[post.post_id]))
        buttons = keyboards.report_keyboard(
            post.post_id, _can_retry(post), label=post.short_id, reconnect=refused_accounts(post)
        )
        rows.extend(list(row) for row in buttons.inline_keyboard)
    return _fitted(lines), InlineKeyboardMarkup(rows)


async def send_report(bot: ExtBot[Any], services: Services, owner: int, posts: list[Post]) -> None:
    """Tells an owner, in their chat with the bot, how these posts went (or that they are
    delayed), in one message. Raises ReportRefused when the chat is gone for good (the bot
    blocked), ReportDelayed when Telegram asks to wait; any other error is transient."""
    user = await services.store.get_user(owner)
    zone = user.timezone if user and user.timezone else services.settings.default_timezone
    lateness = timedelta(seconds=services.settings.max_lateness)
    # Written in the owner's language (their /language choice, else their app's as last seen).
    with i18n.speaking(language_for(user)):
        text, markup = reports(posts, zone, {post.post_id: post.scheduled_time + lateness for post in posts})
        # A series that paused itself because of one of these posts says so here, once, with Resume.
        paused_lines, resume_rows = await paused_notices(services.store, posts)
        if paused_lines:
            text = _fitted([text, "", *paused_lines])
            markup = InlineKeyboardMarkup([*markup.inline_keyboard, *resume_rows])
    try:
        await bot.send_message(
            owner,
            text,
            parse_mode="HTML",
            reply_markup=markup,
            disable_web_page_preview=True,
            # The limiter waits out 429s itself; past this many, it is the reporter's to retry.
            rate_limit_args=1,
        )
    except RetryAfter as error:
        raise ReportDelayed(retry_after_seconds(error)) from error
    except (Forbidden, BadRequest) as error:
        raise ReportRefused(error.message) from error


def _fitted(lines: list[str]) -> str:
    """The lines joined, cut (at a line) to fit one Telegram message."""
    text = "\n".join(lines)
    if utf16_len(text) <= TEXT_LIMIT:
        return text
    kept: list[str] = []
    budget = TEXT_LIMIT - 200
    for line in lines:
        budget -= utf16_len(line) + 1
        if budget < 0:
            break
        kept.append(line)
    kept.append(texts.report_cut(len(lines) - len(kept)))
    return "\n".join(kept)
