"""Times at the edges: reading what a person typed in their zone, and showing times back.

A typed time is read strictly: the usual shapes (`18:30`, `9am`, `tomorrow 9:00`, `friday 9:00`,
`2026-12-01 18:30`, `1/12 18:30`, `1 Dec 18:30`, `in 2 hours`) by Herald's own grammar, where an
hour, minute, day or month out of range is refused with the reason, never moved somewhere else.
Only phrases outside that grammar (`next week`, `saturday morning`) go to dateparser, and its
answer is kept only if it agrees with every number and name typed.

The person may type in the language Herald speaks to them as well as in English: the words of
that language the grammar needs (`завтра 9:00`, `через 2 часа`, `1 декабря 18:30`) are read as
their English ones (TYPED_WORDS), and dateparser reads that language too.

The wall time read is placed in the user's zone here, not by a library: a time the clocks skip
(spring forward) is answered with the shifted time to confirm, and a time that happens twice (fall
back) means the first of the two."""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import dateparser

import i18n
from handlers import texts
from i18n import _, pgettext
from storage.models import utc_now
from storage.recurrence import place as place  # re-exported: typed times place wall times

MAX_AHEAD = timedelta(days=365)
# A typed time this close to now counts as "now" rather than "in the past".
NOW_SLACK = timedelta(seconds=60)

# The handlers' clock: tests replace it to freeze the time a person types against.
clock: Callable[[], datetime] = utc_now


def current_time() -> datetime:
    """The current time, timezone-aware UTC, as the chat handlers see it."""
    return clock()


@dataclass(frozen=True)
class TimeChoice:
    """A parsed publication time, or the reason it cannot be used.

    `problem` is one of "past", "too_far", "unreadable", "bad_hour", "bad_minute", "bad_month",
    "no_such_day", "no_time" (a day without a time) and "dst_gap" (a time the clocks skip);
    `typed` is the part of what was typed that the reason is about, and for "dst_gap"
    `suggestion` is the time shifted by the gap, to confirm."""

    when: datetime | None = None
    problem: str | None = None
    typed: str = ""
    suggestion: datetime | None = None
    day: date | None = None


def check_time(when: datetime, now: datetime) -> TimeChoice:
    """`when` if it lies in the future and within a year of `now`, else the reason why not."""
    if when <= now - NOW_SLACK:
        return TimeChoice(problem="past")
    if when - now > MAX_AHEAD:
        return TimeChoice(problem="too_far")
    return TimeChoice(when=max(when, now))


# -- Placing a wall time in a zone: storage.recurrence.place (the scheduler's series use it too) --
def repeated_occurrence(when: datetime, zone: str) -> str | None:
    """ "first" or "second" when the local time of `when` happens twice that night, else None."""
    moment = when.astimezone(ZoneInfo(zone))
    other = moment.replace(fold=1 - moment.fold)
    if other.utcoffset() == moment.utcoffset():
        return None
    return "first" if moment.fold == 0 else "second"


def _choose(wall: datetime, zone: str, now: datetime, typed: str) -> TimeChoice:
    """A wall time the person named exactly: checked, and offered shifted if the clocks skip it."""
    placed = place(wall, zone)
    checked = check_time(placed.when, now)
    if checked.when is not None and placed.skipped:
        return TimeChoice(problem="dst_gap", typed=typed, suggestion=checked.when, day=wall.date())
    return checked


def choose_wall_time(wall: datetime, zone: str, now: datetime) -> TimeChoice:
    """A local wall time picked exactly (the calendar's day, hour and minute), checked as a typed
    one is: refused when past or too far, offered shifted when the clocks skip it."""
    return _choose(wall, zone, now, f"{wall:%H:%M}")


