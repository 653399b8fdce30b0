"""A person's recurring series in the chat: each shown once in /scheduled with its rule and next
time; its screen (details, Pause / Resume, Skip next, Edit text, Edit times, End series with a
confirm step); and the word to the owner when a series paused itself after failures in a row,
with a Resume button (added to the report of the post whose failure paused it).

Every change is the pure function of storage/series.py written over the version read (a series
changed meanwhile — its occurrence made by the scheduler, say — is read again and the change
computed anew, or refused when it no longer applies). A button naming a series that is not the
person's, or no longer there, is answered with an alert and shows nothing of it."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from telegram import InlineKeyboardButton, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes, ConversationHandler, MessageHandler, filters

import i18n
from handlers import keyboards, texts
from handlers.common import answer, reply, services, store_of, user_zone
from handlers.content import typed_text
from handlers.keyboards import SERIES
from handlers.questions import AnyHandler, Question, caption_fits
from handlers.repeat import rule_text
from handlers.rules import parse_rule, speaks_of_repeating, time_of_day
from handlers.screen import pressed, show, user_id
from handlers.when import current_time, format_time
from storage.base import Store
from storage.models import Post
from storage.recurrence import Rule
from storage.series import (
    PausedBy,
    Series,
    SeriesStatus,
    ended,
    paused,
    resumed,
    skipped,
    with_caption,
    with_rule,
)

log = logging.getLogger(__name__)

# Tries of a change that the scheduler (or another chat) made stale meanwhile.
WRITE_TRIES = 5
LINE_CAPTION = 30
CAPTION_PREVIEW = 200
ASK_SERIES_CAPTION = "ask_series_caption"
ASK_SERIES_RULE = "ask_series_rule"

State = str | int | None
# Buttons under messages other than the list and the series' screen: they answer with a new message.
FROM_ELSEWHERE = {"show", "resume_new"}


# -- the list and the screen ----------------------------------------------------------------------
def _next_text(series: Series, zone: str) -> str | None:
    if series.status is not SeriesStatus.ACTIVE or series.next_time is None:
        return None
    return format_time(series.next_time, zone)


async def series_section(store: Store, user: int, zone: str) -> tuple[list[str], list[list[InlineKeyboardButton]]]:
    """The lines and buttons of the person's series (not ended) for the top of /scheduled."""
    found = await store.list_series(user)
    if not found:
        return [], []
    lines: list[str] = [texts.SERIES_LIST_HEADER]
    rows = []
    for series in found:
        badge = texts.SERIES_BADGES.get(series.status.value, "")
        caption = texts.caption_start(series.template.main_caption, LINE_CAPTION)
        lines.append(
            texts.series_line(badge, series.short_id, rule_text(series.rule), _next_text(series, zone), caption)
        )
        rows.append(keyboards.series_button(texts.series_button(badge, series.short_id, caption), series.series_id))
    return lines, rows


def series_text(series: Series, zone: str) -> str:
    """The screen of one series: its status, rule, next time, counts, targets, text, and why it
    is paused."""
    badge = texts.SERIES_BADGES.get(series.status.value, "")
    lines = texts.series_details(
        badge,
        series.short_id,
        series.status.value,
        rule_text(series.rule),
        _next_text(series, zone),
        series.made,
        series.remaining,
        [target.name for target in series.template.targets],
    )
    template = series.template
    lines.extend(
        texts.details_content(
            texts.caption_start(template.main_caption, CAPTION_PREVIEW),
            len(template.images),
            template.poster_name,
            media=texts.other_media([image.kind.value for image in template.images]),
            buttons=sum(len(row) for row in template.buttons),
        )
    )
    if series.status is SeriesStatus.PAUSED:
        lines.append(texts.series_paused_line(series.paused_by is PausedBy.FAILURES, series.pause_reason))
    return "\n".join(lines)


async def _show_series(update: Update, context: ContextTypes.DEFAULT_TYPE, series: Series, notice: str = "") -> None:
    """The series' screen: in place of the pressed message when that is the list or the screen
    itself, as a new message when pressed under another message (a confirmation, a report, a
    post's Details), which stays as it was."""
    zone = await user_zone(context, series.user_id)
    text = series_text(series, zone)
    if notice:
        text = f"{notice}\n\n{text}"
    markup = keyboards.series_keyboard(
        series.series_id, series.status.value, series.next_number if series.next_time is not None else None
    )
    await show(update, text, markup, in_place=pressed(update).action not in FROM_ELSEWHERE)


