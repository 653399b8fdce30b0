"""The date picker: an inline calendar beside the typed times and quick buttons of a time question
(New post's time step, Reschedule) — a month grid, then the hour, then the minutes, all on the
person's wall clock in their zone, and then the question's usual confirmation.

Each press carries the whole pick so far in its callback data (argument `o` to open, `m202612` a
month, `d20261215` a day, `h2026121518` an hour, `t202612151830` a minute, `n` a label), so a
restart loses nothing, and a stale or forged press is judged by the clock of the moment it is
pressed: a day that has passed since the grid was drawn is refused then. Only the hour waiting
for typed minutes is kept, in user_data.

The top half is pure (rendering and reading buttons, tested with frozen clocks); the bottom half
answers the presses."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

import i18n
from handlers import texts
from handlers.common import answer, reply, user_zone
from handlers.keyboards import button
from handlers.screen import pressed, show, user_id
from handlers.when import (
    MAX_AHEAD,
    NOW_SLACK,
    TimeChoice,
    choose_wall_time,
    current_time,
    format_time,
    local,
    place,
)

MINUTE_STEP = 5
HOURS_PER_ROW = 6
MINUTES_PER_ROW = 4
# The hour picked, waiting for typed minutes, in user_data: {"hour": "2026121518", "at": iso}.
AWAITING_MINUTES = "date_picker"
# Typed minutes count for the hour picked this long; later, a bare number means nothing again.
MINUTES_WAIT = timedelta(minutes=30)
# Combining long stroke: a past day or hour is shown, struck through.
_STRIKE = "\u0336"
_ARGUMENT = re.compile(r"^(?:(o|n)|m(\d{4})(\d{2})|d(\d{4})(\d{2})(\d{2})|h(\d{4})(\d{2})(\d{2})(\d{2})|t(\d{12}))$")


@dataclass(frozen=True)
class Pick:
    """What a calendar button stands for: `step` is "open", "label" (a header, nothing to do),
    "month" (show it), "day" (show its hours), "hour" (show its minutes) or "minute" (the time)."""

    step: str
    year: int = 0
    month: int = 0
    day: int = 0
    hour: int = 0
    minute: int = 0

    @property
    def date(self) -> date:
        return date(self.year, self.month, self.day)

    @property
    def wall(self) -> datetime:
        """The local wall time picked (a minute pick)."""
        return datetime(self.year, self.month, self.day, self.hour, self.minute)

    @property
    def argument(self) -> str:
        """The callback argument that stands for this pick."""
        if self.step in ("open", "label"):
            return "o" if self.step == "open" else "n"
        if self.step == "month":
            return f"m{self.year:04d}{self.month:02d}"
        if self.step == "day":
            return f"d{self.year:04d}{self.month:02d}{self.day:02d}"
        if self.step == "hour":
            return f"h{self.year:04d}{self.month:02d}{self.day:02d}{self.hour:02d}"
        return f"t{self.year:04d}{self.month:02d}{self.day:02d}{self.hour:02d}{self.minute:02d}"


LABEL = Pick("label")
OPEN = Pick("open")


def parse_pick(argument: str) -> Pick | None:
    """The pick a calendar button's argument stands for; None for one Herald never makes (a day
    that no calendar has, an hour 24, a minute 60)."""
    found = _ARGUMENT.match(argument)
    if found is None:
        return None
    short = found.group(1)
    if short is not None:
        return OPEN if short == "o" else LABEL
    if found.group(2) is not None:
        pick = Pick("month", int(found.group(2)), int(found.group(3)))
    elif found.group(4) is not None:
        pick = Pick("day", int(found.group(4)), int(found.group(5)), int(found.group(6)))
    elif found.group(7) is not None:
        year, month, day, hour = (int(found.group(n)) for n in range(7, 11))
        pick = Pick("hour", year, month, day, hour)
    else:
        digits = found.group(11)
        pick = Pick(
            "minute", int(digits[:4]), int(digits[4:6]), int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
        )
    return pick if _exists(pick) else None


def _exists(pick: Pick) -> bool:
    if not (1 <= pick.year <= 9998 and 1 <= pick.month <= 12):
        return False
    if pick.step != "month" and not 1 <= pick.day <= calendar.monthrange(pick.year, pick.month)[1]:
        return False
    return 0 <= pick.hour <= 23 and 0 <= pick.minute <= 59


# -- the reach: from today in the person's zone up to a year ahead ----------------------------------
def first_day(zone: str, now: datetime) -> date:
    """Today in the person's zone: the first day that can be picked."""
    return local(now, zone).date()


