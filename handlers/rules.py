"""Repeating rules typed in the time question: `every monday 9:00`, `every day 18:30`, `every 2
weeks on mon, thu at 9`, `on the 15th of every month at 10:00`, each optionally ending
`… until 31 jan` or `… 10 times` — read strictly into a storage.recurrence.Rule in the person's
zone, or refused with the reason (never guessed), and the next times such a rule gives.

Only a phrase that speaks of repeating (`every`, `each`, `daily`, `weekly`, `monthly`) is read
here; anything else is a one-off time for handlers/when.py. The same rules typed in Russian
(`каждый понедельник 9:00`, `ежедневно 8:15`, `по будням 9:00`) are read as the English they say."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import i18n
from handlers.when import (
    AT_HOUR,
    COLON_TIME,
    DAY_MONTH,
    H_TIME,
    ISO_DATE,
    MERIDIEM_TIME,
    MONTH_DAY,
    MONTHS,
    NUMERIC_DATE,
    WEEKDAYS,
    WORD_TIME,
)
from storage.recurrence import Frequency, Rule, RuleError, clock_time

# A series ends after this many times at most when it is given a number of times.
MAX_COUNT = 1000
# How far ahead an end date may lie.
MAX_UNTIL = timedelta(days=366 * 10)

REPEAT_WORDS = re.compile(r"(?<![\w-])(every|each|daily|weekly|monthly|weekdays|weekends)(?![\w-])")
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_B = r"(?<![\w:./-])"
_E = r"(?![\w:./-])"
COUNT = re.compile(_B + r"(?:for\s+)?(\d+)\s*(?:times|x|occurrences)" + _E)
UNTIL = re.compile(r"(?<![\w-])(?:until|till|til|through|thru|ending(?:\s+on)?|up\s+to)\s+(.+)$")
FOREVER = re.compile(r"(?<![\w-])(?:forever|for\s+ever|never\s+ending|no\s+end|with\s+no\s+end)(?![\w-])")
INTERVAL = re.compile(r"(?<![\w-])every\s+(other|second|third|fourth|\d+)\s+(days?|weeks?|months?)(?![\w-])")
UNIT = re.compile(r"(?<![\w-])(?:every|each)\s+(day|week|month)(?![\w-])|(?<![\w-])(daily|weekly|monthly)(?![\w-])")
DAY_RANGE = re.compile(rf"(?<![\w-])({_WEEKDAY})s?\s*(?:-|–|to)\s*({_WEEKDAY})s?(?![\w-])")
DAY_NAME = re.compile(rf"(?<![\w-])({_WEEKDAY})s?(?![\w-])")
WEEK_PART = re.compile(r"(?<![\w-])(weekdays?|weekends?)(?![\w-])")
MONTH_DAY_NUMBER = re.compile(r"(?<![\w:./-])(?:day\s+(\d{1,3})|(\d{1,3})(?:st|nd|rd|th))(?![\w:./-])")
LAST_DAY = re.compile(r"(?<![\w-])last\s+day(?![\w-])")
# Words that only join the parts: "every monday and thursday at 9", "on the 15th of every month".
GLUE = frozenset({"every", "each", "on", "at", "the", "of", "and", "&", "in", "a", "@", "repeat", "repeating"})
ORDINAL_WORDS = {"other": 2, "second": 2, "third": 3, "fourth": 4}


@dataclass(frozen=True)
class RuleChoice:
    """A typed rule, or the reason it cannot be used.

    `problem` is one of "unreadable", "no_time", "bad_hour", "bad_minute", "no_days" (weeks
    without weekdays), "no_month_day" (months without a day), "bad_interval", "bad_month_day",
    "bad_count", "bad_until" (no such date), "until_past" (it ends before its first time) and
    "too_far"; `typed` is the part of what was typed that the reason is about."""

    rule: Rule | None = None
    problem: str | None = None
    typed: str = ""


class _Refused(Exception):
    def __init__(self, problem: str, typed: str = "") -> None:
        super().__init__(problem)
        self.choice = RuleChoice(problem=problem, typed=typed)


# Russian rules (`каждый понедельник 9:00`, `ежедневно 8:15`, `по будням 9:00`, `каждые 2 недели по пн,
# чт в 9`, `15 числа каждого месяца в 10:00`, `… до 31 января`, `… 10 раз`) are read as the English
# words they say: each (pattern, English) in order, on the lower-cased text.
_W = r"(?<!\w)(?:"
_WE = r")(?!\w)"
_RU_WEEKDAYS = {
    "mon": r"понедельник\w*|пн",
    "tue": r"вторник\w*|вт",
    "wed": r"сред[аыуеа]\w*|ср",
    "thu": r"четверг\w*|чт",
    "fri": r"пятниц\w*|пт",
    "sat": r"суббот\w*|сб",
    "sun": r"воскресень\w*|вс",
}
_RU_MONTHS = {
    "jan": r"январ\w*|янв",
    "feb": r"феврал\w*|фев",
    "mar": r"март\w*|мар",
    "apr": r"апрел\w*|апр",
    "may": r"ма[йяе]",
    "jun": r"июн\w*",
    "jul": r"июл\w*",
    "aug": r"август\w*|авг",
    "sep": r"сентябр\w*|сен",
    "oct": r"октябр\w*|окт",
    "nov": r"ноябр\w*|ноя",
    "dec": r"декабр\w*|дек",
}
_RU_WORDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(_W + pattern + _WE), english)
    for pattern, english in [
        (r"ежедневно", "daily"),
        (r"еженедельно", "weekly"),
        (r"ежемесячно", "monthly"),
        (r"(?:по|в)\s+будн(?:ям|и)|будни", "weekdays"),
        # "в выходные" may be this weekend only: a one-off time, not a rule.
        (r"по\s+выходным|кажд\w*\s+выходн\w*", "weekends"),
        (r"последн\w*\s+(?:день|числ\w*)", "last day"),
        (r"(?:один\s+|1\s+)?раз\s+в", "every"),
        (r"кажд\w*", "every"),
        (r"(\d{1,3})(?:-?го|-?е)?\s+числ\w*", r"\1th"),
        (r"(\d{1,3})-?го", r"\1th"),
        (r"(\d+)\s+раза?", r"\1 times"),
        (r"бессрочно|всегда|без\s+конца", "forever"),
        (r"(\d{1,2}(?::\d{2})?)\s+(?:утра|ночи)", r"\1am"),
        (r"(\d{1,2}(?::\d{2})?)\s+вечера", r"\1pm"),
        (r"полдень", "noon"),
        (r"полночь", "midnight"),
        (r"дн(?:я|ей)|день|сутки|суток", "day"),
        (r"недел[юиья]|недель", "week"),
        (r"месяц\w*", "month"),
        *(
            (rf"(?:с\s+)?(?:{_RU_WEEKDAYS[a]})\s+(?:по|до)\s+(?:{_RU_WEEKDAYS[b]})", f"{a} to {b}")
            for a in _RU_WEEKDAYS
            for b in _RU_WEEKDAYS
        ),
        *((rf"по\s+(?:{names})", f"every {day}") for day, names in _RU_WEEKDAYS.items()),
        *((names, day) for day, names in _RU_WEEKDAYS.items()),
        *((names, month) for month, names in _RU_MONTHS.items()),
        (r"(?:до|по)", "until"),
        (r"во?", "at"),
        (r"и", "and"),
        (r"на|с|со|начиная", "on"),
        (r"повтор\w*", "repeat"),
    ]
]
_CYRILLIC = re.compile(r"[а-яё]")


def _in_english(text: str) -> str:
    """`text` lower-cased, a Russian rule's words put as the English ones the parser reads."""
    lowered = text.lower()
    if not _CYRILLIC.search(lowered):
        return lowered
    for pattern, english in _RU_WORDS:
        lowered = pattern.sub(english, lowered)
    return lowered