# -- The grammar ---------------------------------------------------------------------------------
# English names, spelled out rather than taken from `calendar`, whose names follow the locale.
MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MONTHS = {name: number for number, full in enumerate(MONTH_NAMES, 1) for name in (full, full[:3])} | {"sept": 9}
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS = {name: number for number, full in enumerate(WEEKDAY_NAMES) for name in (full, full[:3])} | {
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}
UNITS = {
    "seconds": ("s", "sec", "secs", "second", "seconds"),
    "minutes": ("m", "min", "mins", "minute", "minutes"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "days": ("d", "day", "days"),
    "weeks": ("w", "wk", "wks", "week", "weeks"),
}
UNIT_OF = {word: unit for unit, words in UNITS.items() for word in words}
NOW_WORDS = frozenset({"now", "right now", "immediately", "asap"})
# The words of Herald's other languages a typed time uses, as the grammar's English words (each
# word of the language's letters is looked up whole; digits may cling to it: "2ч", "30мин").
# A unit typed without a count ("через час") counts one. Words not here are left to dateparser.
_RU_UNITS = {
    "seconds": ("секунда", "секунду", "секунды", "секунд", "сек"),
    "minutes": ("минута", "минуту", "минуты", "минут", "мин"),
    "hours": ("час", "часа", "часов", "ч"),
    "days": ("день", "дня", "дней", "сутки", "суток", "дн"),
    "weeks": ("неделя", "неделю", "недели", "недель", "нед"),
}
_RU_WEEKDAYS = (
    ("monday", ("понедельник", "пн")),
    ("tuesday", ("вторник", "вт")),
    ("wednesday", ("среда", "среду", "ср")),
    ("thursday", ("четверг", "чт")),
    ("friday", ("пятница", "пятницу", "пт")),
    ("saturday", ("суббота", "субботу", "сб")),
    ("sunday", ("воскресенье", "вс")),
)
_RU_MONTHS = (
    ("january", ("январь", "января", "янв")),
    ("february", ("февраль", "февраля", "фев", "февр")),
    ("march", ("март", "марта", "мар")),
    ("april", ("апрель", "апреля", "апр")),
    ("may", ("май", "мая")),
    ("june", ("июнь", "июня", "июн")),
    ("july", ("июль", "июля", "июл")),
    ("august", ("август", "августа", "авг")),
    ("september", ("сентябрь", "сентября", "сен", "сент")),
    ("october", ("октябрь", "октября", "окт")),
    ("november", ("ноябрь", "ноября", "ноя", "нояб")),
    ("december", ("декабрь", "декабря", "дек")),
)
TYPED_WORDS: dict[str, dict[str, str]] = {
    "ru": {
        "сейчас": "now",
        "немедленно": "now",
        "сразу": "now",
        "сегодня": "today",
        "завтра": "tomorrow",
        "послезавтра": "day after tomorrow",
        "через": "in",
        "и": "and",
        "в": "at",
        "во": "at",
        "на": "on",
        "утра": "am",
        "ночи": "am",
        "вечера": "pm",
        "полдень": "noon",
        "полночь": "midnight",
        "полчаса": "half an hour",
        "полтора": "1.5",
        "следующий": "next",
        "следующую": "next",
        "следующее": "next",
        "следующая": "next",
        "этот": "this",
        "эту": "this",
        "это": "this",
    }
    | {word: unit for unit, words in _RU_UNITS.items() for word in words}
    | {word: day for day, words in _RU_WEEKDAYS for word in words}
    | {word: month for month, words in _RU_MONTHS for word in words},
}
_COUNTABLE = frozenset(UNITS)
_FOREIGN_WORD = re.compile(r"[^\W\d_a-z@]+")
# Words that only join the parts: "friday at 9:00", "on 1 dec", "the 1st of december".
GLUE = frozenset({"at", "on", "the", "of", "@", "for"})

_B = r"(?<![\w:./-])"  # the start of a part: not inside a number or a word
_E = r"(?![\w:./-])"
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_UNIT = "|".join(sorted(UNIT_OF, key=len, reverse=True))

COLON_TIME = re.compile(_B + r"(\d+):(\d+)(?::(\d+))?(?:\s*([ap])\.?m\.?)?" + _E)
MERIDIEM_TIME = re.compile(_B + r"(\d+)\s*([ap])\.?m\.?" + _E)
H_TIME = re.compile(_B + r"(\d{1,2})h(\d{2})?" + _E)
WORD_TIME = re.compile(_B + r"(noon|midday|midnight)" + _E)
AT_HOUR = re.compile(r"(?<![\w:./-])at\s+(\d+)" + _E)
ISO_DATE = re.compile(_B + r"(\d{4})([-./])(\d{1,2})\2(\d{1,2})" + _E)
NUMERIC_DATE = re.compile(_B + r"(\d{1,2})([./])(\d{1,2})(?:\2(\d{4}|\d{2}))?" + _E)
DAY_MONTH = re.compile(_B + rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\.?(?:\s+(\d{{4}}))?" + _E)
MONTH_DAY = re.compile(_B + rf"({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+(\d{{4}}))?" + _E)
RELATIVE_DAY = re.compile(_B + r"((?:the\s+)?day\s+after\s+tomorrow|today|tonight|tomorrow|tmrw)" + _E)
WEEKDAY = re.compile(_B + rf"(?:(?:next|this|coming)\s+)?({_WEEKDAY})" + _E)
RELATIVE_PART = re.compile(rf"(?<![\w.])(\d+(?:\.\d+)?\s*|(?:an?|one|half\s+an?)\s+)({_UNIT})" + _E)
NUMBER_BEFORE_UNIT = re.compile(rf"\d+\s*(?:{_UNIT}){_E}")


class _Refused(Exception):
    """What was typed names a time or date that cannot be: the reason, for the person."""

    def __init__(self, choice: TimeChoice) -> None:
        super().__init__(choice.problem)
        self.choice = choice


@dataclass
class _Reading:
    """The parts found in a typed time: the clock time, the day (one of several kinds), leftovers."""

    clock: time | None = None
    loose_hour: bool = False  # the hour was a bare number ("tomorrow 9", "at 8"), no am/pm
    evening: bool = False  # "tonight"
    exact: date | None = None  # a full date
    yearless: tuple[int, int] | None = None  # (month, day), the next one
    days_ahead: int | None = None  # today, tomorrow, the day after
    weekday: int | None = None  # the next one
    leftover: str = ""

    @property
    def has_day(self) -> bool:
        named = (self.exact, self.yearless, self.days_ahead, self.weekday)
        return any(part is not None for part in named)


def _clock(hour: int, minute: int, second: int, typed: str, meridiem: str | None = None) -> time:
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise _Refused(TimeChoice(problem="bad_hour", typed=typed))
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if not 0 <= hour <= 23:
        raise _Refused(TimeChoice(problem="bad_hour", typed=typed))
    if not 0 <= minute <= 59 or not 0 <= second <= 59:
        raise _Refused(TimeChoice(problem="bad_minute", typed=typed))
    return time(hour, minute, second)


def _day(year: int | None, month: int, day: int, typed: str) -> date | tuple[int, int]:
    """The date named (a (month, day) pair without a year), or the reason it does not exist."""
    if not 1 <= month <= 12:
        raise _Refused(TimeChoice(problem="bad_month", typed=typed))
    # 29 February exists in some years: a yearless one is checked against a leap year.
    last = calendar.monthrange(year if year is not None else 2000, month)[1]
    if not 1 <= day <= last:
        name = f"{day} {i18n.month_in_date(month)}" + (f" {year}" if year is not None else "")
        raise _Refused(TimeChoice(problem="no_such_day", typed=name))
    if year is None:
        return (month, day)
    if not 1 <= year <= 9999:
        raise _Refused(TimeChoice(problem="unreadable", typed=typed))
    return date(year, month, day)


def _cut(text: str, found: re.Match[str]) -> str:
    return f"{text[: found.start()]} {text[found.end() :]}"


def _read(text: str) -> _Reading:
    """The parts of a typed time, each checked; raises _Refused for a part out of range."""
    reading = _Reading()
    rest = re.sub(r"(\d{4}-\d{1,2}-\d{1,2})t(?=\d)", r"\1 ", text)

    if found := COLON_TIME.search(rest):
        hours, minutes, seconds, meridiem = found.groups()
        if len(minutes) != 2 or (seconds is not None and len(seconds) != 2):
            raise _Refused(TimeChoice(problem="bad_minute", typed=found.group(0)))
        reading.clock = _clock(int(hours), int(minutes), int(seconds or 0), found.group(0), meridiem)
        rest = _cut(rest, found)
    elif found := MERIDIEM_TIME.search(rest):
        reading.clock = _clock(int(found.group(1)), 0, 0, found.group(0), found.group(2))
        rest = _cut(rest, found)
    elif found := H_TIME.search(rest):
        reading.clock = _clock(int(found.group(1)), int(found.group(2) or 0), 0, found.group(0))
        rest = _cut(rest, found)
    elif found := WORD_TIME.search(rest):
        reading.clock = time(0) if found.group(1) == "midnight" else time(12)
        rest = _cut(rest, found)

    days = 0
    if found := ISO_DATE.search(rest):
        year, _separator, month, day = found.groups()
        _named_day(reading, int(day), int(month), year, found.group(0))
        rest, days = _cut(rest, found), days + 1
    if found := DAY_MONTH.search(rest):
        _named_day(reading, int(found.group(1)), MONTHS[found.group(2)], found.group(3), found.group(0))
        rest, days = _cut(rest, found), days + 1
    elif found := MONTH_DAY.search(rest):
        _named_day(reading, int(found.group(2)), MONTHS[found.group(1)], found.group(3), found.group(0))
        rest, days = _cut(rest, found), days + 1
    if found := RELATIVE_DAY.search(rest):
        word = found.group(1)
        reading.days_ahead = 2 if "after" in word else 0 if word in ("today", "tonight") else 1
        reading.evening = word == "tonight"
        rest, days = _cut(rest, found), days + 1
    if found := WEEKDAY.search(rest):
        reading.weekday = WEEKDAYS[found.group(1)]
        rest, days = _cut(rest, found), days + 1
    if found := NUMERIC_DATE.search(rest):
        first, separator, second, year_text = found.groups()
        # "18.30" is a time where a time is missing and 30 cannot be a month, or a day is named.
        if separator == "." and year_text is None and reading.clock is None and (int(second) > 12 or days):
            if len(second) != 2:
                raise _Refused(TimeChoice(problem="bad_minute", typed=found.group(0)))
            reading.clock = _clock(int(first), int(second), 0, found.group(0))
        else:
            year = None if year_text is None else str(int(year_text) + (2000 if len(year_text) == 2 else 0))
            _named_day(reading, int(first), int(second), year, found.group(0))
            days += 1
        rest = _cut(rest, found)
    if days > 1:
        raise _Refused(TimeChoice(problem="unreadable"))

    if reading.clock is None and (found := AT_HOUR.search(rest)):
        reading.clock, reading.loose_hour = _clock(int(found.group(1)), 0, 0, found.group(0)), True
        rest = _cut(rest, found)
    words = [word for word in rest.split() if word not in GLUE]
    # "tomorrow 9": a lone number beside a day is its hour.
    if reading.clock is None and reading.has_day and len(words) == 1 and words[0].isdigit():
        reading.clock, reading.loose_hour = _clock(int(words[0]), 0, 0, words[0]), True
        words = []
    # "tonight 8" is 20:00; "tonight 08:00" or "tonight 8am" say what they mean.
    if reading.evening and reading.loose_hour and reading.clock is not None and 1 <= reading.clock.hour < 12:
        reading.clock = reading.clock.replace(hour=reading.clock.hour + 12)
    reading.leftover = " ".join(words)
    return reading


def _named_day(reading: _Reading, day: int, month: int, year_text: str | None, typed: str) -> None:
    """Sets the reading's day: a full date, or a (month, day) to take the next of."""
    named = _day(None if year_text is None else int(year_text), month, day, typed)
    if isinstance(named, date):
        reading.exact = named
    else:
        reading.yearless = named


def _relative(text: str, zone: str, now: datetime) -> TimeChoice | None:
    """`in 2 hours`, `in 1 h 30 min`, `3 days from now`; None if the text is not of that shape.
    Days and weeks count on the wall clock (same time of day across a DST change)."""
    if text.startswith("in "):
        body = text[3:]
    elif suffix := re.search(r"\s+(?:from now|later)$", text):
        body = text[: suffix.start()]
    else:
        return None
    parts = RELATIVE_PART.findall(body)
    if not parts or any(word != "and" for word in RELATIVE_PART.sub(" ", body).replace(",", " ").split()):
        return None
    amounts = dict.fromkeys(UNITS, 0.0)
    for count, unit in parts:
        number = 0.5 if count.startswith("half") else 1.0 if not count[0].isdigit() else float(count.strip())
        amounts[UNIT_OF[unit]] += number
    try:
        wall_days = timedelta(days=amounts["days"], weeks=amounts["weeks"])
        exact = timedelta(hours=amounts["hours"], minutes=amounts["minutes"], seconds=amounts["seconds"])
        if wall_days + exact > 2 * MAX_AHEAD:
            return TimeChoice(problem="too_far")
    except OverflowError:
        return TimeChoice(problem="too_far")
    if not wall_days:
        return check_time(now + exact, now)
    local_now = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    placed = place(local_now + wall_days, zone)
    return check_time(placed.when + exact, now)


def _next_day(reading: _Reading, today: date) -> list[date]:
    """The days a reading may mean, soonest first: the first one not yet past is taken."""
    if reading.exact is not None:
        return [reading.exact]
    if reading.days_ahead is not None:
        return [today + timedelta(days=reading.days_ahead)]
    if reading.weekday is not None:
        ahead = (reading.weekday - today.weekday()) % 7
        return [today + timedelta(days=ahead), today + timedelta(days=ahead + 7)]
    if reading.yearless is not None:
        month, day = reading.yearless
        return [
            date(year, month, day)
            for year in range(today.year, today.year + 5)
            if day <= calendar.monthrange(year, month)[1]
        ]
    return [today, today + timedelta(days=1)]


def in_english(lowered: str, language: str) -> str:
    """A typed time (lower-case) with the words of `language` the grammar knows put in English:
    "завтра в 9:00" → "tomorrow at 9:00", "через час" → "in an hour"."""
    words = TYPED_WORDS.get(language.split("_")[0])
    if not words:
        return lowered

    def english(found: re.Match[str]) -> str:
        word = words.get(found.group(0).replace("ё", "е"))
        if word is None:
            return found.group(0)
        before = lowered[: found.start()]
        counted = before.split()[-1:] if before[-1:].isspace() else re.findall(r"\d+$", before)
        count = words.get(counted[0], counted[0]) if counted else ""
        if word in _COUNTABLE and not re.fullmatch(r"\d+(?:\.\d+)?", count):
            return f"a {word}"
        return word

    return _FOREIGN_WORD.sub(english, lowered)


def parse_time(text: str, zone: str, now: datetime) -> TimeChoice:
    """What the person typed (`2026-12-01 18:30`, `tomorrow 9am`, `in 2 hours`) as UTC; in
    English or in the language spoken to them (`завтра 9:00`, `через 2 часа`).

    A bare time means its next occurrence in the user's zone, a weekday the next such day, a
    day and month without a year the next such date."""
    cleaned = " ".join(text.strip().split())
    if not cleaned or len(cleaned) > 100:
        return TimeChoice(problem="unreadable")
    lowered = in_english(cleaned.lower().replace(",", " "), i18n.current())
    lowered = " ".join(lowered.split())
    if lowered in NOW_WORDS:
        return TimeChoice(when=now)
    relative = _relative(lowered, zone, now)
    if relative is not None:
        return relative
    try:
        reading = _read(lowered)
    except _Refused as refused:
        return refused.choice
    local_now = now.astimezone(ZoneInfo(zone))
    if reading.leftover:
        if re.fullmatch(r"[\d\s]+", reading.leftover):
            return TimeChoice(problem="unreadable")
        return _fallback(cleaned, lowered, zone, now)
    if reading.clock is None:
        if not reading.has_day:
            return TimeChoice(problem="unreadable")
        today = local_now.date()
        day = next((day for day in _next_day(reading, today) if day >= today), today)
        return TimeChoice(problem="no_time", typed=cleaned, day=day)
    typed = reading.clock.strftime("%H:%M")
    choice = TimeChoice(problem="past")
    for day in _next_day(reading, local_now.date()):
        choice = _choose(datetime.combine(day, reading.clock), zone, now, typed)
        if choice.problem != "past":
            return choice
    return choice


def _languages() -> list[str]:
    """The languages dateparser reads a typed time in: the one spoken, then English."""
    spoken = i18n.current().split("_")[0]
    return [spoken, "en"] if spoken != "en" else ["en"]


def _fallback(cleaned: str, lowered: str, zone: str, now: datetime) -> TimeChoice:
    """A phrase outside the grammar, read by dateparser (in the language spoken and in English)
    and kept only if it agrees with what was typed (`lowered`, its words in English where the
    grammar knows them): every number (not a count of hours or days) is in the result, every
    day name too."""
    local_now = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now,
        "DATE_ORDER": "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        parsed = dateparser.parse(cleaned, languages=_languages(), settings=settings)
    except ValueError:  # a language dateparser does not know
        parsed = dateparser.parse(cleaned, languages=["en"], settings=settings)
    if parsed is None:
        return TimeChoice(problem="unreadable")
    shown = {
        parsed.hour,
        parsed.hour % 12 or 12,
        parsed.minute,
        parsed.day,
        parsed.month,
        parsed.year,
        parsed.year % 100,
    }
    numbers = [int(number) for number in re.findall(r"\d+", NUMBER_BEFORE_UNIT.sub(" ", lowered))]
    weekdays = {WEEKDAYS[word] for word in re.findall(r"[a-z]+", lowered) if word in WEEKDAYS}
    months = {MONTHS[word] for word in re.findall(r"[a-z]+", lowered) if word in MONTHS}
    if any(number not in shown for number in numbers) or weekdays - {parsed.weekday()} or months - {parsed.month}:
        return TimeChoice(problem="unreadable")
    return _choose(parsed.replace(tzinfo=None), zone, now, f"{parsed:%H:%M}")


def quick_time(choice: str, zone: str, now: datetime) -> TimeChoice:
    """The time a quick button stands for: in 1 hour, today 18:00, tomorrow 09:00, now."""
    today = now.astimezone(ZoneInfo(zone)).date()
    if choice == "now":
        return TimeChoice(when=now)
    if choice == "1h":
        return TimeChoice(when=now + timedelta(hours=1))
    if choice == "today18":
        return check_time(place(datetime.combine(today, time(18)), zone).when, now)
    if choice == "tomorrow9":
        return check_time(place(datetime.combine(today + timedelta(days=1), time(9)), zone).when, now)
    return TimeChoice(problem="unreadable")


def shows_today_button(zone: str, now: datetime) -> bool:
    """True while "Today 18:00" still lies ahead in the user's zone."""
    return now.astimezone(ZoneInfo(zone)).hour < 18


def example_time(zone: str, now: datetime) -> str:
    """A typed-time example that is in the future wherever the person is: a week ahead, 18:30."""
    ahead = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=7)
    return f"{ahead:%Y-%m-%d} 18:30"


def explain(choice: TimeChoice, zone: str, now: datetime) -> str:
    """Why a typed or pressed time cannot be used, in the bot's words."""
    example = example_time(zone, now)
    if choice.problem == "dst_gap" and choice.suggestion is not None and choice.day is not None:
        shifted = i18n.clock(local(choice.suggestion, zone))
        return texts.dst_gap(choice.typed, i18n.day_month(choice.day), zone, shifted)
    if choice.problem == "no_time" and choice.day is not None:
        day = choice.day
        named = i18n.day(day) if day.year == local(now, zone).year else i18n.day_year(day)
        return texts.time_missing(named, f"{choice.typed} 9:00")
    return texts.time_problem(choice.problem or "unreadable", choice.typed, example)


def repeated_note(when: datetime, zone: str) -> str:
    """A line for the preview when the chosen local time happens twice (clocks go back), else ""."""
    which = repeated_occurrence(when, zone)
    if which is None:
        return ""
    moment = local(when, zone)
    offset = moment.strftime("%z")
    return texts.repeated_time(i18n.clock(moment), i18n.day_month(moment), zone, which, f"UTC{offset[:3]}:{offset[3:]}")


def warm_up() -> None:
    """Load dateparser's language data (of every language Herald speaks) now rather than on a
    person's first message."""
    for language in i18n.available():
        with i18n.speaking(language):
            parse_time("next week", "UTC", datetime.now(UTC))


def local(when: datetime, zone: str) -> datetime:
    return when.astimezone(ZoneInfo(zone))


def format_time(when: datetime, zone: str) -> str:
    """`Tue 1 Dec 18:30 (Europe/Berlin)`, with the year when it is not this year's."""
    moment = local(when, zone)
    named = i18n.day_time(moment) if moment.year == local(current_time(), zone).year else i18n.day_year_time(moment)
    return f"{named} ({zone})"


def format_relative(when: datetime, now: datetime) -> str:
    """`in 3 h 20 min`, `in 45 s`, `now`, or `5 min ago`."""
    seconds = int((when - now).total_seconds())
    ago = seconds < 0
    seconds = abs(seconds)
    if seconds < 5:
        return pgettext("relative time", "now")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    # i18n: short units of a time from now: d(ays), h(ours), min(utes), s(econds).
    if days:
        text = (_("{days} d {hours} h") if hours else _("{days} d")).format(days=days, hours=hours)
    elif hours:
        text = (_("{hours} h {minutes} min") if minutes else _("{hours} h")).format(hours=hours, minutes=minutes)
    elif minutes:
        text = _("{minutes} min").format(minutes=minutes)
    else:
        text = _("{seconds} s").format(seconds=secs)
    # i18n: {time} is how long, e.g. "3 h 20 min".
    return (_("{time} ago") if ago else _("in {time}")).format(time=text)


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


def find_zones(text: str) -> list[str]:
    """IANA zones matching what the person typed: `Europe/Berlin`, `berlin`, `New York`."""
    wanted = "_".join(text.strip().split()).lower()
    if not wanted:
        return []
    zones = _zones_by_lower_name()
    if wanted in zones:
        return [zones[wanted]]
    if wanted in ("utc", "gmt", "z"):
        return ["UTC"]
    by_city = sorted(
        zone
        for lower, zone in zones.items()
        if lower.rsplit("/", 1)[-1] == wanted and not lower.startswith(("etc/", "posix/", "right/"))
    )
    if by_city:
        return by_city
    return sorted(
        zone
        for lower, zone in zones.items()
        if wanted in lower.rsplit("/", 1)[-1] and "/" in lower and not lower.startswith(("posix/", "right/"))
    )[:8]
