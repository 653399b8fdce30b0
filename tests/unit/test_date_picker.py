"""The date picker's grids and buttons against frozen clocks, in zones on both sides of UTC: which
days and hours can be picked, month ends and leap years, DST days, forged buttons, typed minutes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from telegram import InlineKeyboardMarkup

from handlers import texts
from handlers.date_picker import (
    Pick,
    day_refusal,
    first_day,
    hour_refusal,
    hour_screen,
    last_day,
    minute_screen,
    month_in_reach,
    month_screen,
    parse_pick,
    read_typed_minute,
)
from handlers.keyboards import NEW, POST, parse_callback
from handlers.when import choose_wall_time

STRIKE = "\u0336"
# 23:30 UTC on New Year's Eve: already 1 January in Auckland, still 31 December in Los Angeles.
NEW_YEARS_EVE = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


def at(zone: str, day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def cells(markup: InlineKeyboardMarkup) -> list[tuple[str, str]]:
    """(label, callback data) of every button, row after row."""
    return [(str(b.text), str(b.callback_data)) for row in markup.inline_keyboard for b in row]


def days_of(markup: InlineKeyboardMarkup) -> dict[int, str]:
    """The label of each day's button, by its day of the month."""
    found = {}
    for label, data in cells(markup):
        parsed = parse_callback(data)
        assert parsed is not None
        pick = parse_pick(parsed.argument)
        assert pick is not None
        if pick.step == "day":
            found[pick.day] = label
    return found


def struck(label: str) -> bool:
    return STRIKE in label


@pytest.mark.parametrize(
    "pick",
    [
        Pick("open"),
        Pick("label"),
        Pick("month", 2026, 12),
        Pick("day", 2028, 2, 29),
        Pick("hour", 2026, 12, 31, 23),
        Pick("minute", 2027, 1, 1, 0, 55),
    ],
)
def test_every_pick_reads_back_from_its_argument_in_a_callback_telegram_takes(pick: Pick) -> None:
    assert parse_pick(pick.argument) == pick
    for screen, action in ((NEW, "cal"), (POST, "rs_cal")):
        data = f"{screen}:{action}:{pick.argument}"
        assert len(data.encode()) <= 64
        parsed = parse_callback(data)
        assert parsed is not None and parsed.argument == pick.argument


@pytest.mark.parametrize(
    "forged",
    [
        "d20270229",  # 2027 is not a leap year
        "d20260431",  # April has 30 days
        "d20261200",
        "m202613",
        "m202600",
        "h2026121524",
        "t202612151860",
        "t2026121518",
        "d2026121",
        "x",
        "o1",
        "",
        "d20261215; drop",
    ],
)
def test_a_forged_or_malformed_argument_is_not_a_pick(forged: str) -> None:
    assert parse_pick(forged) is None


def test_the_month_grid_starts_on_monday_with_each_day_under_its_weekday() -> None:
    now = at("Europe/Berlin", date(2026, 12, 2), time(12))
    markup = month_screen(2026, 12, "Europe/Berlin", now, NEW, "cal").markup
    rows = markup.inline_keyboard
    assert [b.text for b in rows[0]][1] == "December 2026"
    assert [b.text for b in rows[1]] == list(texts.CALENDAR_WEEKDAYS)
    # 1 December 2026 is a Tuesday: the first week's Monday is an empty label.
    assert rows[2][0].text == " " and rows[2][1].callback_data == "new:cal:d20261201"
    assert all(len(row) == 7 for row in rows[1:])
    assert sorted(days_of(markup)) == list(range(1, 32))


@pytest.mark.parametrize(("year", "days"), [(2027, 28), (2028, 29), (2100, 28), (2000, 29)])
def test_february_has_its_leap_day_only_in_leap_years(year: int, days: int) -> None:
    now = datetime(year, 1, 10, 12, tzinfo=UTC)
    markup = month_screen(year, 2, "UTC", now, NEW, "cal").markup
    assert max(days_of(markup)) == days


def test_on_new_years_eve_in_utc_the_31st_is_past_east_of_utc_and_today_west_of_it() -> None:
    auckland = days_of(month_screen(2026, 12, "Pacific/Auckland", NEW_YEARS_EVE, NEW, "cal").markup)
    los_angeles = days_of(month_screen(2026, 12, "America/Los_Angeles", NEW_YEARS_EVE, NEW, "cal").markup)
    assert struck(auckland[31]) and all(struck(label) for label in auckland.values())
    assert los_angeles[31] == "•31"
    assert struck(los_angeles[30]) and not struck(los_angeles[31])
    assert day_refusal(date(2026, 12, 31), "Pacific/Auckland", NEW_YEARS_EVE) == texts.DAY_PASSED
    assert day_refusal(date(2026, 12, 31), "America/Los_Angeles", NEW_YEARS_EVE) is None
    assert first_day("Pacific/Auckland", NEW_YEARS_EVE) == date(2027, 1, 1)
    assert first_day("America/Los_Angeles", NEW_YEARS_EVE) == date(2026, 12, 31)