def last_day(zone: str, now: datetime) -> date:
    """The last day that can be picked: a year ahead, in the person's zone."""
    return local(now + MAX_AHEAD, zone).date()


def month_in_reach(year: int, month: int, zone: str, now: datetime) -> bool:
    """True if the month holds a day that can be picked."""
    first, last = first_day(zone, now), last_day(zone, now)
    return (first.year, first.month) <= (year, month) <= (last.year, last.month)


def day_refusal(day: date, zone: str, now: datetime) -> str | None:
    """Why the day cannot be picked (past, or more than a year ahead), or None."""
    if day < first_day(zone, now):
        return texts.DAY_PASSED
    if day > last_day(zone, now):
        return texts.DAY_TOO_FAR
    return None


def hour_refusal(day: date, hour: int, zone: str, now: datetime) -> str | None:
    """Why the hour of that day cannot be picked (its last minute has passed), or None."""
    refused = day_refusal(day, zone, now)
    if refused is not None:
        return refused
    if place(datetime(day.year, day.month, day.day, hour, 59), zone).when < now - NOW_SLACK:
        return texts.HOUR_PASSED
    return None


def _struck(label: str) -> str:
    return "".join(character + _STRIKE for character in label)


def _label(screen: str, action: str) -> InlineKeyboardButton:
    return button(" ", screen, action, LABEL.argument)


@dataclass(frozen=True)
class Screen:
    """One screen of the picker: its text (HTML) and its buttons."""

    text: str
    markup: InlineKeyboardMarkup


def day_name(day: date) -> str:
    """`Tue 15 Dec 2026` (in the reader's language)."""
    return i18n.day_year(day)


def month_screen(year: int, month: int, zone: str, now: datetime, screen: str, action: str) -> Screen:
    """The month grid: ◀ month ▶, the weekdays, then the days (past ones struck through, today
    marked •), a week a row from Monday."""
    first = date(year, month, 1)
    before = first - timedelta(days=1)
    after = first + timedelta(days=calendar.monthrange(year, month)[1])
    title = button(i18n.month_year(first), screen, action, LABEL.argument)
    back = (
        button("◀", screen, action, Pick("month", before.year, before.month).argument)
        if month_in_reach(before.year, before.month, zone, now)
        else _label(screen, action)
    )
    forward = (
        button("▶", screen, action, Pick("month", after.year, after.month).argument)
        if month_in_reach(after.year, after.month, zone, now)
        else _label(screen, action)
    )
    rows = [
        [back, title, forward],
        [button(name, screen, action, LABEL.argument) for name in i18n.weekday_names("short")],
    ]
    today = first_day(zone, now)
    for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
        row = []
        for number in week:
            if number == 0:
                row.append(_label(screen, action))
                continue
            day = date(year, month, number)
            shown = str(number)
            if day_refusal(day, zone, now) is not None:
                shown = _struck(shown)
            elif day == today:
                shown = f"•{number}"
            row.append(button(shown, screen, action, Pick("day", year, month, number).argument))
        rows.append(row)
    return Screen(texts.calendar_month(zone), InlineKeyboardMarkup(rows))


def hour_screen(day: date, zone: str, now: datetime, screen: str, action: str) -> Screen:
    """The hours of a day, 00 to 23 (those already past struck through), and the way back."""
    rows: list[list[InlineKeyboardButton]] = []
    for hour in range(24):
        if hour % HOURS_PER_ROW == 0:
            rows.append([])
        shown = f"{hour:02d}"
        if hour_refusal(day, hour, zone, now) is not None:
            shown = _struck(shown)
        rows[-1].append(button(shown, screen, action, Pick("hour", day.year, day.month, day.day, hour).argument))
    rows.append([button(texts.CALENDAR_DAYS, screen, action, Pick("month", day.year, day.month).argument)])
    return Screen(texts.calendar_hours(day_name(day), zone), InlineKeyboardMarkup(rows))


def minute_screen(day: date, hour: int, zone: str, now: datetime, screen: str, action: str) -> Screen:
    """The minutes of an hour, every five (those past struck through), and the way back."""
    rows: list[list[InlineKeyboardButton]] = []
    for minute in range(0, 60, MINUTE_STEP):
        if minute % (MINUTE_STEP * MINUTES_PER_ROW) == 0:
            rows.append([])
        pick = Pick("minute", day.year, day.month, day.day, hour, minute)
        shown = f"{hour:02d}:{minute:02d}"
        if place(pick.wall, zone).when < now - NOW_SLACK:
            shown = _struck(shown)
        rows[-1].append(button(shown, screen, action, pick.argument))
    rows.append([button(texts.CALENDAR_HOURS, screen, action, Pick("day", day.year, day.month, day.day).argument)])
    return Screen(texts.calendar_minutes(day_name(day), hour, zone), InlineKeyboardMarkup(rows))