async def _own_series(update: Update, context: ContextTypes.DEFAULT_TYPE, series_id: str) -> Series | None:
    """The person's series `series_id`; None, after an alert, if they have none by that id."""
    series = await store_of(context).get_series(user_id(update), series_id) if series_id else None
    if series is None:
        await answer(update, texts.SERIES_MISSING, alert=True)
    return series


def _pressed_id(update: Update) -> tuple[str, str]:
    """(series id, what follows it: the occurrence number of Skip) of the pressed button."""
    series_id, _, rest = pressed(update).argument.partition("/")
    return series_id, rest


async def open_series(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A series' screen (from /scheduled, its confirmation, a report or an occurrence's Details)."""
    series = await _own_series(update, context, _pressed_id(update)[0])
    if series is None:
        return
    await answer(update)
    await _show_series(update, context, series)


# -- changes --------------------------------------------------------------------------------------
async def _change(
    context: ContextTypes.DEFAULT_TYPE, user: int, series_id: str, change: Callable[[Series], Series | None]
) -> tuple[Series | None, bool]:
    """(the series as it is after trying `change`, whether it changed): written over the version
    read, read again and recomputed when the scheduler changed it meanwhile."""
    store = store_of(context)
    series: Series | None = None
    for _ in range(WRITE_TRIES):
        series = await store.get_series(user, series_id)
        if series is None:
            return None, False
        changed = change(series)
        if changed is None:
            return series, False
        if await store.save_series(changed):
            await services(context).series_changed(changed)
            return changed, True
    return series, False


async def _apply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    change: Callable[[Series], Series | None],
    done: Callable[[Series, Series], str],
    refused: str,
) -> Series | None:
    """Applies a button's change to the pressed series and shows it with `done(before, after)`,
    or with `refused` (an alert too) when the change no longer applies."""
    series_id, _ = _pressed_id(update)
    before = await _own_series(update, context, series_id)
    if before is None:
        return None
    after, changed = await _change(context, before.user_id, series_id, change)
    if after is None:
        await answer(update, texts.SERIES_MISSING, alert=True)
        return None
    if not changed:
        await answer(update, refused, alert=True)
        await _show_series(update, context, after, refused)
        return None
    await answer(update)
    await _show_series(update, context, after, done(before, after))
    log.info("user %s changed series %s (%s)", after.user_id, after.series_id, pressed(update).action)
    return after


async def pause_series(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _apply(update, context, paused, lambda _b, _a: texts.SERIES_PAUSED, texts.SERIES_NOT_ACTIVE)


async def resume_series(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Resumed from its next time after now (a Resume under a report opens the screen anew)."""
    now = current_time()
    zone = await user_zone(context, user_id(update))

    def done(_before: Series, after: Series) -> str:
        return texts.series_resumed(_next_text(after, zone))

    await _apply(update, context, lambda series: resumed(series, now), done, texts.SERIES_NOT_PAUSED)


