"""The posting schedule's rules with frozen clocks: the next free slot on the wall clock in zones on
both sides of UTC and across DST changes (a skipped slot moves forward, a repeated one is taken
once), slots typed as people type them (and refused with the reason), and the queue's times
re-placed in slot order after a move or a shuffle."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.batch import read_interval
from handlers.slots import parse_slots, schedule_lines, slot_name
from storage.queue import (
    Queued,
    Slot,
    moved,
    moved_times,
    next_free_slots,
    replaced,
    schedule_for,
    shuffled,
    shuffled_times,
    slot_from_code,
    slot_times,
    slots_of,
    spaced_times,
)

BERLIN, NEW_YORK, SYDNEY, TOKYO = "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Tokyo"
WEEKDAYS_9_AND_18 = [Slot(day, at) for day in range(5) for at in (time(9), time(18))]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def wall(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M %Z")


# -- the next free slot ---------------------------------------------------------------------------
def test_the_next_free_slot_after_a_weekend_is_monday_at_nine_on_the_wall_clock_across_the_spring_change() -> None:
    # Friday 26 March 2027, 19:00 in Berlin; the clocks go forward on Sunday the 28th.
    now = utc(2027, 3, 26, 18)
    free = next_free_slots(WEEKDAYS_9_AND_18, BERLIN, now, taken=[], count=3)
    assert [wall(moment, BERLIN) for moment in free] == [
        "Mon 29 Mar 09:00 CEST",
        "Mon 29 Mar 18:00 CEST",
        "Tue 30 Mar 09:00 CEST",
    ]
    assert free[0] == utc(2027, 3, 29, 7)  # UTC+2 now, where it was UTC+1 the week before


def test_a_slot_taken_by_a_queued_post_is_skipped_and_the_next_one_given() -> None:
    now = utc(2027, 3, 26, 18)
    taken = [utc(2027, 3, 29, 7), utc(2027, 3, 30, 7)]
    free = next_free_slots(WEEKDAYS_9_AND_18, BERLIN, now, taken=taken, count=2)
    assert [wall(moment, BERLIN) for moment in free] == ["Mon 29 Mar 18:00 CEST", "Tue 30 Mar 18:00 CEST"]


def test_a_time_taken_that_is_no_slot_takes_nothing() -> None:
    now = utc(2027, 3, 26, 18)
    # A post at 09:01 (an exact time the person chose) leaves the 09:00 slot free.
    free = next_free_slots(WEEKDAYS_9_AND_18, BERLIN, now, taken=[utc(2027, 3, 29, 7, 1)])
    assert free == [utc(2027, 3, 29, 7)]


def test_new_york_behind_utc_keeps_saturday_11_30_across_its_spring_change() -> None:
    slots = [Slot(5, time(11, 30))]
    # Saturday 13 March 2027, 12:00 EST: this Saturday's slot has passed; DST starts on the 14th.
    now = utc(2027, 3, 13, 17)
    free = next_free_slots(slots, NEW_YORK, now, taken=[], count=2)
    assert [wall(moment, NEW_YORK) for moment in free] == ["Sat 20 Mar 11:30 EDT", "Sat 27 Mar 11:30 EDT"]
    assert free[0] == utc(2027, 3, 20, 15, 30)


def test_a_late_slot_of_the_local_day_before_is_found_from_an_early_utc_moment() -> None:
    # Tuesday 02:00 UTC is still Monday 22:00 in New York: Monday's 23:00 slot lies ahead.
    free = next_free_slots([Slot(0, time(23))], NEW_YORK, utc(2027, 6, 8, 2), taken=[])
    assert free == [utc(2027, 6, 8, 3)]


def test_tokyo_ahead_of_utc_a_slot_already_passed_locally_goes_to_next_week() -> None:
    # Sunday 23:30 UTC is Monday 08:30 in Tokyo: Monday's 08:00 slot has just passed.
    free = next_free_slots([Slot(0, time(8))], TOKYO, utc(2027, 6, 6, 23, 30), taken=[])
    assert [wall(moment, TOKYO) for moment in free] == ["Mon 14 Jun 08:00 JST"]


def test_a_slot_the_clocks_skip_moves_forward_and_two_slots_landing_together_are_one() -> None:
    # Sunday 28 March 2027 in Berlin: 02:30 does not exist (02:00 → 03:00).
    slots = [Slot(6, time(2, 30)), Slot(6, time(3, 30))]
    free = next_free_slots(slots, BERLIN, utc(2027, 3, 27, 12), taken=[], count=3)
    assert [wall(moment, BERLIN) for moment in free] == [
        "Sun 28 Mar 03:30 CEST",
        "Sun 04 Apr 02:30 CEST",
        "Sun 04 Apr 03:30 CEST",
    ]


def test_a_slot_the_clocks_repeat_is_taken_once_the_first_time_in_sydney() -> None:
    # Sunday 4 April 2027 in Sydney: 02:30 happens twice (03:00 AEDT → 02:00 AEST).
    times = list(slot_times([Slot(6, time(2, 30))], SYDNEY, utc(2027, 4, 2)))[:2]
    assert times[0] == utc(2027, 4, 3, 15, 30)  # the first 02:30, still UTC+11
    assert wall(times[1], SYDNEY) == "Sun 11 Apr 02:30 AEST"


def test_no_slots_no_free_slot_and_a_full_year_ends_the_search() -> None:
    assert next_free_slots([], BERLIN, utc(2027, 1, 1), taken=[]) == []
    monday = [Slot(0, time(9))]
    year = list(slot_times(monday, BERLIN, utc(2027, 1, 1)))
    assert 52 <= len(year) <= 53
    assert next_free_slots(monday, BERLIN, utc(2027, 1, 1), taken=year) == []


def test_slots_for_a_target_set_serve_exactly_that_set() -> None:
    shop = ("t1", "t2")
    slots = [Slot(0, time(9)), Slot(1, time(10), shop)]
    assert schedule_for(slots, ["t2", "t1"]) == shop
    assert schedule_for(slots, ["t1"]) == ()
    assert slots_of(slots, shop) == [Slot(1, time(10), shop)]
    assert slots_of(slots, ()) == [Slot(0, time(9))]


# -- slots as typed ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mon-fri 9:00, 18:00", ["Mon 09:00", "Mon 18:00", "Tue 09:00", "Fri 18:00"]),
        ("sat 11:30", ["Sat 11:30"]),
        ("Mon-Fri 9:00, 18:00; sat 11:30", ["Mon 09:00", "Fri 18:00", "Sat 11:30"]),
        ("weekends 10am", ["Sat 10:00", "Sun 10:00"]),
        ("fri - mon 8 pm", ["Fri 20:00", "Sat 20:00", "Sun 20:00", "Mon 20:00"]),
        ("mon to wed at 9.15", ["Mon 09:15", "Tue 09:15", "Wed 09:15"]),
        ("9:00 tue, thu", ["Tue 09:00", "Thu 09:00"]),
        ("every day 7:45", ["Mon 07:45", "Sun 07:45"]),
    ],
)
def test_slots_are_read_as_typed(typed: str, expected: list[str]) -> None:
    read = parse_slots(typed)
    assert read.problem is None
    names = [slot_name(slot) for slot in read.slots]
    assert all(name in names for name in expected)


def test_each_group_of_days_keeps_its_own_times() -> None:
    read = parse_slots("mon 9:00 tue 10:00, 11:00")
    assert [slot_name(slot) for slot in read.slots] == ["Mon 09:00", "Tue 10:00", "Tue 11:00"]
    assert len(parse_slots("mon-fri 9:00, 18:00").slots) == 10
    assert len(parse_slots("12:00").slots) == 7  # a time without days is every day's


@pytest.mark.parametrize(
    ("typed", "problem", "word"),
    [
        ("mon 25:00", "bad_hour", "25:00"),
        ("mon 13pm", "bad_hour", "13pm"),
        ("mon 9:7", "bad_minute", "9:7"),
        ("mon 9:75", "bad_minute", "9:75"),
        ("monday banana 9:00", "unknown", "banana"),
        ("mon-xyz 9:00", "unknown", "mon-xyz"),
        ("mon wed", "no_time", "mon wed"),
        ("  ,, ", "empty", ""),
    ],
)
def test_bad_slots_are_refused_with_the_word_named(typed: str, problem: str, word: str) -> None:
    read = parse_slots(typed)
    assert (read.problem, read.typed, read.slots) == (problem, word, [])


def test_the_schedule_is_written_a_weekday_a_line() -> None:
    read = parse_slots("mon-fri 18:00, 9:00; sat 11:30")
    assert schedule_lines(read.slots) == [
        "Mon: 09:00, 18:00",
        "Tue: 09:00, 18:00",
        "Wed: 09:00, 18:00",
        "Thu: 09:00, 18:00",
        "Fri: 09:00, 18:00",
        "Sat: 11:30",
    ]


def test_a_slots_button_code_reads_back_and_forged_codes_read_as_nothing() -> None:
    slot = Slot(4, time(18, 5))
    assert slot_from_code(slot.code) == slot
    for forged in ("7-0900", "0-2400", "0-0960", "x", "0-09000", "-1-0900", "00-0900"):
        assert slot_from_code(forged) is None


# -- reordering ----------------------------------------------------------------------------------------
def test_moving_a_post_up_swaps_the_times_of_neighbours() -> None:
    times = [utc(2027, 3, 29, 7), utc(2027, 3, 29, 16), utc(2027, 3, 30, 7)]
    order = moved(["a", "b", "c"], "c", -1)
    assert order == ["a", "c", "b"]
    assert replaced(order, times) == {"a": times[0], "c": times[1], "b": times[2]}
    assert moved(order, "a", -1) == order  # the first cannot go up
    assert moved(order, "b", +1) == order  # the last cannot go down
    assert moved(order, "zzz", +1) == order


def test_times_are_given_out_in_slot_order_whatever_order_they_come_in() -> None:
    times = [utc(2027, 3, 30, 7), utc(2027, 3, 29, 7)]
    assert replaced(["x", "y"], times) == {"x": utc(2027, 3, 29, 7), "y": utc(2027, 3, 30, 7)}
    with pytest.raises(ValueError, match="one time per queued post"):
        replaced(["x"], times)


def test_a_shuffle_changes_the_order_and_keeps_every_post() -> None:
    order = ["a", "b", "c", "d"]
    for seed in range(20):
        mixed = shuffled(order, random.Random(seed))
        assert mixed != order
        assert sorted(mixed) == order
    assert shuffled(["only"]) == ["only"]


def test_spaced_times_are_exact_intervals_across_a_dst_change() -> None:
    # From Sunday 28 March 2027 01:00 in Berlin, every hour: the wall clock jumps 02:00 → 03:00.
    start = utc(2027, 3, 28, 0)
    times = spaced_times(start, timedelta(hours=1), 3)
    assert [wall(moment, BERLIN) for moment in times] == [
        "Sun 28 Mar 01:00 CET",
        "Sun 28 Mar 03:00 CEST",
        "Sun 28 Mar 04:00 CEST",
    ]
    with pytest.raises(ValueError, match="positive"):
        spaced_times(start, timedelta(0), 2)


# -- a batch's intervals as typed -----------------------------------------------------------------------
def test_a_batch_interval_is_read_with_its_first_time_in_the_persons_zone() -> None:
    # Saturday 13 March 2027, 12:00 in New York; Sunday is the spring change.
    now = utc(2027, 3, 13, 17)
    assert read_interval("every 2 hours from tomorrow 9:00", NEW_YORK, now) == (
        timedelta(hours=2),
        utc(2027, 3, 14, 13),
    )
    assert read_interval("Every 30 min from 18:00", NEW_YORK, now) == (timedelta(minutes=30), utc(2027, 3, 13, 23))
    assert read_interval("1 day from monday 10am", SYDNEY, now) == (timedelta(days=1), utc(2027, 3, 14, 23))


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("every 2 parsecs from 9:00", "no interval"),
        ("every 0 min from 9:00", "no interval"),
        ("every 8 days from 9:00", "no interval"),
        ("every 2 hours", "no interval"),
        ("every 2 hours from yesterday 9:00", "past"),
        ("every 2 hours from 25:00", "hours go from 00 to 23"),
    ],
)
def test_a_bad_batch_interval_gets_its_reason(typed: str, reason: str) -> None:
    read = read_interval(typed, BERLIN, utc(2027, 3, 13, 17))
    assert isinstance(read, str) and reason in read


def test_a_post_moves_only_among_the_posts_of_its_own_schedule() -> None:
    deals = ("t2",)
    sat, sun, mon, tue = (utc(2027, 3, day, 16) for day in (13, 14, 15, 16))
    queue = [Queued("a", sat), Queued("d1", sun, deals), Queued("b", mon), Queued("d2", tue, deals)]
    # "b" goes up past the Deals post between them: it swaps with "a", its neighbour on the same slots.
    assert moved_times(queue, "b", -1) == {"b": sat, "a": mon}
    assert moved_times(queue, "d2", -1) == {"d2": sun, "d1": tue}
    assert moved_times(queue, "a", -1) == {}
    assert moved_times(queue, "d2", +1) == {}
    assert moved_times(queue, "nobody", +1) == {}
    mixed = shuffled_times(queue, random.Random(7))
    assert mixed == {"a": mon, "b": sat, "d1": tue, "d2": sun}
    assert shuffled_times([Queued("a", sat), Queued("d1", sun, deals)]) == {}