def speaks_of_repeating(text: str) -> bool:
    """True if the typed text asks for a repeating time (it is read by `parse_rule`)."""
    return REPEAT_WORDS.search(_in_english(text)) is not None


def _cut(text: str, found: re.Match[str]) -> str:
    return f"{text[: found.start()]} {text[found.end() :]}"


def read_clock(text: str) -> tuple[time | None, str]:
    """The time of day in `text` (`9:00`, `6pm`, `18h30`, `noon`, `at 9`) and the text without
    it; (None, text) when there is none. Raises _Refused for an hour or minute out of range."""
    if found := COLON_TIME.search(text):
        hours, minutes, seconds, meridiem = found.groups()
        if len(minutes) != 2 or seconds is not None:
            raise _Refused("bad_minute", found.group(0))
        return _clock(int(hours), int(minutes), found.group(0), meridiem), _cut(text, found)
    if found := MERIDIEM_TIME.search(text):
        return _clock(int(found.group(1)), 0, found.group(0), found.group(2)), _cut(text, found)
    if found := H_TIME.search(text):
        return _clock(int(found.group(1)), int(found.group(2) or 0), found.group(0)), _cut(text, found)
    if found := WORD_TIME.search(text):
        return (time(0) if found.group(1) == "midnight" else time(12)), _cut(text, found)
    if found := AT_HOUR.search(text):
        return _clock(int(found.group(1)), 0, found.group(0)), _cut(text, found)
    return None, text


