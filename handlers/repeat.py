"""A repeating time in New post: the 🔁 Repeat… buttons of the time step (every day, chosen
weekdays, every N weeks or a day of the month; the local time; the end: on a date, after N times,
never) and rules typed in the time question (handlers/rules.py reads them), the preview of a rule
(in words, and its next three times in the person's zone), and scheduling it as a Series.

These are steps on the New post draft; handlers/compose.py runs them in its conversation and
turns their outcome into its next step: DONE (the rule is chosen: the preview), BACK (the time
question again), or a state of its own."""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes, ConversationHandler

import i18n
from handlers import keyboards, texts
from handlers.common import answer, find_account, reply, services, store_of, user_zone
from handlers.draft import Draft
from handlers.rules import MAX_COUNT, RuleChoice, end_day, next_times, parse_rule, speaks_of_repeating, time_of_day
from handlers.screen import pressed, show, user_id
from handlers.when import current_time, format_time
from i18n import _
from storage.models import new_post
from storage.recurrence import Frequency, Rule, RuleError
from storage.series import Series, SeriesError, new_series, rule_from_doc, rule_to_doc

log = logging.getLogger(__name__)

# The conversation state of the Repeat… buttons.
REPEAT = "repeat"
# What a step leads to, for compose: the preview of the chosen rule, or the time question again.
DONE, BACK = "repeat:done", "repeat:back"
# How many of a rule's next times the preview shows.
PREVIEWED_TIMES = 3

Outcome = str | int | None
# The rule being put together with the buttons, kept in the draft: its kind, weekdays, interval,
# day of the month, time of day, and the step the buttons are at.
Building = dict[str, Any]
KINDS = {"daily", "weekdays", "weeks", "monthly"}


# -- a rule in words ------------------------------------------------------------------------------
def rule_text(rule: Rule) -> str:
    """`every Monday at 09:00 (Europe/Berlin), until Sun 31 Jan 2027`."""
    days = texts.rule_days(rule.frequency.value, rule.interval, rule.weekdays, rule.month_day)
    until = i18n.day_year(rule.until) if rule.until else None
    return texts.rule_words(days, i18n.clock(rule.at), rule.zone, until, rule.count)


def series_rule_text(series: Series) -> str:
    return rule_text(series.rule)


def drafted_rule(draft: Draft) -> Rule | None:
    """The repeating rule the draft is to follow, if one was chosen."""
    return rule_from_doc(draft.rule) if draft.rule else None


def preview_schedule(draft: Draft, zone: str, now: datetime) -> str:
    """The preview's lines of a series: its rule in words and its next times in `zone`."""
    rule = drafted_rule(draft)
    if rule is None:
        return ""
    times = [format_time(moment, zone) for moment in next_times(rule, now, PREVIEWED_TIMES)]
    return texts.series_preview_times(rule_text(rule), times)


def refresh_when(draft: Draft, now: datetime) -> bool:
    """Moves the draft's time to its rule's first time after `now`; False if none is left."""
    rule = drafted_rule(draft)
    if rule is None:
        return False
    upcoming = next_times(rule, now, 1)
    draft.when = upcoming[0] if upcoming else None
    return bool(upcoming)


def forget(draft: Draft) -> None:
    """A one-off time chosen after all: no rule."""
    draft.rule, draft.repeat = None, None


def _choose(draft: Draft, rule: Rule, now: datetime) -> Outcome:
    draft.rule, draft.repeat = rule_to_doc(rule), None
    return DONE if refresh_when(draft, now) else None


# -- typed rules ----------------------------------------------------------------------------------
async def rule_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, text: str) -> Outcome:
    """A repeating rule typed in the time question (or during Repeat…): chosen, or refused with
    the reason and examples — the draft as it was."""
    zone = await user_zone(context, user_id(update))
    now = current_time()
    choice = parse_rule(text, zone, now)
    if choice.rule is None:
        await reply(update, texts.rule_problem(choice.problem or "unreadable", choice.typed))
        return None
    return _choose(draft, choice.rule, now)


# -- the Repeat… buttons --------------------------------------------------------------------------
async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> Outcome:
    """🔁 Repeat… pressed in the time step: how often?"""
    await answer(update)
    draft.repeat = {"step": "kind"}
    await reply(update, texts.REPEAT_HOW, reply_markup=keyboards.repeat_kind_keyboard())
    return REPEAT