def test_months_turn_over_the_year_and_stop_at_today_and_a_year_ahead() -> None:
    zone = "America/Los_Angeles"
    december = cells(month_screen(2026, 12, zone, NEW_YEARS_EVE, NEW, "cal").markup)
    back, _, forward = december[:3]
    assert back == (" ", "new:cal:n")  # no month before this one can be picked
    assert forward == ("▶", "new:cal:m202701")
    january = cells(month_screen(2027, 1, zone, NEW_YEARS_EVE, NEW, "cal").markup)
    assert january[0] == ("◀", "new:cal:m202612")
    # A year ahead of 31 Dec 2026 is 31 Dec 2027 in Los Angeles: no ▶ there.
    assert last_day(zone, NEW_YEARS_EVE) == date(2027, 12, 31)
    last = cells(month_screen(2027, 12, zone, NEW_YEARS_EVE, NEW, "cal").markup)
    assert last[2] == (" ", "new:cal:n")
    assert not month_in_reach(2028, 1, zone, NEW_YEARS_EVE)
    assert month_in_reach(2028, 1, "Pacific/Auckland", NEW_YEARS_EVE)
    assert not month_in_reach(2026, 11, zone, NEW_YEARS_EVE)
    assert day_refusal(date(2028, 1, 1), zone, NEW_YEARS_EVE) == texts.DAY_TOO_FAR


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Europe/Berlin", "America/New_York", "Pacific/Auckland"])
def test_hours_already_over_today_are_struck_and_refused_later_ones_and_tomorrows_are_not(zone: str) -> None:
    today = date(2026, 12, 2)
    now = at(zone, today, time(18, 30))
    labels = [label for label, _ in cells(hour_screen(today, zone, now, NEW, "cal").markup)[:24]]
    assert [struck(label) for label in labels] == [True] * 18 + [False] * 6
    assert hour_refusal(today, 17, zone, now) == texts.HOUR_PASSED
    assert hour_refusal(today, 18, zone, now) is None
    tomorrow = [label for label, _ in cells(hour_screen(date(2026, 12, 3), zone, now, NEW, "cal").markup)[:24]]
    assert tomorrow == [f"{hour:02d}" for hour in range(24)]


def test_minutes_come_every_five_and_those_past_are_struck_with_the_way_back_to_the_hours() -> None:
    zone = "Asia/Tokyo"
    today = date(2026, 12, 2)
    now = at(zone, today, time(9, 22))
    buttons = cells(minute_screen(today, 9, zone, now, POST, "rs_cal").markup)
    minutes = buttons[:12]
    assert [label.replace(STRIKE, "") for label, _ in minutes] == [f"09:{m:02d}" for m in range(0, 60, 5)]
    assert [struck(label) for label, _ in minutes] == [True] * 5 + [False] * 7
    assert minutes[5][1] == "post:rs_cal:t202612020925"
    assert buttons[-1] == (texts.CALENDAR_HOURS, "post:rs_cal:d20261202")


def test_a_minute_picked_on_a_spring_forward_day_is_offered_shifted_as_a_typed_one_is() -> None:
    now = datetime(2027, 3, 10, 12, tzinfo=UTC)
    berlin = choose_wall_time(datetime(2027, 3, 28, 2, 30), "Europe/Berlin", now)
    assert berlin.problem == "dst_gap" and berlin.suggestion is not None
    assert berlin.suggestion.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") == "03:30"
    new_york = choose_wall_time(datetime(2027, 3, 14, 2, 5), "America/New_York", now)
    assert new_york.problem == "dst_gap"
    # The hour the clocks skip is still shown: picking in it is answered, not hidden.
    labels = [label for label, _ in cells(hour_screen(date(2027, 3, 28), "Europe/Berlin", now, NEW, "cal").markup)]
    assert labels[2] == "02"


def test_a_minute_picked_on_a_fall_back_night_means_the_first_of_the_two() -> None:
    now = datetime(2026, 10, 20, 12, tzinfo=UTC)
    chosen = choose_wall_time(datetime(2026, 10, 25, 2, 30), "Europe/Berlin", now)
    assert chosen.when == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, not CET
    sydney = choose_wall_time(datetime(2027, 4, 4, 2, 30), "Australia/Sydney", datetime(2027, 4, 1, tzinfo=UTC))
    assert sydney.when == datetime(2027, 4, 3, 15, 30, tzinfo=UTC)  # 02:30 AEDT


def test_a_minute_already_past_today_is_refused_as_past() -> None:
    zone = "America/Los_Angeles"
    now = at(zone, date(2026, 12, 2), time(9, 22))
    assert choose_wall_time(datetime(2026, 12, 2, 9, 10), zone, now).problem == "past"
    assert choose_wall_time(datetime(2026, 12, 2, 9, 25), zone, now).when == at(zone, date(2026, 12, 2), time(9, 25))


@pytest.mark.parametrize(
    ("typed", "hour", "minutes"),
    [("7", 18, 7), ("07", 18, 7), (":07", 18, 7), ("18:07", 18, 7), (" 59 ", 9, 59), ("0", 0, 0)],
)
def test_minutes_typed_at_the_minute_grid_are_read(typed: str, hour: int, minutes: int) -> None:
    assert read_typed_minute(typed, hour) == minutes


@pytest.mark.parametrize(("typed", "hour"), [("60", 18), ("19:07", 18), ("18:7", 18), ("tomorrow", 18), ("", 18)])
def test_what_is_not_minutes_of_the_picked_hour_is_left_to_the_typed_time(typed: str, hour: int) -> None:
    assert read_typed_minute(typed, hour) is None
