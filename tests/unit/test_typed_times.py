"""Typed and quick times against a frozen clock, in zones on both sides of UTC, at several local
times of day and across DST changes: never depending on when or where the tests run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers import when
from handlers.when import (
    example_time,
    explain,
    format_time,
    parse_time,
    place,
    quick_time,
    repeated_note,
    repeated_occurrence,
    shows_today_button,
)

ZONES = ["Asia/Kolkata", "Asia/Tokyo", "Europe/Berlin", "America/Los_Angeles", "Pacific/Auckland", "UTC"]
# Local times of day the person types at: just after midnight, early morning, noon, evening, late.
LOCAL_TIMES = [time(0, 2), time(6, 39), time(12, 0), time(18, 30), time(23, 58)]
# Days without a DST change in any of ZONES, one in each half of the year.
QUIET_DAYS = [date(2026, 12, 2), date(2027, 7, 14)]


def at(zone: str, day: date, clock: time) -> datetime:
    """The UTC instant of a local wall time (not near a DST change)."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def wall(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@pytest.fixture
def frozen_clock() -> Iterator[datetime]:
    frozen = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    real = when.clock
    when.clock = lambda: frozen
    try:
        yield frozen
    finally:
        when.clock = real


# -- a bare time means its next occurrence in the user's zone ------------------------------------
@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("clock", LOCAL_TIMES)
@pytest.mark.parametrize("day", QUIET_DAYS)
def test_a_bare_time_a_few_minutes_ahead_is_today_not_tomorrow(zone: str, clock: time, day: date) -> None:
    now = at(zone, day, clock)
    ahead = wall(now + timedelta(minutes=3), zone)
    choice = parse_time(f"{ahead:%H:%M}", zone, now)
    assert choice.when == now + timedelta(minutes=3), (choice, wall(now, zone))


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("clock", LOCAL_TIMES)
@pytest.mark.parametrize("day", QUIET_DAYS)
def test_a_bare_time_just_gone_means_tomorrow_not_the_past(zone: str, clock: time, day: date) -> None:
    now = at(zone, day, clock)
    behind = wall(now - timedelta(minutes=3), zone)
    choice = parse_time(f"{behind:%H:%M}", zone, now)
    assert choice.when is not None and wall(choice.when, zone) == behind + timedelta(days=1), choice


def test_the_reported_bug_06_42_in_kolkata_three_minutes_before() -> None:
    now = at("Asia/Kolkata", date(2026, 12, 3), time(6, 39))
    choice = parse_time("06:42", "Asia/Kolkata", now)
    assert choice.when == now + timedelta(minutes=3)
    assert when.format_relative(choice.when, now) == "in 3 min"


@pytest.mark.parametrize("typed", ["9am", "9:00", "09:00", "9 a.m.", "9h", "09h00"])
def test_the_shapes_of_a_morning_time_read_the_same(typed: str) -> None:
    now = at("America/Los_Angeles", date(2026, 12, 1), time(17, 0))  # 01:00 UTC on 2 Dec
    choice = parse_time(typed, "America/Los_Angeles", now)
    assert choice.when == at("America/Los_Angeles", date(2026, 12, 2), time(9, 0))


# -- weekdays ------------------------------------------------------------------------------------
@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("clock", LOCAL_TIMES)
@pytest.mark.parametrize("weekday", range(7))
def test_a_weekday_means_the_next_such_day_in_the_users_zone(zone: str, clock: time, weekday: int) -> None:
    today = date(2026, 11, 30) + timedelta(days=weekday)  # Monday 30 Nov + n
    now = at(zone, today, clock)
    expected = next(
        at(zone, today + timedelta(days=ahead), time(9))
        for ahead in range(8)
        if (today + timedelta(days=ahead)).weekday() == 4 and at(zone, today + timedelta(days=ahead), time(9)) > now
    )
    assert parse_time("friday 9:00", zone, now).when == expected
    assert parse_time("Fri 9am", zone, now).when == expected
    assert parse_time("next friday at 9", zone, now).when == expected


