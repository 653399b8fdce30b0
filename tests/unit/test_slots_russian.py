"""Slots typed with Russian days (пн-пт, будни, выходные…) read as the English ones do, and the
schedule written back with the reader's weekday names."""

from __future__ import annotations

import pytest

import i18n
from handlers.slots import parse_slots, schedule_lines, slot_name


@pytest.mark.parametrize(
    ("typed", "english"),
    [
        ("пн-пт 9:00, 18:00", "mon-fri 9:00, 18:00"),
        ("пн - пт 9:00", "mon-fri 9:00"),
        ("пн до пт 9:00", "mon-fri 9:00"),
        ("пт–пн 20:00", "fri-mon 20:00"),
        ("будни 10:00", "weekdays 10:00"),
        ("по будням в 10:00", "weekdays 10:00"),
        ("выходные 10am", "weekends 10am"),
        ("сб, вс 11:30", "sat, sun 11:30"),
        ("Пн и Ср в 9:00; Сб 11:30", "mon and wed at 9:00; sat 11:30"),
        ("вт чт 12:00", "tue thu 12:00"),
        ("пятница 18:00", "friday 18:00"),
        ("каждый день 7:45", "every day 7:45"),
        ("ежедневно 7:45", "daily 7:45"),
    ],
)
def test_russian_days_read_as_the_english_ones(typed: str, english: str) -> None:
    read = parse_slots(typed)
    assert read.problem is None
    assert read.slots == parse_slots(english).slots


def test_an_unknown_russian_word_is_named() -> None:
    read = parse_slots("пн банан 9:00")
    assert (read.problem, read.typed) == ("unknown", "банан")
    assert parse_slots("пн ср").problem == "no_time"


def test_the_schedule_is_written_with_the_readers_weekday_names() -> None:
    read = parse_slots("пн-пт 18:00, 9:00; сб 11:30")
    with i18n.speaking("ru"):
        assert slot_name(read.slots[0]) == "Пн 09:00"
        assert schedule_lines(read.slots)[-1] == "Сб: 11:30"
    assert slot_name(read.slots[0]) == "Mon 09:00"
    assert schedule_lines(read.slots)[-1] == "Sat: 11:30"