async def skip_next(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Skips the occurrence the button named — refused if it went out (or was skipped) meanwhile."""
    _, number_text = _pressed_id(update)
    if not number_text.isdigit():
        await answer(update, texts.STALE_BUTTON, alert=True)
        return
    number = int(number_text)
    zone = await user_zone(context, user_id(update))

    def done(before: Series, after: Series) -> str:
        assert before.next_time is not None
        return texts.series_skipped(format_time(before.next_time, zone), _next_text(after, zone))

    await _apply(update, context, lambda series: skipped(series, number), done, texts.SERIES_CHANGED_MEANWHILE)


async def ask_end(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """End series: asks to confirm, on its screen."""
    series = await _own_series(update, context, _pressed_id(update)[0])
    if series is None:
        return
    if series.status is SeriesStatus.ENDED:
        await answer(update, texts.SERIES_ENDED_ALREADY, alert=True)
        await _show_series(update, context, series, texts.SERIES_ENDED_ALREADY)
        return
    await answer(update)
    zone = await user_zone(context, series.user_id)
    text = f"{series_text(series, zone)}\n\n{texts.confirm_end_series(series.short_id)}"
    await show(update, text, keyboards.confirm_end_series_keyboard(series.series_id))


async def end_series(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _apply(
        update, context, ended, lambda before, _a: texts.series_ended(before.short_id), texts.SERIES_ENDED_ALREADY
    )


# -- Edit text and Edit times: two small questions about a series -----------------------------------
@dataclass(frozen=True)
class SeriesQuestion(Question, ABC):
    """A question about a series, whose subject {"series_id"} lives in user_data under `key`;
    each kind asks its own way (`entry`)."""

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> Series | None:
        """The pressed series if it can still change (not ended), the question now about it."""
        series = await _own_series(update, context, _pressed_id(update)[0])
        if series is None:
            return None
        if series.status is SeriesStatus.ENDED:
            await answer(update, texts.SERIES_ENDED_ALREADY, alert=True)
            return None
        await answer(update)
        self.ask_about(context, {"series_id": series.series_id})
        return series

    async def keep(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """The Keep button: nothing changes; the series' screen again."""
        asked = self.subject(context)
        self.forget(context)
        await answer(update, i18n._(self.left))
        series = await store_of(context).get_series(user_id(update), str(asked["series_id"])) if asked else None
        if series is not None:
            await _show_series(update, context, series)
        return ConversationHandler.END

    def about_a_series(
        self, action: str, answers: list[AnyHandler], keep: str
    ) -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
        ask = CallbackQueryHandler(self.entry, pattern=rf"^{SERIES}:{action}:")
        return self.conversation([ask], [*answers, CallbackQueryHandler(self.keep, pattern=rf"^{SERIES}:{keep}$")])

    @abstractmethod
    async def entry(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
        """Asks the question about the pressed series."""


@dataclass(frozen=True)
class CaptionQuestion(SeriesQuestion):
    async def entry(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
        """Asks for the text of the next occurrences."""
        series = await self.ask(update, context)
        if series is None:
            return ConversationHandler.END
        caption = texts.caption_start(series.template.main_caption, CAPTION_PREVIEW)
        await show(
            update, texts.ask_series_caption(series.short_id, caption), keyboards.series_edit_keyboard("ec_keep")
        )
        return ASK_SERIES_CAPTION


@dataclass(frozen=True)
class RuleQuestion(SeriesQuestion):
    async def entry(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
        """Asks for the new rule, or only a new time of day."""
        series = await self.ask(update, context)
        if series is None:
            return ConversationHandler.END
        zone = await user_zone(context, series.user_id)
        question = texts.ask_series_rule(series.short_id, rule_text(series.rule), zone)
        await show(update, question, keyboards.series_edit_keyboard("er_keep"))
        return ASK_SERIES_RULE


EDIT_SERIES_CAPTION = CaptionQuestion(
    "edit_series_caption",
    ASK_SERIES_CAPTION,
    texts.SERIES_CAPTION_KEPT,
    texts.SERIES_CAPTION_HINT,
    key="series_caption",
)
EDIT_SERIES_RULE = RuleQuestion(
    "edit_series_rule", ASK_SERIES_RULE, texts.SERIES_RULE_KEPT, texts.SERIES_RULE_HINT, key="series_rule"
)


async def _asked_series(update: Update, context: ContextTypes.DEFAULT_TYPE, question: SeriesQuestion) -> Series | None:
    """The series the open question is about, if it is still the person's."""
    asked = question.subject(context)
    series = await store_of(context).get_series(user_id(update), str(asked["series_id"])) if asked else None
    if series is None:
        question.forget(context)
        await reply(update, texts.SERIES_MISSING)
    return series


async def typed_series_caption(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """The new text, formatted as typed and held to Telegram's limits like any post's."""
    message = update.effective_message
    assert message is not None and message.text is not None
    series = await _asked_series(update, context, EDIT_SERIES_CAPTION)
    if series is None:
        return ConversationHandler.END
    typed = typed_text(message)
    if not typed.text and not series.template.images:
        await reply(update, texts.SERIES_CAPTION_HINT)
        return ASK_SERIES_CAPTION
    if not await caption_fits(update, typed.text, bool(series.template.images)):
        return ASK_SERIES_CAPTION
    EDIT_SERIES_CAPTION.forget(context)
    entities = typed.entity_list()
    after, changed = await _change(
        context, series.user_id, series.series_id, lambda one: with_caption(one, typed.text, entities)
    )
    if after is None or not changed:
        await reply(update, texts.SERIES_ENDED_ALREADY if after else texts.SERIES_MISSING)
        return ConversationHandler.END
    log.info("user %s edited the text of series %s", after.user_id, after.series_id)
    await _show_new(update, context, after, texts.series_caption_updated(after.short_id))
    return ConversationHandler.END


async def typed_series_rule(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """A new rule (`every friday 17:00`) or a new time of day for the same days (`18:30`)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    series = await _asked_series(update, context, EDIT_SERIES_RULE)
    if series is None:
        return ConversationHandler.END
    zone = await user_zone(context, series.user_id)
    now = current_time()
    rule = _typed_rule(message.text, series.rule, zone, now)
    if isinstance(rule, str):
        await reply(update, rule)
        return ASK_SERIES_RULE
    EDIT_SERIES_RULE.forget(context)
    after, changed = await _change(context, series.user_id, series.series_id, lambda one: with_rule(one, rule, now))
    if after is None or not changed:
        await reply(update, texts.SERIES_ENDED_ALREADY if after else texts.SERIES_MISSING)
        return ConversationHandler.END
    log.info("user %s changed the times of series %s", after.user_id, after.series_id)
    await _show_new(update, context, after, texts.series_rule_updated(after.short_id, rule_text(after.rule)))
    return ConversationHandler.END


def _typed_rule(text: str, current: Rule, zone: str, now: datetime) -> Rule | str:
    """The rule typed, or the current one at a new time of day; else why not, to say."""
    at: time | None = None if speaks_of_repeating(text) else time_of_day(text)
    if at is not None:
        # Same days, counted again from the next of them: as if the rule were typed anew.
        return Rule(
            current.frequency,
            at,
            current.zone,
            interval=current.interval,
            weekdays=current.weekdays,
            month_day=current.month_day,
            until=current.until,
            count=current.count,
        )
    choice = parse_rule(text, zone, now)
    if choice.rule is None:
        return texts.rule_problem(choice.problem or "unreadable", choice.typed)
    return choice.rule


async def _show_new(update: Update, context: ContextTypes.DEFAULT_TYPE, series: Series, notice: str) -> None:
    """The series' screen as a new message (an answer to something typed)."""
    zone = await user_zone(context, series.user_id)
    markup = keyboards.series_keyboard(
        series.series_id, series.status.value, series.next_number if series.next_time is not None else None
    )
    await reply(update, f"{notice}\n\n{series_text(series, zone)}", reply_markup=markup)


# -- a series that paused itself -------------------------------------------------------------------
async def paused_notices(store: Store, posts: list[Post]) -> tuple[list[str], list[list[InlineKeyboardButton]]]:
    """For a report about `posts`: the lines and Resume buttons of the series that paused
    themselves because of one of these posts (its third failure in a row). The report of that
    post is sent once, so the owner is told once."""
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    for post in posts:
        if post.occurrence is None:
            continue
        series = await store.load_series(post.occurrence.series_id)
        if series is None or series.user_id != post.user_id or series.paused_post != post.post_id:
            continue
        if series.status is not SeriesStatus.PAUSED or series.paused_by is not PausedBy.FAILURES:
            continue
        lines.append(texts.series_paused_by_failures(series.short_id, series.pause_reason))
        rows.append(keyboards.resume_series_keyboard(series.series_id))
    return lines, rows


def series_conversations() -> list[ConversationHandler[ContextTypes.DEFAULT_TYPE]]:
    """Edit text and Edit times of a series; registered before New post, so their question gets
    the answer."""
    text = filters.TEXT & ~filters.COMMAND
    return [
        EDIT_SERIES_CAPTION.about_a_series("caption", [MessageHandler(text, typed_series_caption)], "ec_keep"),
        EDIT_SERIES_RULE.about_a_series("rule", [MessageHandler(text, typed_series_rule)], "er_keep"),
    ]


def series_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CallbackQueryHandler(open_series, pattern=rf"^{SERIES}:(open|show):"),
        CallbackQueryHandler(pause_series, pattern=rf"^{SERIES}:pause:"),
        CallbackQueryHandler(resume_series, pattern=rf"^{SERIES}:resume(_new)?:"),
        CallbackQueryHandler(skip_next, pattern=rf"^{SERIES}:skip:"),
        CallbackQueryHandler(ask_end, pattern=rf"^{SERIES}:end:"),
        CallbackQueryHandler(end_series, pattern=rf"^{SERIES}:end_yes:"),
    ]