# -- quick buttons -------------------------------------------------------------------------------
@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("clock", LOCAL_TIMES)
def test_quick_buttons_at_several_local_times(zone: str, clock: time) -> None:
    day = QUIET_DAYS[0]
    now = at(zone, day, clock)
    assert quick_time("1h", zone, now).when == now + timedelta(hours=1)
    assert quick_time("now", zone, now).when == now
    assert quick_time("tomorrow9", zone, now).when == at(zone, day + timedelta(days=1), time(9))
    today18 = quick_time("today18", zone, now)
    if clock < time(18):
        assert today18.when == at(zone, day, time(18)) and shows_today_button(zone, now)
    else:
        assert today18.when is None and today18.problem == "past" and not shows_today_button(zone, now)


def test_tomorrow_nine_across_a_dst_change_is_nine_on_the_clock() -> None:
    berlin = "Europe/Berlin"
    saturday = at(berlin, date(2027, 3, 27), time(10))
    assert quick_time("tomorrow9", berlin, saturday).when == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)  # CEST
    autumn = at(berlin, date(2027, 10, 30), time(10))
    assert quick_time("tomorrow9", berlin, autumn).when == datetime(2027, 10, 31, 8, 0, tzinfo=UTC)  # CET
    auckland = "Pacific/Auckland"
    before = at(auckland, date(2027, 9, 25), time(20))
    assert quick_time("tomorrow9", auckland, before).when == datetime(2027, 9, 25, 20, 0, tzinfo=UTC)  # NZDT


def test_a_bare_time_and_a_day_count_across_dst_keep_the_wall_clock() -> None:
    berlin = "Europe/Berlin"
    evening = at(berlin, date(2027, 3, 27), time(23))
    assert parse_time("09:00", berlin, evening).when == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)
    morning = at(berlin, date(2027, 3, 27), time(10))
    in_a_day = parse_time("in 1 day", berlin, morning)
    assert in_a_day.when == datetime(2027, 3, 28, 8, 0, tzinfo=UTC)  # 10:00 CEST: 23 hours later
    assert parse_time("in 24 hours", berlin, morning).when == morning + timedelta(hours=24)


# -- out of range: refused with the reason, never moved -----------------------------------------
@pytest.mark.parametrize(
    ("typed", "problem", "part", "reason"),
    [
        ("tomorrow 25:00", "bad_hour", "25:00", "hours go from 00 to 23"),
        ("24:30", "bad_hour", "24:30", "hours go from 00 to 23"),
        ("13pm", "bad_hour", "13pm", "hours go from 00 to 23"),
        ("9:75", "bad_minute", "9:75", "minutes go from 00 to 59"),
        ("friday 10:60", "bad_minute", "10:60", "minutes go from 00 to 59"),
        ("13/45", "bad_month", "13/45", "months go from 1 to 12"),
        ("13/45 10:00", "bad_month", "13/45", "months go from 1 to 12"),
        ("31 February", "no_such_day", "31 February", "There is no 31 February"),
        ("february 30 9:00", "no_such_day", "30 February", "There is no 30 February"),
        ("31/04 10:00", "no_such_day", "31 April", "There is no 31 April"),
        ("29/02/2027 10:00", "no_such_day", "29 February 2027", "There is no 29 February 2027"),
        ("2027-02-29 10:00", "no_such_day", "29 February 2027", "There is no 29 February 2027"),
    ],
)
@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
def test_an_out_of_range_time_or_date_is_refused_with_the_reason(
    typed: str, problem: str, part: str, reason: str, zone: str
) -> None:
    now = at(zone, QUIET_DAYS[0], time(12))
    choice = parse_time(typed, zone, now)
    assert (choice.when, choice.problem, choice.typed) == (None, problem, part)
    assert reason in explain(choice, zone, now)


def test_29_february_is_read_in_a_leap_year() -> None:
    now = at("Europe/Berlin", date(2027, 12, 1), time(12))
    assert parse_time("29/02 10:00", "Europe/Berlin", now).when == at("Europe/Berlin", date(2028, 2, 29), time(10))


@pytest.mark.parametrize("typed", ["whenever you like", "9", "tomorrow evening 7", "friday tomorrow 9:00"])
def test_what_cannot_be_read_exactly_is_refused_rather_than_guessed(typed: str) -> None:
    now = at("Asia/Kolkata", QUIET_DAYS[0], time(6, 30))
    choice = parse_time(typed, "Asia/Kolkata", now)
    assert choice.when is None and choice.problem == "unreadable"
    assert "couldn't read that as a time" in explain(choice, "Asia/Kolkata", now)