async def back(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> Outcome:
    """◀ One-off time: the time question again, no rule."""
    await answer(update)
    forget(draft)
    return BACK


# The step each button belongs to: a button of another step is stale.
STEP_OF = {
    "rp_kind": "kind",
    "rp_day": "weekdays",
    "rp_days_ok": "weekdays",
    "rp_every": "weeks",
    "rp_mday": "month_day",
    "rp_at": "at",
    "rp_end": "end",
    "rp_count": "count",
}


async def pressed_button(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> Outcome:
    """A button of the Repeat… steps: the next question, or the rule done."""
    press = pressed(update)
    building = draft.repeat
    if building is None or STEP_OF.get(press.action) not in (building.get("step"), None):
        await answer(update, texts.WRONG_STEP_BUTTON, alert=True)
        return None
    argument = press.argument
    if press.action == "rp_kind" and argument in KINDS:
        await answer(update)
        building["kind"] = argument
        return await _after_kind(update, context, building)
    if press.action == "rp_day" and argument.isdigit() and 0 <= int(argument) <= 6:
        await answer(update)
        chosen = set(_weekdays(building)) ^ {int(argument)}
        building["weekdays"] = sorted(chosen)
        await show(update, texts.REPEAT_WEEKDAYS, keyboards.repeat_weekdays_keyboard(building["weekdays"]))
        return None
    if press.action == "rp_days_ok":
        if not _weekdays(building):
            await answer(update, texts.REPEAT_NO_DAYS, alert=True)
            return None
        await answer(update)
        return await _ask_at(update, context, building)
    if press.action == "rp_every" and argument in ("2", "3", "4"):
        await answer(update)
        building["interval"], building["step"] = int(argument), "weekdays"
        await show(update, texts.REPEAT_WEEKDAYS, keyboards.repeat_weekdays_keyboard(_weekdays(building)))
        return None
    if press.action == "rp_mday" and argument.isdigit() and 1 <= int(argument) <= 31:
        await answer(update)
        building["month_day"] = int(argument)
        return await _ask_at(update, context, building)
    at = time_of_day(f"{argument[:2]}:{argument[2:]}") if len(argument) == 4 and argument.isdigit() else None
    if press.action == "rp_at" and at is not None:
        await answer(update)
        return await _ask_end(update, context, building, at)
    if press.action == "rp_end" and argument in ("never", "date", "count"):
        await answer(update)
        if argument == "never":
            return await _finish(update, context, draft, None, None)
        if argument == "date":
            building["step"] = "until"
            await show(update, texts.REPEAT_UNTIL, keyboards.repeat_back_keyboard())
            return None
        building["step"] = "count"
        await show(update, texts.REPEAT_COUNT, keyboards.repeat_count_keyboard())
        return None
    if press.action == "rp_count" and argument.isdigit() and 1 <= int(argument) <= MAX_COUNT:
        await answer(update)
        return await _finish(update, context, draft, None, int(argument))
    await answer(update, texts.WRONG_STEP_BUTTON, alert=True)
    return None


async def typed_in_repeat(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, text: str) -> Outcome:
    """Text typed while the Repeat… buttons ask: the time of day, the end day or the number of
    times they ask for — or a whole typed rule."""
    building = draft.repeat or {}
    step = building.get("step")
    if step == "at" and (at := time_of_day(text)) is not None:
        return await _ask_end(update, context, building, at)
    if step == "until" and not speaks_of_repeating(text):
        zone = await user_zone(context, user_id(update))
        day = end_day(text, zone, current_time())
        if isinstance(day, RuleChoice):
            await reply(update, texts.repeat_bad_until(text.strip(), day.problem or "bad_until"))
            return None
        return await _finish(update, context, draft, day, None)
    if step == "count" and text.strip().isdigit():
        count = int(text.strip())
        if not 1 <= count <= MAX_COUNT:
            await reply(update, texts.repeat_bad_count(text.strip()))
            return None
        return await _finish(update, context, draft, None, count)
    if speaks_of_repeating(text):
        return await rule_typed(update, context, draft, text)
    if step == "at":
        await reply(update, texts.repeat_bad_at(text.strip()[:40]))
    elif step == "count":
        await reply(update, texts.repeat_bad_count(text.strip()[:40]))
    else:
        await reply(update, texts.REPEAT_HINT)
    return None


async def _after_kind(update: Update, context: ContextTypes.DEFAULT_TYPE, building: Building) -> Outcome:
    kind = building["kind"]
    building.update(interval=1, weekdays=[], month_day=None)
    if kind == "weekdays":
        building["step"] = "weekdays"
        await show(update, texts.REPEAT_WEEKDAYS, keyboards.repeat_weekdays_keyboard([]))
    elif kind == "weeks":
        building["step"] = "weeks"
        await show(update, texts.REPEAT_WEEKS, keyboards.repeat_weeks_keyboard())
    elif kind == "monthly":
        building["step"] = "month_day"
        await show(update, texts.REPEAT_MONTH_DAY, keyboards.repeat_month_day_keyboard())
    else:
        return await _ask_at(update, context, building)
    return None


def _number(building: Building, key: str, default: int) -> int:
    """A number the buttons put into the draft (JSON a person's restart kept: checked, not trusted)."""
    value = building.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _weekdays(building: Building) -> list[int]:
    days = building.get("weekdays")
    return sorted({day for day in days if isinstance(day, int) and 0 <= day <= 6}) if isinstance(days, list) else []


def _days_so_far(building: Building) -> str:
    kind = building.get("kind")
    if kind in ("weekdays", "weeks"):
        return texts.rule_days("weekly", _number(building, "interval", 1), _weekdays(building), 1)
    if kind == "monthly":
        return texts.rule_days("monthly", 1, [], _number(building, "month_day", 1))
    return texts.rule_days("daily", 1, [], 1)


async def _ask_at(update: Update, context: ContextTypes.DEFAULT_TYPE, building: Building) -> Outcome:
    building["step"] = "at"
    zone = await user_zone(context, user_id(update))
    await show(update, texts.repeat_at(_days_so_far(building), zone), keyboards.repeat_at_keyboard())
    return None


async def _ask_end(update: Update, context: ContextTypes.DEFAULT_TYPE, building: Building, at: time) -> Outcome:
    building["at"], building["step"] = at.strftime("%H:%M"), "end"
    # i18n: the repeating rule chosen so far: "🔁 every Monday at 09:00"
    chosen = _("🔁 {days} at {at}").format(days=_days_so_far(building), at=i18n.clock(at))
    question = f"{chosen}\n{texts.REPEAT_END}"
    await show(update, question, keyboards.repeat_end_keyboard(), in_place=update.callback_query is not None)
    return None


async def _finish(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, until: date | None, count: int | None
) -> Outcome:
    """The rule the buttons put together, chosen; an end before its first time is asked again."""
    building = draft.repeat or {}
    zone = await user_zone(context, user_id(update))
    kind = building.get("kind")
    frequency = {"daily": Frequency.DAILY, "monthly": Frequency.MONTHLY}.get(str(kind), Frequency.WEEKLY)
    try:
        rule = Rule(
            frequency,
            time.fromisoformat(str(building.get("at"))),
            zone,
            interval=_number(building, "interval", 1),
            weekdays=tuple(_weekdays(building)),
            month_day=_number(building, "month_day", 1),
            until=until,
            count=count,
        )
    except (RuleError, ValueError, TypeError):
        # The buttons' state is not whole (a restart mid-way, an old draft): start the buttons again.
        draft.repeat = {"step": "kind"}
        await reply(update, texts.REPEAT_HOW, reply_markup=keyboards.repeat_kind_keyboard())
        return None
    now = current_time()
    if not next_times(rule, now, 1):
        await reply(update, texts.repeat_bad_until(f"{until}", "until_past"))
        return None
    return _choose(draft, rule, now)


# -- scheduling the series ------------------------------------------------------------------------
async def schedule_series(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> Outcome:
    """Schedule pressed on the preview of a rule: the series is stored (not a post) and confirmed."""
    rule = drafted_rule(draft)
    assert rule is not None
    user = user_id(update)
    await answer(update)
    account = await find_account(context, user, draft.account_id, for_a_post=True)
    chosen = draft.chosen()
    if account is None or not chosen:
        await reply(update, texts.NOT_YOURS)
        return ConversationHandler.END
    now = current_time()
    template = new_post(
        user_id=user,
        account=account,
        targets=chosen,
        main_caption=draft.caption or "",
        scheduled_time=draft.when or now,
        images=list(draft.images),
        poster_name=draft.poster_name,
        content=draft.content,
    )
    try:
        series = new_series(user, rule, template, now)
    except SeriesError:
        await reply(update, texts.SERIES_ENDS_BEFORE_START)
        forget(draft)
        return BACK
    await store_of(context).create_series(series)
    await services(context).series_changed(series)
    zone = await user_zone(context, user)
    assert series.next_time is not None
    text = texts.series_scheduled(
        series.short_id, rule_text(series.rule), format_time(series.next_time, zone), len(chosen)
    )
    await show(update, text, keyboards.series_scheduled_keyboard(series.series_id))
    log.info("user %s scheduled series %s (%s)", user, series.series_id, series.rule.frequency.value)
    return ConversationHandler.END