def _clock(hour: int, minute: int, typed: str, meridiem: str | None = None) -> time:
    try:
        return clock_time(hour, minute, meridiem)
    except ValueError as problem:
        raise _Refused(str(problem), typed) from None


def read_day(text: str, today: date) -> date:
    """A date typed on its own (`31 jan`, `jan 31 2027`, `2027-01-31`, `31/1`, `31.01.2027`): one
    without a year is the next such day from `today` on. Raises _Refused if it is no date."""
    text = " ".join(text.replace(",", " ").split())
    year: int | None
    if found := ISO_DATE.fullmatch(text):
        year, month, day = int(found.group(1)), int(found.group(3)), int(found.group(4))
    elif found := DAY_MONTH.fullmatch(text):
        day, month = int(found.group(1)), MONTHS[found.group(2)]
        year = int(found.group(3)) if found.group(3) else None
    elif found := MONTH_DAY.fullmatch(text):
        day, month = int(found.group(2)), MONTHS[found.group(1)]
        year = int(found.group(3)) if found.group(3) else None
    elif found := NUMERIC_DATE.fullmatch(text):
        day, month = int(found.group(1)), int(found.group(3))
        year_text = found.group(4)
        year = None if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    else:
        raise _Refused("bad_until", text)
    if not 1 <= month <= 12 or not 1 <= (year or today.year) <= 9999:
        raise _Refused("bad_until", text)
    for candidate_year in [year] if year is not None else [today.year, today.year + 1, today.year + 4]:
        assert candidate_year is not None
        if day <= calendar.monthrange(candidate_year, month)[1] and day >= 1:
            candidate = date(candidate_year, month, day)
            if year is not None or candidate >= today:
                return candidate
    raise _Refused("bad_until", text)


def parse_rule(text: str, zone: str, now: datetime) -> RuleChoice:
    """The rule typed (see the module's examples), at its local time in `zone`."""
    lowered = " ".join(_in_english(text).replace(",", " ").replace(";", " ").split())
    if not lowered or len(lowered) > 200:
        return RuleChoice(problem="unreadable")
    try:
        return _parse(lowered, zone, now)
    except _Refused as refused:
        return refused.choice