@pytest.mark.parametrize(
    ("typed", "day_text"),
    [("friday", "Fri 4 Dec"), ("tomorrow", "Thu 3 Dec"), ("1 dec", "Wed 1 Dec 2027"), ("24.12", "Thu 24 Dec")],
)
def test_a_day_without_a_time_asks_for_the_time(typed: str, day_text: str) -> None:
    now = at("Asia/Kolkata", QUIET_DAYS[0], time(6, 30))
    choice = parse_time(typed, "Asia/Kolkata", now)
    assert choice.when is None and choice.problem == "no_time"
    assert f"At what time on {day_text}?" in explain(choice, "Asia/Kolkata", now)


# -- full dates, relative times, dateparser's share ----------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected_wall"),
    [
        ("2026-12-05 18:30", datetime(2026, 12, 5, 18, 30)),
        ("2026-12-05T18:30", datetime(2026, 12, 5, 18, 30)),
        ("5/12 18:30", datetime(2026, 12, 5, 18, 30)),
        ("5.12.2026 18:30", datetime(2026, 12, 5, 18, 30)),
        ("1/12 18:30", datetime(2027, 12, 1, 18, 30)),  # 1 December has passed: the next one
        ("5 Dec 6pm", datetime(2026, 12, 5, 18, 0)),
        ("December 5th at 18:30", datetime(2026, 12, 5, 18, 30)),
        ("tomorrow 18.30", datetime(2026, 12, 3, 18, 30)),
        ("18.30", datetime(2026, 12, 2, 18, 30)),
        ("tonight 8", datetime(2026, 12, 2, 20, 0)),
        ("day after tomorrow noon", datetime(2026, 12, 4, 12, 0)),
        ("saturday morning", datetime(2026, 12, 5, 9, 0)),
        ("next week", datetime(2026, 12, 9, 6, 30)),
    ],
)
def test_full_dates_and_phrases_in_an_eastern_zone(typed: str, expected_wall: datetime) -> None:
    zone = "Asia/Kolkata"
    now = at(zone, QUIET_DAYS[0], time(6, 30))
    choice = parse_time(typed, zone, now)
    assert choice.when is not None and wall(choice.when, zone) == expected_wall, choice


@pytest.mark.parametrize(
    ("typed", "delta"),
    [
        ("in 2 hours", timedelta(hours=2)),
        ("in 1h 30m", timedelta(minutes=90)),
        ("in an hour", timedelta(hours=1)),
        ("in half an hour", timedelta(minutes=30)),
        ("in 3 seconds", timedelta(seconds=3)),
        ("3 hours from now", timedelta(hours=3)),
        ("in 1 hour and 15 minutes", timedelta(minutes=75)),
        ("now", timedelta(0)),
    ],
)
def test_relative_times_count_from_now(typed: str, delta: timedelta) -> None:
    now = at("America/Los_Angeles", QUIET_DAYS[0], time(17))
    assert parse_time(typed, "America/Los_Angeles", now).when == now + delta


def test_past_and_far_times_keep_their_reasons() -> None:
    now = at("Pacific/Auckland", QUIET_DAYS[0], time(12))
    assert parse_time("2020-01-01 10:00", "Pacific/Auckland", now).problem == "past"
    assert parse_time("today 09:00", "Pacific/Auckland", now).problem == "past"
    assert parse_time("2028-06-01 10:00", "Pacific/Auckland", now).problem == "too_far"
    assert parse_time("in 99999999999999 days", "Pacific/Auckland", now).problem == "too_far"
    assert parse_time("x" * 101, "Pacific/Auckland", now).problem == "unreadable"