def read_typed_minute(text: str, hour: int) -> int | None:
    """The minutes typed while the minute grid of `hour` is open: `7`, `07`, `:07`, or `18:07`
    with that hour; None for anything else."""
    found = re.fullmatch(r"\s*(?:(\d{1,2})?:)?(\d{1,2})\s*", text)
    if found is None:
        return None
    typed_hour, minutes = found.groups()
    if typed_hour is not None and int(typed_hour) != hour:
        return None
    if typed_hour is not None and len(minutes) != 2:
        return None
    value = int(minutes)
    return value if 0 <= value <= 59 else None


# -- the presses ----------------------------------------------------------------------------------
async def calendar_pressed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, screen: str, action: str
) -> tuple[TimeChoice, str] | None:
    """(the time picked, the person's zone) once a minute is pressed; None after showing the
    next grid (or saying why the press cannot be taken). The question's own confirmation follows."""
    pick = parse_pick(pressed(update).argument)
    if pick is None:
        await answer(update, texts.CALENDAR_BUTTON_UNKNOWN, alert=True)
        return None
    if pick.step == "label":
        await answer(update)
        return None
    zone = await user_zone(context, user_id(update))
    now = current_time()
    refusal = _refusal(pick, zone, now)
    if refusal is not None:
        await answer(update, refusal, alert=True)
        return None
    await answer(update)
    if pick.step != "hour" and context.user_data is not None:
        # Away from the minute grid, a number typed is no longer minutes of the hour picked.
        context.user_data.pop(AWAITING_MINUTES, None)
    if pick.step == "open":
        today = first_day(zone, now)
        shown = month_screen(today.year, today.month, zone, now, screen, action)
        await reply(update, shown.text, reply_markup=shown.markup)
        return None
    if pick.step == "month":
        await show(update, *_screen_parts(month_screen(pick.year, pick.month, zone, now, screen, action)))
        return None
    if pick.step == "day":
        await show(update, *_screen_parts(hour_screen(pick.date, zone, now, screen, action)))
        return None
    if pick.step == "hour":
        _await_minutes(context, pick, now)
        await show(update, *_screen_parts(minute_screen(pick.date, pick.hour, zone, now, screen, action)))
        return None
    choice = choose_wall_time(pick.wall, zone, now)
    if choice.when is not None:
        await _close_calendar(update, choice.when, zone)
    return choice, zone


def _refusal(pick: Pick, zone: str, now: datetime) -> str | None:
    if pick.step == "month" and not month_in_reach(pick.year, pick.month, zone, now):
        return texts.MONTH_OUT_OF_RANGE
    if pick.step == "day":
        return day_refusal(pick.date, zone, now)
    if pick.step == "hour":
        return hour_refusal(pick.date, pick.hour, zone, now)
    if pick.step == "minute":
        # The minute itself is judged as a typed time is (past, too far, skipped by the clocks).
        return day_refusal(pick.date, zone, now) if pick.date < first_day(zone, now) else None
    return None


def _screen_parts(shown: Screen) -> tuple[str, InlineKeyboardMarkup]:
    return shown.text, shown.markup


async def _close_calendar(update: Update, when: datetime, zone: str) -> None:
    """The calendar's message says what was picked, its grid gone (pressing it again means nothing)."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        await show(update, texts.calendar_picked(format_time(when, zone)))


def _await_minutes(context: ContextTypes.DEFAULT_TYPE, pick: Pick, now: datetime) -> None:
    if context.user_data is not None:
        context.user_data[AWAITING_MINUTES] = {"hour": pick.argument, "at": now.isoformat()}


def typed_minutes(context: ContextTypes.DEFAULT_TYPE, text: str, zone: str, now: datetime) -> TimeChoice | None:
    """The time of the hour picked in the calendar at the minutes typed now, if the minute grid
    is open and the text is minutes; else None (and the picked hour is forgotten: anything typed
    answers the time question, and a bare number later means nothing)."""
    saved: Any = (context.user_data or {}).pop(AWAITING_MINUTES, None)
    if not isinstance(saved, dict):
        return None
    pick = parse_pick(str(saved.get("hour", "")))
    try:
        shown_at = datetime.fromisoformat(str(saved.get("at", "")))
    except ValueError:
        return None
    if pick is None or pick.step != "hour" or now - shown_at > MINUTES_WAIT:
        return None
    minutes = read_typed_minute(text, pick.hour)
    if minutes is None:
        return None
    return choose_wall_time(datetime(pick.year, pick.month, pick.day, pick.hour, minutes), zone, now)
