"""Delivery options in the chat: the presets of what happens after publishing, the preview's lines
on what each chat or platform cannot do of the options (asked of Telegram before scheduling), the
follow-ups' state in a post's Details, and the owner's report of the follow-ups that failed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import ContextTypes, ExtBot

from handlers import texts
from handlers.common import TELEGRAM_ACCOUNT_ID, telegram_publisher
from handlers.when import format_time
from publishers.base import lacking_options
from publishers.telegram import retry_after_seconds
from scheduler.reporting import ReportDelayed, ReportRefused
from services import Services
from storage.models import DeliveryOptions, FollowUp, FollowUpKind, FollowUpStatus, Post, Target

log = logging.getLogger(__name__)

HOUR = 3600
# What can be chosen to happen after publishing: code → (pin, unpin after, delete after), in the
# order offered. The first is the "1/24" ad slot.
PRESETS: dict[str, tuple[bool, int | None, int | None]] = {
    "p1d24": (True, HOUR, 24 * HOUR),
    "p24": (True, 24 * HOUR, None),
    "p1": (True, HOUR, None),
    "pin": (True, None, None),
    "d24": (False, None, 24 * HOUR),
    "d72": (False, None, 72 * HOUR),
    "d7d": (False, None, 7 * 24 * HOUR),
    "none": (False, None, None),
}
# Follow-up lines a post's Details show at most.
FOLLOW_UP_LINES = 8


def with_preset(options: DeliveryOptions, code: str) -> DeliveryOptions | None:
    """`options` with what happens after publishing as the preset `code` says (silent and protected
    kept); None if there is no such preset (a forged or stale button)."""
    preset = PRESETS.get(code)
    if preset is None:
        return None
    pin, unpin_after, delete_after = preset
    return replace(options, pin=pin, unpin_after=unpin_after, delete_after=delete_after)


def preset_code(options: DeliveryOptions) -> str | None:
    """The preset the options are, if they are one."""
    chosen = (options.pin, options.unpin_after, options.delete_after)
    return next((code for code, preset in PRESETS.items() if preset == chosen), None)


def preset_choices() -> list[tuple[str, str]]:
    """(label, code) of each preset, as the presets keyboard shows them."""
    return [
        (texts.after_publishing(*preset) if code != "none" else texts.NOTHING_AFTER, code)
        for code, preset in PRESETS.items()
    ]


def after_summary(options: DeliveryOptions) -> str:
    return texts.after_publishing(options.pin, options.unpin_after, options.delete_after)


async def preview_lines(
    context: ContextTypes.DEFAULT_TYPE, options: DeliveryOptions, targets: Sequence[Target]
) -> list[str]:
    """The preview's lines on the delivery options: what is chosen, what a platform does not do
    of it, and what cannot work in a chat of the bot's (its rights, Telegram's 48 hours) — asked
    of Telegram now, before anything is scheduled."""
    if options.is_default:
        return []
    lines = [
        texts.options_summary(options.silent, options.protect, options.pin, options.unpin_after, options.delete_after)
    ]
    for platform in dict.fromkeys(target.platform for target in targets):
        lacks = lacking_options(platform, options)
        if lacks:
            lines.append(texts.option_lacks(texts.PLATFORM_NAMES[platform.value], [lack.value for lack in lacks]))
    publisher = telegram_publisher(context)
    chats = [target for target in targets if target.account_id == TELEGRAM_ACCOUNT_ID]
    # Asked of every chat at once: a post to many chats is previewed as fast as to one.
    found = await asyncio.gather(
        *(publisher.option_problems(int(target.address), target.kind, options) for target in chats)
    )
    for target, problems in zip(chats, found, strict=True):
        lines.extend(texts.option_problem(problem.value, target.name, options.delete_after) for problem in problems)
    return lines


def details_lines(actions: Sequence[FollowUp], zone: str) -> list[str]:
    """What became of a post's follow-ups (pinned until…, deleted at…, couldn't…), for its Details."""
    lines = []
    for action in actions[:FOLLOW_UP_LINES]:
        when = action.done_at if action.status is FollowUpStatus.DONE and action.done_at else action.due_at
        lines.append(
            texts.follow_up_line(
                action.kind.value,
                action.status.value,
                action.target_name,
                format_time(when, zone),
                action.error_message,
            )
        )
    if len(actions) > FOLLOW_UP_LINES:
        lines.append(texts.more_follow_ups(len(actions) - FOLLOW_UP_LINES))
    return lines


async def send_follow_up_report(bot: ExtBot[Any], services: Services, owner: int, actions: list[FollowUp]) -> None:
    """Tells an owner, in one message, which unpins and deletes could not be done and why. Raises
    ReportRefused when the chat is gone for good, ReportDelayed when Telegram asks to wait."""
    lines: list[str] = [texts.FOLLOW_UPS_FAILED_HEADLINE]
    for action in actions:
        kind = FollowUpKind(action.kind).value
        lines.append(texts.follow_up_failed(kind, action.target_name, action.post_id[:6], action.error_message or ""))
    try:
        await bot.send_message(owner, "\n".join(lines), parse_mode="HTML", rate_limit_args=1)
    except RetryAfter as error:
        raise ReportDelayed(retry_after_seconds(error)) from error
    except (Forbidden, BadRequest) as error:
        raise ReportRefused(error.message) from error


def history_marks(post: Post, actions: Sequence[FollowUp], when: Callable[[datetime], str]) -> str:
    """What the list shows of a post's options and follow-ups (`when` writes a time as the list does)."""
    options = post.options
    if options.is_default:
        return ""
    pending = {a.kind for a in actions if a.status is FollowUpStatus.PENDING}
    deletes = [a for a in actions if a.kind is FollowUpKind.DELETE]
    delete_at = None
    if deletes and deletes[0].status is FollowUpStatus.PENDING:
        delete_at = when(deletes[0].due_at)
    elif options.delete_after is not None and not actions:
        delete_at = texts.after_publishing(False, None, options.delete_after).removeprefix("🗑 ")
    return texts.history_after(
        options.silent,
        FollowUpKind.UNPIN in pending,
        options.pin and not actions,
        delete_at,
        bool(deletes) and all(a.status is FollowUpStatus.DONE for a in deletes),
        any(a.status in (FollowUpStatus.FAILED, FollowUpStatus.MISSED) for a in actions),
    )