# -- clocks that skip or repeat an hour ----------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "typed", "now", "shifted", "sentence"),
    [
        (
            "Europe/Berlin",
            "2027-03-28 02:30",
            datetime(2027, 3, 27, 12, 0, tzinfo=UTC),
            datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
            "02:30 does not exist on 28 Mar in Europe/Berlin (clocks go forward); did you mean 03:30?",
        ),
        (
            "America/New_York",
            "2027-03-14 02:30",
            datetime(2027, 3, 13, 12, 0, tzinfo=UTC),
            datetime(2027, 3, 14, 7, 30, tzinfo=UTC),
            "02:30 does not exist on 14 Mar in America/New_York (clocks go forward); did you mean 03:30?",
        ),
        (
            "Europe/Berlin",
            "02:30",  # a bare time typed the evening before
            datetime(2027, 3, 27, 21, 0, tzinfo=UTC),
            datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
            "02:30 does not exist on 28 Mar in Europe/Berlin",
        ),
        (
            "Pacific/Auckland",
            "26 sep 2:15am",
            datetime(2027, 9, 25, 1, 0, tzinfo=UTC),
            datetime(2027, 9, 25, 14, 15, tzinfo=UTC),
            "02:15 does not exist on 26 Sep in Pacific/Auckland (clocks go forward); did you mean 03:15?",
        ),
    ],
)
def test_a_time_the_clocks_skip_is_offered_shifted_to_confirm(
    zone: str, typed: str, now: datetime, shifted: datetime, sentence: str
) -> None:
    choice = parse_time(typed, zone, now)
    assert choice.when is None and choice.problem == "dst_gap"
    assert choice.suggestion == shifted
    assert sentence in explain(choice, zone, now)


def test_a_skipped_time_already_past_is_just_past() -> None:
    after = datetime(2027, 3, 28, 12, 0, tzinfo=UTC)
    assert parse_time("2027-03-28 02:30", "Europe/Berlin", after).problem == "past"


@pytest.mark.parametrize(
    ("zone", "typed", "now", "first", "offset"),
    [
        (
            "Europe/Berlin",
            "2027-10-31 02:30",
            datetime(2027, 10, 30, 12, tzinfo=UTC),
            datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
            "UTC+02:00",
        ),
        (
            "America/New_York",
            "7 nov 1:30am",
            datetime(2027, 11, 6, 12, tzinfo=UTC),
            datetime(2027, 11, 7, 5, 30, tzinfo=UTC),
            "UTC-04:00",
        ),
    ],
)
def test_a_time_that_happens_twice_is_the_first_and_the_preview_says_so(
    zone: str, typed: str, now: datetime, first: datetime, offset: str
) -> None:
    choice = parse_time(typed, zone, now)
    assert choice.when == first
    note = repeated_note(first, zone)
    assert "happens twice" in note and "clocks go back" in note and "the first one" in note and offset in note
    second = first + timedelta(hours=1)
    assert wall(second, zone) == wall(first, zone) and repeated_occurrence(second, zone) == "second"
    assert repeated_note(first + timedelta(hours=3), zone) == ""


def test_placing_a_wall_time_names_skips_and_repeats() -> None:
    assert place(datetime(2027, 3, 28, 2, 30), "Europe/Berlin").skipped
    assert place(datetime(2027, 10, 31, 2, 30), "Europe/Berlin").repeated
    plain = place(datetime(2027, 7, 1, 2, 30), "Europe/Berlin")
    assert not plain.skipped and not plain.repeated and plain.when == datetime(2027, 7, 1, 0, 30, tzinfo=UTC)


# -- the examples shown are built from now -------------------------------------------------------
@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("clock", [time(0, 30), time(23, 30)])
def test_the_example_time_is_a_week_ahead_in_the_users_zone_and_readable(zone: str, clock: time) -> None:
    now = at(zone, date(2026, 12, 31), clock)
    example = example_time(zone, now)
    assert example == "2027-01-07 18:30"
    choice = parse_time(example, zone, now)
    assert choice.when == at(zone, date(2027, 1, 7), time(18, 30))


def test_the_year_is_shown_when_it_is_not_the_current_one_by_the_handlers_clock(frozen_clock: datetime) -> None:
    assert format_time(datetime(2027, 12, 1, 17, 30, tzinfo=UTC), "Europe/Berlin") == "Wed 1 Dec 18:30 (Europe/Berlin)"
    assert format_time(datetime(2028, 1, 5, 9, 0, tzinfo=UTC), "UTC") == "Wed 5 Jan 2028 09:00 (UTC)"
