"""Posting-schedule slots as people type and read them: `mon-fri 9:00, 18:00`, `sat 11:30`,
`weekends 10am`, `daily 8:15` read into slots; slots written back a weekday a line, in the reader's
language. Russian days are read too: `пн-пт 9:00`, `будни 10:00`, `сб, вс 11:30`, `выходные 10am`.

Read strictly, like typed times (handlers/when.py): an hour or minute out of range, or a word that
is neither a day nor a time, is refused with the word named, never guessed at."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time

import i18n
from storage.queue import MAX_SLOTS, Slot
from storage.recurrence import clock_time

_WEEKDAY_WORDS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Russian days as people type them: the abbreviation, the name, and the name as said after "в"/"по".
_RUSSIAN_WEEKDAYS = (
    ("пн", "пон", "понедельник", "понедельникам"),
    ("вт", "вто", "вторник", "вторникам"),
    ("ср", "сре", "среда", "среду", "средам"),
    ("чт", "чет", "четверг", "четвергам"),
    ("пт", "пят", "пятница", "пятницу", "пятницам"),
    ("сб", "суб", "суббота", "субботу", "субботам"),
    ("вс", "вос", "воскресенье", "воскресеньям"),
)
WEEKDAYS = (
    {name: number for number, full in enumerate(_WEEKDAY_WORDS) for name in (full, full[:3])}
    | {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
    | {name: number for number, names in enumerate(_RUSSIAN_WEEKDAYS) for name in names}
)
DAY_GROUPS = {
    "daily": tuple(range(7)),
    "everyday": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "workdays": tuple(range(5)),
    "weekends": (5, 6),
    "weekend": (5, 6),
    "ежедневно": tuple(range(7)),
    "будни": tuple(range(5)),
    "будням": tuple(range(5)),
    "выходные": (5, 6),
    "выходным": (5, 6),
}
# Words that only join the parts: "mon and wed at 9:00", "every monday", "пн и ср в 9:00", "по будням".
GLUE = frozenset({"and", "at", "on", "every", "&", "+", "и", "в", "во", "по", "каждый", "каждую", "каждое"})

COLON_TIME = re.compile(r"^(\d{1,2})[:.](\d{1,2})(?:([ap])m)?$")
MERIDIEM_TIME = re.compile(r"^(\d{1,2})([ap])m$")
DAY_RANGE = re.compile(r"^([a-zа-яё]+)-([a-zа-яё]+)$")


@dataclass(frozen=True)
class TypedSlots:
    """Slots read from what was typed, or the reason they cannot be: `problem` is "empty",
    "unknown" (`typed` is the word), "bad_hour", "bad_minute" (`typed` is the time), "no_time"
    (days without a time) or "too_many"."""

    slots: list[Slot] = field(default_factory=list)
    problem: str | None = None
    typed: str = ""


class _Refused(Exception):
    def __init__(self, problem: str, typed: str = "") -> None:
        super().__init__(problem)
        self.problem, self.typed = problem, typed


def _clock(hour: int, minute: int, typed: str, meridiem: str | None = None) -> time:
    try:
        return clock_time(hour, minute, meridiem)
    except ValueError as problem:
        raise _Refused(str(problem), typed) from None


def _time_of(word: str) -> time | None:
    if found := COLON_TIME.match(word):
        hours, minutes, meridiem = found.groups()
        if len(minutes) != 2:
            raise _Refused("bad_minute", word)
        return _clock(int(hours), int(minutes), word, meridiem)
    if found := MERIDIEM_TIME.match(word):
        return _clock(int(found.group(1)), 0, word, found.group(2))
    return None


def _days_of(word: str) -> tuple[int, ...] | None:
    if word in WEEKDAYS:
        return (WEEKDAYS[word],)
    if word in DAY_GROUPS:
        return DAY_GROUPS[word]
    if found := DAY_RANGE.match(word):
        first, last = found.groups()
        if first in WEEKDAYS and last in WEEKDAYS:
            start, end = WEEKDAYS[first], WEEKDAYS[last]
            # "fri-mon" wraps over the weekend.
            return tuple((start + step) % 7 for step in range((end - start) % 7 + 1))
    return None


def _words(text: str) -> list[str]:
    lowered = text.lower()
    lowered = re.sub(r"every\s*day|каждый\s*день", "daily", lowered)
    lowered = re.sub(r"(\d)\s*([ap])\.?m\.?(?![a-z])", r"\1\2m", lowered)
    lowered = re.sub(r"\s*(?:-|–|—|\bto\b|\bthrough\b|\btill\b|\bдо\b)\s*(?=[a-zа-яё])", "-", lowered)
    return [word for word in re.split(r"[\s,;/]+", lowered) if word and word not in GLUE]


def parse_slots(text: str, targets: tuple[str, ...] = ()) -> TypedSlots:
    """The slots typed: groups of days and times, each group's times on each of its days
    ("mon-fri 9:00, 18:00; sat 11:30"); times with no day before or after them are every day's."""
    try:
        words = _words(text)
        if not words:
            return TypedSlots(problem="empty")
        found: set[Slot] = set()
        days: set[int] = set()
        times: set[time] = set()
        after_time = False
        for word in words:
            if (clock := _time_of(word)) is not None:
                times.add(clock)
                after_time = True
                continue
            named = _days_of(word)
            if named is None:
                raise _Refused("unknown", word)
            if days and after_time:
                # A day after times: the group before is complete, a new one starts.
                found |= {Slot(day, at, targets) for day in days for at in times}
                days, times = set(), set()
            days.update(named)
            after_time = False
        if not times:
            raise _Refused("no_time", " ".join(words))
        found |= {Slot(day, at, targets) for day in days or range(7) for at in times}
    except _Refused as refused:
        return TypedSlots(problem=refused.problem, typed=refused.typed)
    if len(found) > MAX_SLOTS:
        return TypedSlots(problem="too_many")
    return TypedSlots(slots=sorted(found))


def slot_name(slot: Slot) -> str:
    """`Mon 09:00` (the weekday in the reader's language)."""
    return f"{i18n.weekday_names()[slot.weekday]} {slot.at:%H:%M}"


def schedule_lines(slots: list[Slot]) -> list[str]:
    """A weekday a line, its times in order: `Mon: 09:00, 18:00` (days without slots left out)."""
    lines = []
    for weekday, name in enumerate(i18n.weekday_names()):
        times = sorted(slot.at for slot in slots if slot.weekday == weekday)
        if times:
            lines.append(f"{name}: " + ", ".join(f"{at:%H:%M}" for at in times))
    return lines


def preset_slots(code: str) -> list[Slot] | None:
    """The slots a common-slots button stands for (`1111100-0900`: Monday to Friday at 09:00);
    None for data of another shape."""
    mask, _, clock = code.partition("-")
    if len(mask) != 7 or set(mask) - {"0", "1"} or "1" not in mask or len(clock) != 4 or not clock.isdigit():
        return None
    hour, minute = int(clock[:2]), int(clock[2:])
    if hour > 23 or minute > 59:
        return None
    return [Slot(day, time(hour, minute)) for day, on in enumerate(mask) if on == "1"]
