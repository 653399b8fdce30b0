"""Repeating rules typed in Russian (handlers/rules.py reads them as the English words they say):
the usual shapes read as the rule meant, ends on a date or after a number of times, times of day
and end days typed alone, refusals with the same reasons as in English — and a one-off Russian time
is not taken for a rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from handlers.rules import end_day, parse_rule, speaks_of_repeating, time_of_day
from storage.recurrence import Frequency, Rule

BERLIN = "Europe/Berlin"
# Wednesday 2 December 2026, 08:00 UTC.
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
WORKDAYS = (0, 1, 2, 3, 4)


def read(text: str) -> Rule:
    assert speaks_of_repeating(text), text
    choice = parse_rule(text, BERLIN, NOW)
    assert choice.rule is not None, (text, choice)
    return choice.rule


@pytest.mark.parametrize(
    ("typed", "frequency", "at", "interval", "weekdays", "month_day"),
    [
        ("каждый понедельник 9:00", Frequency.WEEKLY, time(9), 1, (0,), 1),
        ("Каждую среду в 9 утра", Frequency.WEEKLY, time(9), 1, (2,), 1),
        ("каждое воскресенье в 6 вечера", Frequency.WEEKLY, time(18), 1, (6,), 1),
        ("ежедневно 8:15", Frequency.DAILY, time(8, 15), 1, (), 1),
        ("каждый день в 18:30", Frequency.DAILY, time(18, 30), 1, (), 1),
        ("каждые 3 дня в полдень", Frequency.DAILY, time(12), 3, (), 1),
        ("по будням 9:00", Frequency.WEEKLY, time(9), 1, WORKDAYS, 1),
        ("по выходным в 11:00", Frequency.WEEKLY, time(11), 1, (5, 6), 1),
        ("каждые выходные в 10:00", Frequency.WEEKLY, time(10), 1, (5, 6), 1),
        ("каждые 2 недели по пн, чт в 9", Frequency.WEEKLY, time(9), 2, (0, 3), 1),
        ("раз в 2 недели по пятницам 17:00", Frequency.WEEKLY, time(17), 2, (4,), 1),
        ("каждый вторник и субботу 21:30", Frequency.WEEKLY, time(21, 30), 1, (1, 5), 1),
        ("каждую неделю с понедельника по пятницу в 9", Frequency.WEEKLY, time(9), 1, WORKDAYS, 1),
        ("каждую неделю пн-пт в 8:15", Frequency.WEEKLY, time(8, 15), 1, WORKDAYS, 1),
        ("15 числа каждого месяца в 10:00", Frequency.MONTHLY, time(10), 1, (), 15),
        ("ежемесячно 1-го числа в 9", Frequency.MONTHLY, time(9), 1, (), 1),
        ("раз в 3 месяца 15-го в 10:00", Frequency.MONTHLY, time(10), 3, (), 15),
        ("в последний день каждого месяца в 20:00", Frequency.MONTHLY, time(20), 1, (), 31),
    ],
)
def test_the_usual_russian_shapes_read_as_the_rule_meant(
    typed: str, frequency: Frequency, at: time, interval: int, weekdays: tuple[int, ...], month_day: int
) -> None:
    rule = read(typed)
    assert (rule.frequency, rule.at, rule.interval, rule.weekdays) == (frequency, at, interval, weekdays)
    if frequency is Frequency.MONTHLY:
        assert rule.month_day == month_day
    assert rule.until is None and rule.count is None


def test_a_russian_end_on_a_date_or_after_a_number_of_times() -> None:
    assert read("каждый день в 18:30 до 31 января").until == date(2027, 1, 31)
    assert read("ежедневно 9:00 по 1 февраля 2027").until == date(2027, 2, 1)
    counted = read("каждый понедельник 9:00 10 раз")
    assert counted.count == 10 and counted.until is None
    assert read("по будням в 9 3 раза").count == 3


def test_a_russian_time_of_day_and_end_day_typed_alone() -> None:
    assert time_of_day("в 9") == time(9)
    assert time_of_day("9 утра") == time(9)
    assert time_of_day("18:30") == time(18, 30)
    assert end_day("31 января", BERLIN, NOW) == date(2027, 1, 31)
    assert end_day("до 1 марта 2027", BERLIN, NOW) == date(2027, 3, 1)


@pytest.mark.parametrize(
    ("typed", "problem", "shown"),
    [
        ("каждый понедельник", "no_time", ""),
        ("каждую неделю в 9", "no_days", ""),
        ("каждый месяц в 9", "no_month_day", ""),
        ("каждый день 25:00", "bad_hour", "25:00"),
        ("каждый день 9:00 до 31 февраля", "bad_until", "31 feb"),
        ("каждый день 9:00 0 раз", "bad_count", "0 times"),
        ("каждый день в 9 как-нибудь", "unreadable", "как-нибудь"),
    ],
)
def test_a_russian_rule_that_cannot_be_used_is_refused_with_the_reason(typed: str, problem: str, shown: str) -> None:
    choice = parse_rule(typed, BERLIN, NOW)
    assert choice.rule is None and (choice.problem, choice.typed) == (problem, shown)


@pytest.mark.parametrize(
    "typed",
    [
        "завтра в 9",
        "в понедельник в 9:00",
        "31 декабря 18:00",
        "через 2 часа",
        "через неделю в 9",
        "в выходные в 10:00",
    ],
)
def test_a_one_off_russian_time_is_not_a_rule(typed: str) -> None:
    assert not speaks_of_repeating(typed)
