"""Actions on one post from any message that shows it: Details, Cancel (with a confirm step),
Reschedule and Edit caption (two small conversations), and Retry failed targets.

A post button's argument is the post id, optionally followed by `/u0`-style origin: pressed on a
Details screen opened from the list, the screen is edited in place and Back returns to that page;
pressed on a standalone message (the Scheduled confirmation, a publication report), Details and the
Retry question come as new messages, while Cancel asks in that message (Keep it puts the message back)
and an outcome (cancelled, retrying, refused) takes that message's place."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes, ConversationHandler, MessageHandler, filters

import i18n
from handlers import keyboards, texts
from handlers.common import answer, reply, services, store_of, user_zone
from handlers.content import typed_text
from handlers.date_picker import calendar_pressed
from handlers.delivery_options import details_lines
from handlers.keyboards import POST, parse_post_ref, post_ref
from handlers.questions import (
    SHIFTED,
    AnyHandler,
    Question,
    caption_fits,
    pressed_time,
    refuse_time,
    typed_time,
)
from handlers.reports import refused_accounts, shown_status
from handlers.rules import speaks_of_repeating
from handlers.screen import own_post, pressed, show, user_id
from handlers.when import (
    TimeChoice,
    current_time,
    example_time,
    format_relative,
    format_time,
    repeated_note,
    shows_today_button,
)
from i18n import _
from publishers.revision import sent_targets
from publishers.telegram_layout import utf16_len
from services import PostEvent
from storage.base import REVISABLE_STATUSES
from storage.models import DeliveryStatus, FollowUp, Post, PostStatus, PostView, utc_now

log = logging.getLogger(__name__)

ASK_NEW_TIME = "ask_new_time"
ASK_NEW_CAPTION = "ask_new_caption"
# What the two conversations are about, kept in user_data (JSON) so a restart loses nothing.
RESCHEDULING = "rescheduling"
EDITING_CAPTION = "editing_caption"
CAPTION_PREVIEW = 200
# Room (UTF-16 units, as Telegram counts) left in a 4,096-unit message for the target lines,
# after the head and a notice.
DELIVERY_LINES_BUDGET = 3000

State = str | int | None


async def _pressed_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Post | None, str]:
    """(the user's post the pressed button names, or None after a "not yours" alert; its origin or "")."""
    post_id, where = parse_post_ref(pressed(update).argument)
    return await own_post(update, context, post_id), where


def _pressed_ref(update: Update) -> tuple[str, str]:
    """(post id, origin or "") of the pressed post button."""
    return parse_post_ref(pressed(update).argument)


def _default_origin(post: Post) -> str:
    """The list page a post belongs on, for a Details screen opened outside the list."""
    upcoming = post.status in (PostStatus.SCHEDULED, PostStatus.PUBLISHING)
    return keyboards.origin(PostView.UPCOMING.value if upcoming else PostView.HISTORY.value, 0)


def details_text(post: Post, zone: str, follow_ups: Sequence[FollowUp] = ()) -> str:
    """What the user sees of one post: status, times, content, how it is delivered, every target's
    delivery, and what became of its follow-ups (pinned until…, deleted at…)."""
    status = shown_status(post)
    relative = format_relative(post.scheduled_time, current_time()) if post.status is PostStatus.SCHEDULED else None
    finished = format_time(post.published_at, zone) if post.published_at else None
    lines = [texts.details_headline(texts.POST_BADGES.get(status, ""), post.short_id, status)]
    if post.occurrence is not None:
        lines.append(texts.occurrence_hint(post.occurrence.series_id[:6], post.occurrence.number))
    lines.extend(texts.details_times(format_time(post.scheduled_time, zone), relative, finished))
    if post.status is PostStatus.PUBLISHING and post.retry_at is not None:
        lines.append(texts.details_retry(format_time(post.retry_at, zone)))
    lines.extend(
        texts.details_revised(
            format_time(post.edited_at, zone) if post.edited_at else None,
            format_time(post.deleted_at, zone) if post.deleted_at else None,
        )
    )
    lines.extend(
        texts.details_content(
            texts.caption_start(post.main_caption, CAPTION_PREVIEW),
            len(post.images),
            post.poster_name,
            media=texts.other_media([image.kind.value for image in post.images]),
            buttons=sum(len(row) for row in post.buttons),
        )
    )
    options = post.options
    if not options.is_default:
        lines.append(
            texts.options_summary(
                options.silent, options.protect, options.pin, options.unpin_after, options.delete_after
            )
        )
    lines.append("")
    used = 0
    for shown, target in enumerate(post.targets):
        delivery = post.deliveries.get(target.target_id)
        delivery_status = delivery.status.value if delivery else DeliveryStatus.PENDING.value
        if delivery is not None and delivery.deleted_at is not None:
            # Deleted everywhere: nothing of it is there to open any more.
            line = texts.details_delivery("🗑", target.name, texts.DELETED_THERE, None, None)
        else:
            line = texts.details_delivery(
                texts.DELIVERY_BADGES.get(delivery_status, ""),
                target.name,
                delivery_status,
                delivery.url if delivery else None,
                # Stored in English: read in the person's language.
                i18n.stored(delivery.error_message or "") if delivery else None,
            )
        used += utf16_len(line) + 1
        if used > DELIVERY_LINES_BUDGET:
            lines.append(texts.more_targets(len(post.targets) - shown))
            break
        lines.append(line)
    if follow_ups:
        lines.extend(["", *details_lines(follow_ups, zone)])
    return "\n".join(lines)


def scheduled_text(post: Post, zone: str) -> str:
    """The "✅ Scheduled #…" message of a post just scheduled."""
    return texts.scheduled(post.short_id, format_time(post.scheduled_time, zone), len(post.targets))


async def show_post(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    post: Post,
    where: str,
    *,
    in_place: bool,
    notice: str = "",
    question: str = "",
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """The Details screen of a post, with an optional notice above and a question below."""
    zone = await user_zone(context, post.user_id)
    where = where or _default_origin(post)
    text = details_text(post, zone, await store_of(context).follow_ups_of(post.post_id))
    if notice:
        text = f"{notice}\n\n{text}"
    if question:
        text = f"{text}\n\n{question}"
    if markup is None:
        revisable = post.status in REVISABLE_STATUSES and bool(sent_targets(post))
        markup = keyboards.details_keyboard(post.post_id, post.status.value, where, revisable=revisable)
        if post.occurrence is not None:
            # The series it is a time of, one tap away.
            series_row = keyboards.series_button(_("🔁 The series"), post.occurrence.series_id, "show")
            markup = InlineKeyboardMarkup([*markup.inline_keyboard, series_row])
    await show(update, text, markup, in_place=in_place)


# -- Details --------------------------------------------------------------------------------------
async def show_details(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every target of one of the user's posts with what became of it, and what can be done."""
    post, where = await _pressed_post(update, context)
    if post is None:
        return
    await answer(update)
    await show_post(update, context, post, where, in_place=bool(where))


# -- Cancel ---------------------------------------------------------------------------------------
async def ask_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Asks, on the message pressed, to confirm cancelling a post (only the owner's, only while
    scheduled)."""
    post, where = await _pressed_post(update, context)
    if post is None:
        return
    if post.status is not PostStatus.SCHEDULED:
        await _refuse_cancel(update, context, post, where)
        return
    await answer(update)
    question = texts.confirm_cancel(post.short_id)
    markup = keyboards.confirm_cancel_keyboard(post_ref(post.post_id, where))
    if where:
        await show_post(update, context, post, where, in_place=True, question=question, markup=markup)
        return
    # The "✅ Scheduled #…" message: the question goes under what it says, Keep it takes it away.
    await show(update, f"{scheduled_text(post, await user_zone(context, post.user_id))}\n\n{question}", markup)


async def _tell(update: Update, context: ContextTypes.DEFAULT_TYPE, post: Post, where: str, notice: str) -> None:
    """`notice` on the message pressed: above the post on its Details screen, or in place of a
    message of its own (the "Scheduled #…" confirmation, a retry question)."""
    if where:
        await show_post(update, context, post, where, in_place=True, notice=notice)
        return
    await show(update, notice)


async def _refuse_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE, post: Post, where: str) -> None:
    """Says, in an alert and on the message pressed, why the post can no longer be cancelled."""
    refusal = texts.cannot_cancel_now(post.short_id, post.status.value)
    await answer(update, refusal, alert=True)
    await _tell(update, context, post, where, refusal)


async def confirm_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cancels the post for good, if it has not started publishing; its exact-time job goes too."""
    post_id, where = _pressed_ref(update)
    cancelled = await store_of(context).cancel_post(user_id(update), post_id)
    if cancelled is None:
        post = await own_post(update, context, post_id)
        if post is not None:
            await _refuse_cancel(update, context, post, where)
        return
    await answer(update)
    await services(context).post_changed(PostEvent.CANCELLED, cancelled)
    log.info("user %s cancelled post %s", cancelled.user_id, cancelled.post_id)
    await _tell(update, context, cancelled, where, texts.post_cancelled(cancelled.short_id))


async def keep_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leaves the post scheduled and shows the message as it was before the question."""
    post, where = await _pressed_post(update, context)
    if post is None:
        return
    await answer(update, texts.POST_KEPT)
    if where:
        await show_post(update, context, post, where, in_place=True)
        return
    zone = await user_zone(context, post.user_id)
    await show(update, scheduled_text(post, zone), keyboards.scheduled_keyboard(post.post_id))


# -- Retry failed ---------------------------------------------------------------------------------
async def ask_retry(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Asks to confirm sending again to the failed targets: that it may post twice where no answer
    came back, and that an account still refused needs reconnecting first (with Reconnect)."""
    post, where = await _pressed_post(update, context)
    if post is None:
        return
    if post.status not in (PostStatus.FAILED, PostStatus.PARTIAL):
        await answer(update, texts.cannot_retry(post.short_id, post.status.value), alert=True)
        return
    await answer(update)
    retried = [(t, post.deliveries[t.target_id]) for t in post.targets if t.target_id in post.deliveries]
    unconfirmed = [t.name for t, d in retried if d.status is DeliveryStatus.UNCONFIRMED]
    failed = sum(1 for _target, d in retried if d.status in (DeliveryStatus.FAILED, DeliveryStatus.MISSED))
    refused = await _still_refused(context, post)
    question = texts.confirm_retry(post.short_id, failed, unconfirmed, [name for _account, name in refused])
    markup = keyboards.confirm_retry_keyboard(post_ref(post.post_id, where), bool(unconfirmed), refused)
    if where:
        await show_post(update, context, post, where, in_place=True, question=question, markup=markup)
        return
    await reply(update, question, reply_markup=markup)


async def _still_refused(context: ContextTypes.DEFAULT_TYPE, post: Post) -> list[tuple[str, str]]:
    """(account id, target name) of the accounts whose refused credential failed this post and that
    still need reconnecting: a retry now would fail there again."""
    refused = refused_accounts(post)
    if not refused:
        return []
    waiting = {a.account_id for a in await store_of(context).list_accounts(post.user_id) if a.needs_reconnect}
    return [(account_id, name) for account_id, name in refused if account_id in waiting]


async def confirm_retry(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Schedules the post again, now, for its failed and unconfirmed targets only."""
    post_id, where = _pressed_ref(update)
    retried = await store_of(context).retry_failed(user_id(update), post_id, utc_now())
    if retried is None:
        post = await own_post(update, context, post_id)
        if post is not None:
            await answer(update, texts.cannot_retry(post.short_id, post.status.value), alert=True)
        return
    await answer(update)
    await services(context).post_changed(PostEvent.SCHEDULED, retried)
    pending = sum(1 for d in retried.deliveries.values() if d.status is DeliveryStatus.PENDING)
    await _tell(update, context, retried, where, texts.retry_scheduled(retried.short_id, pending))


async def keep_result(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leaves a finished post as it is."""
    post_id, where = _pressed_ref(update)
    if where:
        post = await own_post(update, context, post_id)
        if post is None:
            return
        await answer(update)
        await show_post(update, context, post, where, in_place=True)
        return
    await answer(update)
    query = update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(None)


# -- Reschedule and Edit caption: two small conversations about a post ------------------------------
@dataclass(frozen=True)
class PostQuestion(Question):
    """A question about a post (its new time, its new caption), whose subject {"post_id", "origin"}
    lives in user_data under `key`; the Keep button leaves the post as it was."""

    async def keep(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """The Keep button: leaves the post as it was and shows it again."""
        asked = self.subject(context)
        self.forget(context)
        # `left` is a texts constant read when this module loaded, so it is the English — the msgid
        # extracted where texts.py defines it (TIME_KEPT, CAPTION_KEPT): said in the person's language.
        await answer(update, i18n._(self.left))
        post = await store_of(context).get_post(user_id(update), str(asked["post_id"])) if asked else None
        if post is not None and asked is not None:
            await show_post(update, context, post, str(asked.get("origin", "")), in_place=True)
        return ConversationHandler.END

    def about_a_post(
        self, ask: AnyHandler, answers: list[AnyHandler], keep_pattern: str
    ) -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
        """The post's button `ask` → one of `answers` or Keep (`keep_pattern`) → the post again."""
        return self.conversation([ask], [*answers, CallbackQueryHandler(self.keep, pattern=keep_pattern)])

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Post | None, State]:
        """(the pressed post, None) if the user may change it now, the question now about it; else
        (None, the next state) after saying why: someone else's post changes nothing, a post past
        scheduling ends the question."""
        post, where = await _pressed_post(update, context)
        if post is None:
            return None, None
        if post.status is not PostStatus.SCHEDULED:
            refusal = texts.cannot_change(post.short_id, post.status.value)
            await answer(update, refusal, alert=True)
            await show_post(update, context, post, where, in_place=bool(where), notice=refusal)
            return None, ConversationHandler.END
        await answer(update)
        self.ask_about(context, {"post_id": post.post_id, "origin": where or _default_origin(post)})
        return post, None


RESCHEDULE = PostQuestion("reschedule", ASK_NEW_TIME, texts.TIME_KEPT, texts.RESCHEDULE_HINT, key=RESCHEDULING)
EDIT_CAPTION = PostQuestion(
    "edit_caption", ASK_NEW_CAPTION, texts.CAPTION_KEPT, texts.CAPTION_HINT, key=EDITING_CAPTION
)


async def ask_new_time(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Asks when a scheduled post should go out instead: quick buttons or a typed time."""
    post, refused = await RESCHEDULE.ask(update, context)
    if post is None:
        return refused
    zone = await user_zone(context, post.user_id)
    now = current_time()
    await show(
        update,
        texts.ask_new_time(post.short_id, format_time(post.scheduled_time, zone), zone, example_time(zone, now)),
        keyboards.reschedule_keyboard(shows_today_button(zone, now)),
    )
    return ASK_NEW_TIME


async def new_time_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """A new time typed in the user's zone (a repeating one is for a new post: said so)."""
    message = update.effective_message
    if message is not None and message.text is not None and speaks_of_repeating(message.text):
        await reply(update, texts.POST_CANNOT_REPEAT)
        return ASK_NEW_TIME
    return await _move_post(update, context, *await typed_time(update, context), in_place=False)


async def new_time_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """A quick time button under the question, or the confirmation of a time shifted past a DST gap."""
    suggested = (RESCHEDULE.subject(context) or {}).get("suggested_when")
    chosen = await pressed_time(update, context, datetime.fromisoformat(suggested) if suggested else None)
    if chosen is None:
        return ASK_NEW_TIME
    # A quick time edits the question in place; a confirmed shift answers the message that offered it.
    return await _move_post(update, context, *chosen, in_place=pressed(update).argument != SHIFTED)


async def new_time_from_calendar(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """A press in the date picker under the question: its next grid, or the day and time picked."""
    chosen = await calendar_pressed(update, context, POST, "rs_cal")
    return ASK_NEW_TIME if chosen is None else await _move_post(update, context, *chosen, in_place=False)


async def _move_post(
    update: Update, context: ContextTypes.DEFAULT_TYPE, choice: TimeChoice, zone: str, in_place: bool
) -> State:
    asked = RESCHEDULE.subject(context)
    if choice.when is None:
        suggestion = await refuse_time(update, choice, zone, POST, "rs_when")
        if asked is not None:
            asked["suggested_when"] = suggestion.isoformat() if suggestion else None
        return ASK_NEW_TIME
    RESCHEDULE.forget(context)
    if asked is None:
        await reply(update, texts.STALE_BUTTON)
        return ConversationHandler.END
    user = user_id(update)
    store = store_of(context)
    moved = await store.reschedule_post(user, str(asked["post_id"]), choice.when)
    if moved is None:
        post = await store.get_post(user, str(asked["post_id"]))
        await reply(update, texts.NOT_YOURS if post is None else texts.cannot_change(post.short_id, post.status.value))
        return ConversationHandler.END
    if moved.queued:
        # A time the person chose wins over the queue: the post no longer holds a slot.
        await store.leave_queue(user, moved.post_id)
        moved.queued = False
    await services(context).post_changed(PostEvent.SCHEDULED, moved)
    log.info("user %s moved post %s to %s", user, moved.post_id, moved.scheduled_time.isoformat())
    notice = texts.rescheduled(
        moved.short_id,
        format_time(moved.scheduled_time, zone),
        format_relative(moved.scheduled_time, current_time()),
        repeated_note(moved.scheduled_time, zone),
    )
    await show_post(update, context, moved, str(asked.get("origin", "")), in_place=in_place, notice=notice)
    return ConversationHandler.END


def build_reschedule_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    """Reschedule: the post's Details → a quick button or a typed time → the post, moved."""
    return RESCHEDULE.about_a_post(
        CallbackQueryHandler(ask_new_time, pattern=rf"^{POST}:resched:"),
        [
            MessageHandler(filters.TEXT & ~filters.COMMAND, new_time_typed),
            CallbackQueryHandler(new_time_pressed, pattern=rf"^{POST}:rs_when:"),
            CallbackQueryHandler(new_time_from_calendar, pattern=rf"^{POST}:rs_cal:"),
        ],
        rf"^{POST}:rs_keep$",
    )


# -- Edit caption: a small conversation for the new text ------------------------------------------
async def ask_caption(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Asks for the new caption of a scheduled post."""
    post, refused = await EDIT_CAPTION.ask(update, context)
    if post is None:
        return refused
    await show(
        update,
        texts.ask_new_caption(post.short_id, texts.caption_start(post.main_caption, CAPTION_PREVIEW), len(post.images)),
        keyboards.edit_caption_keyboard(),
    )
    return ASK_NEW_CAPTION


async def typed_caption(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """The new caption, formatted as typed, checked against Telegram's limits like a new post's."""
    message = update.effective_message
    assert message is not None and message.text is not None
    asked = EDIT_CAPTION.subject(context)
    if asked is None:
        await reply(update, texts.STALE_BUTTON)
        return ConversationHandler.END
    user = user_id(update)
    store = store_of(context)
    post = await store.get_post(user, str(asked["post_id"]))
    if post is None:
        EDIT_CAPTION.forget(context)
        await reply(update, texts.NOT_YOURS)
        return ConversationHandler.END
    typed = typed_text(message)
    caption = typed.text
    if not caption and not post.images:
        await reply(update, texts.CAPTION_HINT)
        return ASK_NEW_CAPTION
    if not await caption_fits(update, caption, bool(post.images)):
        return ASK_NEW_CAPTION
    EDIT_CAPTION.forget(context)
    # Its formatting goes with it: what was typed is what goes out.
    updated = await store.update_caption(user, post.post_id, caption, typed.entity_list())
    if updated is None:
        now = await store.get_post(user, post.post_id)
        await reply(update, texts.cannot_change(post.short_id, (now or post).status.value))
        return ConversationHandler.END
    log.info("user %s edited the caption of post %s", user, updated.post_id)
    notice = texts.caption_updated(updated.short_id)
    await show_post(update, context, updated, str(asked.get("origin", "")), in_place=False, notice=notice)
    return ConversationHandler.END


def build_caption_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    """Edit caption: the post's Details → the new text → the post, updated."""
    return EDIT_CAPTION.about_a_post(
        CallbackQueryHandler(ask_caption, pattern=rf"^{POST}:caption:"),
        [MessageHandler(filters.TEXT & ~filters.COMMAND, typed_caption)],
        rf"^{POST}:ec_keep$",
    )


def post_conversations() -> list[ConversationHandler[ContextTypes.DEFAULT_TYPE]]:
    """Reschedule and Edit caption; registered before New post, so their question gets the answer."""
    return [build_reschedule_conversation(), build_caption_conversation()]


def post_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CallbackQueryHandler(ask_cancel, pattern=rf"^{POST}:cancel:"),
        CallbackQueryHandler(confirm_cancel, pattern=rf"^{POST}:cancel_yes:"),
        CallbackQueryHandler(keep_post, pattern=rf"^{POST}:keep:"),
        CallbackQueryHandler(show_details, pattern=rf"^{POST}:details:"),
        CallbackQueryHandler(ask_retry, pattern=rf"^{POST}:retry:"),
        CallbackQueryHandler(confirm_retry, pattern=rf"^{POST}:retry_yes:"),
        CallbackQueryHandler(keep_result, pattern=rf"^{POST}:keep_result:"),
    ]