def _parse(rest: str, zone: str, now: datetime) -> RuleChoice:
    today = now.astimezone(ZoneInfo(zone)).date()
    count: int | None = None
    until: date | None = None
    if found := COUNT.search(rest):
        count = int(found.group(1))
        if not 1 <= count <= MAX_COUNT:
            raise _Refused("bad_count", found.group(0))
        rest = _cut(rest, found)
    if found := UNTIL.search(rest):
        # The end date is the rest of the phrase, its time of day excepted ("until 31 jan at 9").
        ending, tail = found.group(1), ""
        clock_in_end, ending = read_clock(ending)
        if clock_in_end is not None:
            tail = "at " + clock_in_end.strftime("%H:%M")
        until = read_day(" ".join(word for word in ending.split() if word not in ("at", "@", "the")), today)
        if until < today:
            raise _Refused("until_past", found.group(1).strip())
        if until - today > MAX_UNTIL:
            raise _Refused("too_far", found.group(1).strip())
        rest = _cut(rest, found) + " " + tail
    if found := FOREVER.search(rest):
        rest = _cut(rest, found)
    at, rest = read_clock(rest)

    interval, unit = 1, ""
    if found := INTERVAL.search(rest):
        amount = found.group(1)
        interval = ORDINAL_WORDS[amount] if amount in ORDINAL_WORDS else int(amount)
        unit = found.group(2).rstrip("s")
        rest = _cut(rest, found)
    elif found := UNIT.search(rest):
        unit = (found.group(1) or found.group(2)).replace("daily", "day").replace("ly", "")
        rest = _cut(rest, found)

    weekdays: set[int] = set()
    while found := WEEK_PART.search(rest):
        weekdays |= {0, 1, 2, 3, 4} if found.group(1).startswith("weekday") else {5, 6}
        rest = _cut(rest, found)
    while found := DAY_RANGE.search(rest):
        first, last = WEEKDAYS[found.group(1)], WEEKDAYS[found.group(2)]
        weekdays |= {(first + step) % 7 for step in range((last - first) % 7 + 1)}
        rest = _cut(rest, found)
    while found := DAY_NAME.search(rest):
        weekdays.add(WEEKDAYS[found.group(1)])
        rest = _cut(rest, found)

    month_day: int | None = None
    if found := LAST_DAY.search(rest):
        month_day, rest = 31, _cut(rest, found)
    elif found := MONTH_DAY_NUMBER.search(rest):
        typed = found.group(0)
        month_day = int(found.group(1) or found.group(2))
        if not 1 <= month_day <= 31:
            raise _Refused("bad_month_day", typed)
        rest = _cut(rest, found)
    # "on the 15th of every month": "month" stands alone once "every" went with the glue.
    words = [word for word in rest.split() if word not in GLUE]
    if words in (["month"], ["months"]) and not unit:
        unit, words = "month", []
    if words:
        raise _Refused("unreadable", " ".join(words))

    frequency = _frequency(unit, weekdays, month_day)
    if at is None:
        raise _Refused("no_time")
    try:
        rule = Rule(
            frequency,
            at,
            zone,
            interval=interval,
            weekdays=tuple(sorted(weekdays)),
            month_day=month_day or 1,
            until=until,
            count=count,
        )
    except RuleError as error:
        raise _Refused("bad_interval", str(interval)) from error
    if rule.starting(now) is None:
        raise _Refused("until_past", i18n.date_year(until) if until else "")
    return RuleChoice(rule=rule)


def _frequency(unit: str, weekdays: set[int], month_day: int | None) -> Frequency:
    """Which kind of rule the parts found make; _Refused if they do not fit together."""
    if month_day is not None:
        if weekdays or unit not in ("", "month"):
            raise _Refused("unreadable")
        return Frequency.MONTHLY
    if weekdays:
        if unit not in ("", "week"):
            raise _Refused("unreadable")
        return Frequency.WEEKLY
    if unit == "day":
        return Frequency.DAILY
    if unit == "week":
        raise _Refused("no_days")
    if unit == "month":
        raise _Refused("no_month_day")
    raise _Refused("unreadable")


def with_end(rule: Rule, *, until: date | None = None, count: int | None = None) -> Rule:
    """The rule ending on `until` or after `count` times (neither: never)."""
    return replace(rule, until=until, count=count)


def next_times(rule: Rule, now: datetime, count: int = 3) -> list[datetime]:
    """The rule's first `count` times after `now` (fewer when it ends sooner)."""
    started = rule.starting(now)
    if started is None:
        return []
    rule, moment = started
    found: list[datetime] = [moment]
    limit = min(count, rule.count) if rule.count is not None else count
    while len(found) < limit:
        following = rule.next_after(found[-1])
        if following is None:
            break
        found.append(following)
    return found


def time_of_day(text: str) -> time | None:
    """A time of day typed alone (`9:00`, `18:30`, `6pm`, `9`); None if that is not all it is or
    it is out of range."""
    lowered = " ".join(_in_english(text).split())
    if lowered.isdigit():
        lowered = f"at {lowered}"
    try:
        at, rest = read_clock(lowered)
    except _Refused:
        return None
    return at if at is not None and not [word for word in rest.split() if word not in GLUE] else None


def end_day(text: str, zone: str, now: datetime) -> RuleChoice | date:
    """The last day of a series typed alone (`31 jan`, `2027-01-31`): the day, or why not."""
    today = now.astimezone(ZoneInfo(zone)).date()
    try:
        words = _in_english(text).split()
        day = read_day(" ".join(word for word in words if word not in ("on", "the", "until")), today)
    except _Refused as refused:
        return refused.choice
    if day - today > MAX_UNTIL:
        return RuleChoice(problem="too_far", typed=text.strip())
    return day
