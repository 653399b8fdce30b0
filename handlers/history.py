"""Scheduled & history (/scheduled): the user's posts, a page at a time, Upcoming or History.

Paging and switching views edit the list message in place; each post's button opens its Details
(handlers/posts.py), whose Back button returns to the same page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

import i18n
from handlers import keyboards, texts
from handlers.common import answer, store_of, user_zone
from handlers.delivery_options import history_marks
from handlers.keyboards import HIST, POSTS_PER_PAGE, parse_origin
from handlers.reports import shown_status
from handlers.screen import pressed, show, user_id
from handlers.series import series_section
from handlers.when import local
from storage.models import FollowUp, Post, PostView, utc_now

LINE_CAPTION = 40
BUTTON_CAPTION = 28


def short_time(when: datetime, zone: str, now: datetime) -> str:
    """`Tue 1 Dec 18:30` in the user's zone, with the year when it is not this year's."""
    moment = local(when, zone)
    if moment.year == local(now, zone).year:
        return i18n.day_time(moment)
    return i18n.day_year_time(moment)


def history_text(
    posts: list[Post],
    view: PostView,
    page: int,
    zone: str,
    now: datetime,
    follow_ups: Mapping[str, Sequence[FollowUp]] | None = None,
) -> str:
    """The list message: a header, then one line per post (with what becomes of it after
    publishing, from its options and `follow_ups`, by post id)."""
    header = texts.history_header(view.value, page, zone)
    if not posts:
        empty = texts.NO_UPCOMING if view is PostView.UPCOMING else texts.NO_HISTORY
        return f"{header}\n\n{empty}"
    lines = [
        texts.history_line(
            # An occurrence of a series is a post like any other, marked as one.
            texts.POST_BADGES.get(shown_status(post), "") + (" 🔁" if post.occurrence else ""),
            post.short_id,
            short_time(post.scheduled_time, zone, now),
            len(post.targets),
            texts.caption_start(post.main_caption, LINE_CAPTION),
            history_marks(post, (follow_ups or {}).get(post.post_id, ()), lambda when: short_time(when, zone, now)),
        )
        + texts.revised_mark(post.edited_at is not None, post.deleted_at is not None)
        for post in posts
    ]
    return header + "\n\n" + "\n".join(lines)


async def _history_screen(
    context: ContextTypes.DEFAULT_TYPE, user: int, view: PostView, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    store = store_of(context)
    found = await store.list_posts(user, view, page, POSTS_PER_PAGE)
    if not found.posts and page > 0:
        # The page emptied meanwhile (posts cancelled or published): show the first one.
        found = await store.list_posts(user, view, 0, POSTS_PER_PAGE)
    zone = await user_zone(context, user)
    follow_ups = {
        post.post_id: await store.follow_ups_of(post.post_id) for post in found.posts if not post.options.is_default
    }
    text = history_text(found.posts, view, found.page, zone, utc_now(), follow_ups)
    buttons = [
        (
            texts.history_button(
                texts.POST_BADGES.get(post.status.value, ""),
                post.short_id,
                texts.caption_start(post.main_caption, BUTTON_CAPTION),
            ),
            post.post_id,
        )
        for post in found.posts
    ]
    markup = keyboards.history_keyboard(buttons, view.value, found.page, found.has_next)
    if view is PostView.UPCOMING and found.page == 0:
        # Each series once, above the posts: its rule and next time (handlers/series.py).
        lines, rows = await series_section(store, user, zone)
        if lines:
            header, _, rest = text.partition("\n\n")
            rest = texts.NO_SINGLE_POSTS if rest == texts.NO_UPCOMING else rest
            text = header + "\n\n" + "\n".join(lines) + "\n\n" + rest
            kept = [list(row) for row in markup.inline_keyboard]
            markup = InlineKeyboardMarkup([kept[0], *rows, *kept[1:]])
    return text, markup


async def show_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The user's upcoming posts, soonest first, with a switch to the history."""
    await answer(update)
    text, markup = await _history_screen(context, user_id(update), PostView.UPCOMING, 0)
    await show(update, text, markup, in_place=False)


async def turn_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Another page or view of the list, in the same message (the page shown already, when the
    middle button is pressed, is not an error)."""
    wanted = parse_origin(pressed(update).argument)
    if wanted is None:
        await answer(update, texts.STALE_BUTTON, alert=True)
        return
    await answer(update)
    view, page = wanted
    text, markup = await _history_screen(context, user_id(update), PostView(view), page)
    await show(update, text, markup)


def history_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CommandHandler("scheduled", show_history),
        CallbackQueryHandler(show_history, pattern=r"^menu:scheduled$"),
        CallbackQueryHandler(turn_history, pattern=rf"^{HIST}:list:"),
    ]
