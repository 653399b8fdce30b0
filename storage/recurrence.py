"""Times on a person's wall clock: where a local time of day falls on a given day in a zone, and
the occurrences of a repeating rule (every day, chosen weekdays every N weeks, a day of the month)
at a local time, computed on the wall clock so that 09:00 stays 09:00 across DST changes.

A local time the clocks skip that day (spring forward) moves forward by the gap; one they repeat
(fall back) is taken once, the first time. Both the typed times of the chat and the scheduler's
series rely on `place`, and so can anything else that lives on the wall clock (queue slots)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

# How far ahead a rule is searched for its next occurrence before it counts as having none.
SEARCH_YEARS = 40
MAX_INTERVAL = {"daily": 365, "weekly": 52, "monthly": 12}


@dataclass(frozen=True)
class Placed:
    """A local wall time as an instant: `when` (UTC), and whether the clocks skip or repeat it."""

    when: datetime
    skipped: bool = False  # the wall time does not exist; `when` is it shifted forward by the gap
    repeated: bool = False  # the wall time happens twice; `when` is the first


def place(wall: datetime, zone: str) -> Placed:
    """The instant a naive local wall time stands for in `zone`."""
    tz = ZoneInfo(zone)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return Placed(first.astimezone(UTC))
    # fold=0 reads a skipped time with the offset before the change: the wall time plus the gap.
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return Placed(first.astimezone(UTC), skipped=True)
    return Placed(first.astimezone(UTC), repeated=True)


def on_the_wall(day: date, at: time, zone: str) -> datetime:
    """The UTC instant of `at` on the local `day` in `zone` (a skipped time moved forward, a
    repeated one the first time), at the millisecond precision the stores keep."""
    return place(datetime.combine(day, at.replace(second=0, microsecond=0)), zone).when


def local_day(moment: datetime, zone: str) -> date:
    """The day `moment` falls on in `zone`."""
    return moment.astimezone(ZoneInfo(zone)).date()


def clock_time(hour: int, minute: int, meridiem: str | None = None) -> time:
    """A time of day as typed: 0–23 h, or 1–12 with `meridiem` "a"/"p". Raises ValueError
    "bad_hour" or "bad_minute" (the typed rules and slots each name the problem their way)."""
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise ValueError("bad_hour")
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if not 0 <= hour <= 23:
        raise ValueError("bad_hour")
    if not 0 <= minute <= 59:
        raise ValueError("bad_minute")
    return time(hour, minute)


def last_day_of_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class RuleError(ValueError):
    """A rule that cannot repeat: no weekday chosen, a day of the month out of 1–31, an interval
    out of range."""


@dataclass(frozen=True)
class Rule:
    """When a series repeats: every `interval` days, weeks (on `weekdays`, Monday = 0) or months
    (on `month_day`: a month too short for it takes its last day), at the local time `at` in
    `zone`; from the local day `start` (the days, weeks or months are counted from it) up to and
    including `until`. How many times it runs at most is the series' (see storage/series.py)."""

    frequency: Frequency
    at: time
    zone: str
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    month_day: int = 1
    start: date | None = None
    until: date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.interval <= MAX_INTERVAL[self.frequency.value]:
            raise RuleError(f"an interval of {self.interval} {self.frequency.value}")
        if self.frequency is Frequency.WEEKLY and (
            not self.weekdays or any(not 0 <= day <= 6 for day in self.weekdays)
        ):
            raise RuleError("a weekly rule needs weekdays from 0 (Monday) to 6")
        if self.frequency is Frequency.MONTHLY and not 1 <= self.month_day <= 31:
            raise RuleError("a day of the month goes from 1 to 31")
        if self.count is not None and self.count < 1:
            raise RuleError("a series runs at least once")
        ZoneInfo(self.zone)  # an unknown zone fails here, not at the first occurrence

    def occurs_on(self, day: date) -> bool:
        """True if an occurrence falls on the local `day`."""
        if (self.start is not None and day < self.start) or (self.until is not None and day > self.until):
            return False
        start = self.start or day
        if self.frequency is Frequency.DAILY:
            return (day - start).days % self.interval == 0
        if self.frequency is Frequency.WEEKLY:
            weeks = (_monday(day) - _monday(start)).days // 7
            return day.weekday() in self.weekdays and weeks % self.interval == 0
        months = _month_number(day) - _month_number(start)
        return months % self.interval == 0 and day.day == min(self.month_day, last_day_of_month(day.year, day.month))

    def days_from(self, day: date) -> Iterator[date]:
        """The local days an occurrence falls on, from `day` on, soonest first (ends at `until`)."""
        first = max(day, self.start) if self.start is not None else day
        last = first + timedelta(days=366 * SEARCH_YEARS)
        if self.until is not None:
            last = min(last, self.until)
        if self.frequency is Frequency.MONTHLY:
            year, month = first.year, first.month
            while date(year, month, 1) <= last:
                candidate = date(year, month, min(self.month_day, last_day_of_month(year, month)))
                if first <= candidate <= last and self.occurs_on(candidate):
                    yield candidate
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            return
        step = timedelta(days=self.interval if self.frequency is Frequency.DAILY else 1)
        candidate = first
        if self.frequency is Frequency.DAILY and self.start is not None:
            # The first day counted from the start: later ones follow `interval` days apart.
            behind = (first - self.start).days % self.interval
            candidate = first + timedelta(days=(self.interval - behind) % self.interval)
        while candidate <= last:
            if self.occurs_on(candidate):
                yield candidate
            candidate += step

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after `moment` (UTC), or None once the rule has ended."""
        # The day before too: an occurrence late on the local day before may still lie ahead of a
        # moment early in UTC terms only if the zone is behind; one day back covers every zone.
        for day in self.days_from(local_day(moment, self.zone) - timedelta(days=1)):
            when = on_the_wall(day, self.at, self.zone)
            if when > moment:
                return when
        return None

    def starting(self, now: datetime) -> tuple[Rule, datetime] | None:
        """The rule counted from its first occurrence after `now` (so "every 2 weeks on Friday"
        starts this Friday, not one chosen by the calendar), and that occurrence; None if it
        never occurs (it ends before it would)."""
        loose = replace(self, start=local_day(now, self.zone) - timedelta(days=1), interval=1)
        first = loose.next_after(now)
        if first is None:
            return None
        return replace(self, start=local_day(first, self.zone)), first
