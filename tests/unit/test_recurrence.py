"""The occurrences of repeating rules on the wall clock: 09:00 stays 09:00 across DST changes in
Europe/Berlin, America/New_York and Australia/Sydney (both sides of UTC, both hemispheres), a time
the clocks skip moves forward, a time they repeat is taken once, and month ends (the 31st, 29
February) fall on the month's last day when it is shorter."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from storage.recurrence import Frequency, Rule, RuleError, on_the_wall

BERLIN, NEW_YORK, SYDNEY = "Europe/Berlin", "America/New_York", "Australia/Sydney"
# The days the clocks change in 2027: (zone, spring forward, fall back).
CHANGES = [
    (BERLIN, date(2027, 3, 28), date(2027, 10, 31)),
    (NEW_YORK, date(2027, 3, 14), date(2027, 11, 7)),
    (SYDNEY, date(2027, 10, 3), date(2027, 4, 4)),
]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def occurrences(rule: Rule, after: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    moment = after
    for _ in range(count):
        following = rule.next_after(moment)
        if following is None:
            break
        found.append(following)
        moment = following
    return found


def daily(at: time, zone: str, start: date, **more: object) -> Rule:
    return Rule(Frequency.DAILY, at, zone, start=start, **more)  # type: ignore[arg-type]


# -- 09:00 stays 09:00 -----------------------------------------------------------------------------
@pytest.mark.parametrize(("zone", "spring", "autumn"), CHANGES)
@pytest.mark.parametrize("which", ["spring", "autumn"])
def test_a_daily_time_stays_on_the_wall_clock_across_a_dst_change(
    zone: str, spring: date, autumn: date, which: str
) -> None:
    change = spring if which == "spring" else autumn
    start = change - timedelta(days=3)
    rule = daily(time(9), zone, start)
    found = occurrences(rule, on_the_wall(start, time(0), zone), 7)
    assert [local(moment, zone).date() for moment in found] == [start + timedelta(days=n) for n in range(7)]
    assert all(local(moment, zone).time() == time(9) for moment in found)
    gaps = {found[n + 1] - found[n] for n in range(6)}
    # One day is an hour shorter (spring) or longer (autumn) in UTC: the wall clock does not move.
    assert gaps == {timedelta(hours=24), timedelta(hours=23 if which == "spring" else 25)}


def test_berlin_at_nine_is_eight_utc_in_winter_and_seven_in_summer() -> None:
    rule = daily(time(9), BERLIN, date(2027, 3, 27))
    assert occurrences(rule, utc(2027, 3, 26, 12), 3) == [
        utc(2027, 3, 27, 8),
        utc(2027, 3, 28, 7),
        utc(2027, 3, 29, 7),
    ]


def test_sydney_at_nine_moves_an_hour_in_utc_both_ways_in_the_southern_year() -> None:
    april = daily(time(9), SYDNEY, date(2027, 4, 3))
    # 09:00 AEDT (+11) then 09:00 AEST (+10).
    assert occurrences(april, utc(2027, 4, 2), 2) == [utc(2027, 4, 2, 22), utc(2027, 4, 3, 23)]
    october = daily(time(9), SYDNEY, date(2027, 10, 2))
    assert occurrences(october, utc(2027, 10, 1), 2) == [utc(2027, 10, 1, 23), utc(2027, 10, 2, 22)]


# -- a time the clocks skip moves forward; one they repeat is taken once ---------------------------
@pytest.mark.parametrize(
    ("zone", "day", "skipped", "expected"),
    [
        (BERLIN, date(2027, 3, 28), time(2, 30), utc(2027, 3, 28, 1, 30)),  # 03:30 CEST
        (NEW_YORK, date(2027, 3, 14), time(2, 30), utc(2027, 3, 14, 7, 30)),  # 03:30 EDT
        (SYDNEY, date(2027, 10, 3), time(2, 30), utc(2027, 10, 2, 16, 30)),  # 03:30 AEDT
    ],
)
def test_a_time_that_does_not_exist_that_day_moves_forward_by_the_gap(
    zone: str, day: date, skipped: time, expected: datetime
) -> None:
    rule = daily(skipped, zone, day - timedelta(days=1))
    found = occurrences(rule, on_the_wall(day - timedelta(days=1), time(12), zone), 2)
    assert found[0] == expected
    assert local(found[0], zone).time() == time(3, 30)
    # The next day it is 02:30 again.
    assert local(found[1], zone).date() == day + timedelta(days=1)
    assert local(found[1], zone).time() == skipped


@pytest.mark.parametrize(
    ("zone", "day", "repeated", "first", "next_day"),
    [
        (BERLIN, date(2027, 10, 31), time(2, 30), utc(2027, 10, 31, 0, 30), utc(2027, 11, 1, 1, 30)),
        (NEW_YORK, date(2027, 11, 7), time(1, 30), utc(2027, 11, 7, 5, 30), utc(2027, 11, 8, 6, 30)),
        (SYDNEY, date(2027, 4, 4), time(2, 30), utc(2027, 4, 3, 15, 30), utc(2027, 4, 4, 16, 30)),
    ],
)
def test_a_time_that_happens_twice_that_night_is_taken_once_the_first_time(
    zone: str, day: date, repeated: time, first: datetime, next_day: datetime
) -> None:
    rule = daily(repeated, zone, day - timedelta(days=1))
    found = occurrences(rule, on_the_wall(day, time(0), zone) - timedelta(minutes=1), 2)
    assert found == [first, next_day]
    # The second 02:30 (an hour after the first) is not an occurrence of its own.
    assert rule.next_after(first) == next_day
    assert rule.next_after(first + timedelta(minutes=59)) == next_day


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK, SYDNEY, "America/Santiago", "Asia/Kolkata", "Pacific/Chatham"])
@pytest.mark.parametrize("at", [time(0, 0), time(0, 30), time(2, 30), time(9, 0), time(23, 59)])
def test_every_day_of_a_year_has_exactly_one_occurrence_on_that_local_day(zone: str, at: time) -> None:
    start = date(2027, 1, 1)
    rule = daily(at, zone, start)
    found = occurrences(rule, on_the_wall(start, time(0), zone) - timedelta(hours=1), 365)
    days = [local(moment, zone).date() for moment in found]
    assert days == [start + timedelta(days=n) for n in range(365)]
    assert all(earlier < later for earlier, later in pairwise(found))
    moved = [moment for moment in found if local(moment, zone).time() != at]
    # Only on a day the clocks skip the time, and then forward by the gap (at most an hour).
    assert len(moved) <= 1
    for moment in moved:
        shift = datetime.combine(date.min, local(moment, zone).time()) - datetime.combine(date.min, at)
        assert timedelta(0) < shift <= timedelta(hours=1)


# -- weeks and months ------------------------------------------------------------------------------
def test_chosen_weekdays_every_week_at_a_new_york_evening_time() -> None:
    rule = Rule(Frequency.WEEKLY, time(18, 30), NEW_YORK, weekdays=(0, 2, 4), start=date(2027, 3, 8))
    found = occurrences(rule, utc(2027, 3, 8), 6)
    assert [local(moment, NEW_YORK).strftime("%a %d") for moment in found] == [
        "Mon 08", "Wed 10", "Fri 12", "Mon 15", "Wed 17", "Fri 19",
    ]  # fmt: skip
    # 18:30 EST is 23:30 UTC; after the change (14 March) 18:30 EDT is 22:30 UTC.
    assert found[0] == utc(2027, 3, 8, 23, 30) and found[3] == utc(2027, 3, 15, 22, 30)


def test_every_two_weeks_on_friday_starts_with_the_coming_friday() -> None:
    # Created on Saturday 6 March 2027: the first is the next Friday, then every other Friday.
    now = utc(2027, 3, 6, 12)
    started = Rule(Frequency.WEEKLY, time(10), BERLIN, interval=2, weekdays=(4,)).starting(now)
    assert started is not None
    rule, first = started
    assert first == utc(2027, 3, 12, 9)
    assert [local(moment, BERLIN).date() for moment in occurrences(rule, now, 4)] == [
        date(2027, 3, 12), date(2027, 3, 26), date(2027, 4, 9), date(2027, 4, 23),
    ]  # fmt: skip
    assert local(occurrences(rule, now, 4)[2], BERLIN).time() == time(10)  # CEST by then


def test_the_31st_of_every_month_falls_on_the_last_day_of_shorter_months() -> None:
    rule = Rule(Frequency.MONTHLY, time(9), BERLIN, month_day=31, start=date(2027, 1, 1))
    found = occurrences(rule, utc(2027, 1, 1), 7)
    assert [local(moment, BERLIN).date() for moment in found] == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30),
        date(2027, 5, 31), date(2027, 6, 30), date(2027, 7, 31),
    ]  # fmt: skip
    assert all(local(moment, BERLIN).time() == time(9) for moment in found)


def test_the_29th_is_29_february_in_a_leap_year_and_the_28th_otherwise() -> None:
    rule = Rule(Frequency.MONTHLY, time(8), SYDNEY, month_day=29, start=date(2027, 1, 1))
    days = [local(moment, SYDNEY).date() for moment in occurrences(rule, utc(2027, 1, 1), 15)]
    assert date(2027, 2, 28) in days and date(2028, 2, 29) in days
    assert date(2028, 2, 28) not in days
    assert [day.month for day in days] == [*range(1, 13), 1, 2, 3]


def test_every_two_months_counts_months_from_the_start() -> None:
    rule = Rule(Frequency.MONTHLY, time(9), NEW_YORK, interval=2, month_day=31, start=date(2027, 1, 10))
    days = [local(moment, NEW_YORK).date() for moment in occurrences(rule, utc(2027, 1, 1), 4)]
    assert days == [date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31), date(2027, 7, 31)]


def test_the_first_of_every_month_starting_after_it_begins_next_month() -> None:
    now = utc(2027, 3, 1, 12)  # 13:00 in Berlin: 09:00 on the 1st is past
    started = Rule(Frequency.MONTHLY, time(9), BERLIN, month_day=1).starting(now)
    assert started is not None and started[1] == utc(2027, 4, 1, 7)


def test_every_third_day_counts_from_the_start_day() -> None:
    rule = daily(time(7), SYDNEY, date(2027, 5, 1), interval=3)
    days = [local(moment, SYDNEY).date() for moment in occurrences(rule, utc(2027, 5, 3), 3)]
    assert days == [date(2027, 5, 4), date(2027, 5, 7), date(2027, 5, 10)]


# -- ends ------------------------------------------------------------------------------------------
def test_until_includes_its_day_and_then_the_rule_ends() -> None:
    rule = daily(time(9), BERLIN, date(2027, 3, 1), until=date(2027, 3, 3))
    found = occurrences(rule, utc(2027, 2, 28), 10)
    assert [local(moment, BERLIN).date() for moment in found] == [date(2027, 3, d) for d in (1, 2, 3)]
    assert rule.next_after(found[-1]) is None


def test_a_rule_that_ends_before_its_first_time_never_starts() -> None:
    now = utc(2027, 3, 3, 12)  # 13:00 in Berlin
    ends_today = Rule(Frequency.DAILY, time(9), BERLIN, until=date(2027, 3, 3))
    assert ends_today.starting(now) is None


@pytest.mark.parametrize(
    "make",
    [
        lambda: Rule(Frequency.WEEKLY, time(9), BERLIN),  # no weekday
        lambda: Rule(Frequency.MONTHLY, time(9), BERLIN, month_day=32),
        lambda: Rule(Frequency.WEEKLY, time(9), BERLIN, weekdays=(7,)),
        lambda: Rule(Frequency.DAILY, time(9), BERLIN, interval=0),
        lambda: Rule(Frequency.MONTHLY, time(9), BERLIN, interval=13),
        lambda: Rule(Frequency.DAILY, time(9), BERLIN, count=0),
    ],
)
def test_a_rule_that_cannot_repeat_is_refused(make: object) -> None:
    with pytest.raises(RuleError):
        make()  # type: ignore[operator]
