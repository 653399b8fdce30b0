"""Repeating rules typed in the time question (handlers/rules.py): the shapes people type read into
the rule they mean, in their zone (both sides of UTC), the next times that rule gives (09:00
staying 09:00 across a DST change), and everything else refused with the reason — never guessed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from handlers import texts
from handlers.repeat import rule_text
from handlers.rules import end_day, next_times, parse_rule, speaks_of_repeating, time_of_day
from storage.recurrence import Frequency, Rule

BERLIN, NEW_YORK, TOKYO = "Europe/Berlin", "America/New_York", "Asia/Tokyo"
# Wednesday 2 December 2026, 08:00 UTC.
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def read(text: str, zone: str = BERLIN, now: datetime = NOW) -> Rule:
    choice = parse_rule(text, zone, now)
    assert choice.rule is not None, (text, choice)
    return choice.rule


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


@pytest.mark.parametrize(
    ("typed", "frequency", "at", "interval", "weekdays", "month_day"),
    [
        ("every monday 9:00", Frequency.WEEKLY, time(9), 1, (0,), 1),
        ("Every Monday at 9am", Frequency.WEEKLY, time(9), 1, (0,), 1),
        ("every day 18:30", Frequency.DAILY, time(18, 30), 1, (), 1),
        ("daily at 7", Frequency.DAILY, time(7), 1, (), 1),
        ("every 3 days at noon", Frequency.DAILY, time(12), 3, (), 1),
        ("every 2 weeks on mon, thu at 9", Frequency.WEEKLY, time(9), 2, (0, 3), 1),
        ("every other week on friday 17:00", Frequency.WEEKLY, time(17), 2, (4,), 1),
        ("every mon-fri at 8:15", Frequency.WEEKLY, time(8, 15), 1, (0, 1, 2, 3, 4), 1),
        ("every weekday at 6pm", Frequency.WEEKLY, time(18), 1, (0, 1, 2, 3, 4), 1),
        ("every tuesday and saturday 21h30", Frequency.WEEKLY, time(21, 30), 1, (1, 5), 1),
        ("on the 15th of every month at 10:00", Frequency.MONTHLY, time(10), 1, (), 15),
        ("every month on the 1st at 9", Frequency.MONTHLY, time(9), 1, (), 1),
        ("every 3 months on the 31st at 10:00", Frequency.MONTHLY, time(10), 3, (), 31),
        ("monthly on the last day at 20:00", Frequency.MONTHLY, time(20), 1, (), 31),
    ],
)
def test_the_usual_shapes_read_as_the_rule_meant(
    typed: str, frequency: Frequency, at: time, interval: int, weekdays: tuple[int, ...], month_day: int
) -> None:
    rule = read(typed)
    assert (rule.frequency, rule.at, rule.interval, rule.weekdays, rule.zone) == (
        frequency,
        at,
        interval,
        weekdays,
        BERLIN,
    )
    if frequency is Frequency.MONTHLY:
        assert rule.month_day == month_day
    assert rule.until is None and rule.count is None


def test_an_end_on_a_date_or_after_a_number_of_times() -> None:
    until = read("every day 18:30 until 31 jan")
    assert until.until == date(2027, 1, 31) and until.count is None
    assert read("every day until 2027-01-31 at 9:00").until == date(2027, 1, 31)
    counted = read("every monday 9:00 10 times")
    assert counted.count == 10 and counted.until is None
    assert read("every monday for 3 times at 9").count == 3
    # The end day counts: a daily rule until tomorrow has today's and tomorrow's times left.
    assert len(next_times(read("every day 18:00 until 3 dec"), NOW, 5)) == 2


@pytest.mark.parametrize("zone", [NEW_YORK, TOKYO])
def test_the_next_times_are_at_the_local_time_in_the_persons_zone(zone: str) -> None:
    times = next_times(read("every monday 9:00", zone), NOW, 3)
    mondays = [date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 21)]
    assert [local(moment, zone).date() for moment in times] == mondays
    assert all(local(moment, zone).time() == time(9) for moment in times)


def test_the_next_times_stay_on_the_wall_clock_across_a_dst_change() -> None:
    # Berlin goes to summer time on Sunday 28 March 2027: 09:00 stays 09:00, an hour earlier in UTC.
    before = datetime(2027, 3, 26, 12, 0, tzinfo=UTC)
    times = next_times(read("every day 9:00", BERLIN, before), before, 3)
    assert [moment.hour for moment in times] == [8, 7, 7]
    assert all(local(moment, BERLIN).time() == time(9) for moment in times)


def test_a_count_limits_the_next_times_shown() -> None:
    assert len(next_times(read("every day 9:00 2 times"), NOW, 3)) == 2


@pytest.mark.parametrize(
    ("typed", "problem", "part"),
    [
        ("every monday", "no_time", ""),
        ("every week at 9", "no_days", ""),
        ("every month at 9", "no_month_day", ""),
        ("every day 25:00", "bad_hour", "25:00"),
        ("every day 9:75", "bad_minute", "9:75"),
        ("every blursday 9:00", "unreadable", "blursday"),
        ("every day on monday 9:00", "unreadable", ""),
        ("every day 9:00 until 31 feb", "bad_until", "31 feb"),
        ("every day 9:00 until 2026-11-01", "until_past", "2026-11-01"),
        ("every day 9:00 0 times", "bad_count", "0 times"),
        ("every 60 weeks on mon at 9", "bad_interval", "60"),
        ("on the 32nd of every month at 9", "bad_month_day", "32nd"),
    ],
)
def test_what_cannot_be_a_rule_is_refused_with_the_reason(typed: str, problem: str, part: str) -> None:
    choice = parse_rule(typed, BERLIN, NOW)
    assert choice.rule is None
    assert (choice.problem, choice.typed) == (problem, part)
    # The answer always shows rules that work.
    assert "every monday 9:00" in texts.rule_problem(choice.problem or "", choice.typed)


def test_only_phrases_about_repeating_are_read_as_rules() -> None:
    assert speaks_of_repeating("every monday 9:00") and speaks_of_repeating("Daily at 7")
    assert not speaks_of_repeating("tomorrow 9:00") and not speaks_of_repeating("everyday-ish")


def test_a_time_of_day_alone_and_an_end_day_alone() -> None:
    assert time_of_day("18:30") == time(18, 30) and time_of_day("9") == time(9) and time_of_day("6pm") == time(18)
    assert time_of_day("25:00") is None and time_of_day("monday 9:00") is None
    assert end_day("31 jan", BERLIN, NOW) == date(2027, 1, 31)
    assert end_day("2027-02-28", TOKYO, NOW) == date(2027, 2, 28)
    refused = end_day("31 feb", BERLIN, NOW)
    assert not isinstance(refused, date) and refused.problem == "bad_until"


def test_a_rule_in_words() -> None:
    assert rule_text(read("every 2 weeks on mon, thu at 9")) == (
        "every 2 weeks on Monday and Thursday at 09:00 (Europe/Berlin)"
    )
    until = "every day at 18:30 (Europe/Berlin), until Sun 31 Jan 2027"
    assert rule_text(read("every day 18:30 until 31 jan")) == until
    assert rule_text(read("on the 31st of every month at 10:00 5 times")) == (
        "on the 31st of every month (the last day in shorter months) at 10:00 (Europe/Berlin), 5 times"
    )
    assert rule_text(read("every weekday at 8")) == "every weekday (Mon–Fri) at 08:00 (Europe/Berlin)"


def test_every_rule_the_help_quotes_is_read() -> None:
    quoted = [
        example for example in re.findall(r"<code>([^<]+)</code>", texts.HELP_TIMES) if speaks_of_repeating(example)
    ]
    assert len(quoted) >= 4
    for example in quoted:
        choice = parse_rule(example, "Europe/Berlin", NOW)
        assert choice.rule is not None and choice.problem is None, example
