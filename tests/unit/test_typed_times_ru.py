"""Typed times in Russian, read while Herald speaks Russian, against a frozen clock, in zones on
both sides of UTC: the same strict grammar as the English ones (TYPED_WORDS), and the examples
the Russian texts give are times it reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import i18n
from handlers import texts, when
from handlers.when import current_time, in_english, parse_time

# East and west of UTC, and a zone whose day differs from UTC's at the frozen moment.
ZONES = ["Europe/Moscow", "Asia/Vladivostok", "America/New_York", "America/Los_Angeles", "Pacific/Auckland"]
# Saturday 12 June 2027, 12:00 UTC: no DST change near it in any of ZONES.
FROZEN = datetime(2027, 6, 12, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def russian() -> Iterator[None]:
    with i18n.speaking("ru"):
        yield


@pytest.fixture
def frozen_clock() -> Iterator[datetime]:
    real = when.clock
    when.clock = lambda: FROZEN
    try:
        yield FROZEN
    finally:
        when.clock = real


def at(zone: str, day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def today(zone: str) -> date:
    return FROZEN.astimezone(ZoneInfo(zone)).date()


def read(typed: str, zone: str) -> datetime | None:
    return parse_time(typed, zone, current_time()).when


@pytest.mark.parametrize("zone", ZONES)
def test_tomorrow_at_a_time(frozen_clock: datetime, zone: str) -> None:
    tomorrow_nine = at(zone, today(zone) + timedelta(days=1), time(9))
    assert read("завтра 9:00", zone) == tomorrow_nine
    assert read("Завтра в 9:00", zone) == tomorrow_nine
    assert read("завтра в 9", zone) == tomorrow_nine
    assert read("завтра в 9 утра", zone) == tomorrow_nine
    assert read("завтра 9 вечера", zone) == at(zone, today(zone) + timedelta(days=1), time(21))


@pytest.mark.parametrize("zone", ZONES)
def test_in_so_many_hours_counts_from_now(frozen_clock: datetime, zone: str) -> None:
    assert read("через 2 часа", zone) == frozen_clock + timedelta(hours=2)
    assert read("через час", zone) == frozen_clock + timedelta(hours=1)
    assert read("через полчаса", zone) == frozen_clock + timedelta(minutes=30)
    assert read("через полтора часа", zone) == frozen_clock + timedelta(minutes=90)
    assert read("через 1 час и 30 минут", zone) == frozen_clock + timedelta(minutes=90)
    assert read("через 2ч 30мин", zone) == frozen_clock + timedelta(minutes=150)
    assert read("через 5 минут", zone) == frozen_clock + timedelta(minutes=5)
    assert read("через 3 дня", zone) == at(
        zone, today(zone) + timedelta(days=3), frozen_clock.astimezone(ZoneInfo(zone)).time()
    )


@pytest.mark.parametrize("zone", ZONES)
def test_today_at_a_time_ahead_or_gone(frozen_clock: datetime, zone: str) -> None:
    local_now = frozen_clock.astimezone(ZoneInfo(zone))
    choice = parse_time("сегодня 18:30", zone, frozen_clock)
    if local_now.time() < time(18, 30):
        assert choice.when == at(zone, today(zone), time(18, 30))
    else:
        assert choice.when is None and choice.problem == "past"
    ahead = (local_now + timedelta(minutes=10)).strftime("%H:%M")
    if (local_now + timedelta(minutes=10)).date() == local_now.date():
        assert read(f"сегодня в {ahead}", zone) == (frozen_clock + timedelta(minutes=10)).replace(second=0)


@pytest.mark.parametrize("zone", ZONES)
def test_weekdays_and_dates_in_russian(frozen_clock: datetime, zone: str) -> None:
    day = today(zone)
    friday = next(
        day + timedelta(days=ahead)
        for ahead in range(8)
        if (day + timedelta(days=ahead)).weekday() == 4
        and at(zone, day + timedelta(days=ahead), time(9)) > frozen_clock
    )
    assert read("в пятницу 9:00", zone) == at(zone, friday, time(9))
    assert read("пт 9:00", zone) == at(zone, friday, time(9))
    assert read("1 декабря 18:30", zone) == at(zone, date(2027, 12, 1), time(18, 30))
    assert read("1 дек 18:30", zone) == at(zone, date(2027, 12, 1), time(18, 30))
    assert read("послезавтра в 10:00", zone) == at(zone, day + timedelta(days=2), time(10))
    assert read("в полдень", zone) in (at(zone, day, time(12)), at(zone, day + timedelta(days=1), time(12)))


@pytest.mark.parametrize("zone", ["Europe/Moscow", "America/Los_Angeles"])
def test_a_time_out_of_range_is_refused_with_the_reason(frozen_clock: datetime, zone: str) -> None:
    assert parse_time("завтра 25:00", zone, frozen_clock).problem == "bad_hour"
    no_day = parse_time("31 февраля 10:00", zone, frozen_clock)
    assert (no_day.problem, no_day.typed) == ("no_such_day", "31 февраля")
    missing = parse_time("завтра", zone, frozen_clock)
    assert missing.problem == "no_time" and missing.day == today(zone) + timedelta(days=1)
    assert parse_time("сейчас", zone, frozen_clock).when == frozen_clock
    assert parse_time("когда-нибудь", zone, frozen_clock).problem == "unreadable"


@pytest.mark.parametrize("zone", ["Europe/Moscow", "America/New_York"])
def test_english_is_read_as_well(frozen_clock: datetime, zone: str) -> None:
    assert read("tomorrow 9am", zone) == at(zone, today(zone) + timedelta(days=1), time(9))
    assert read("in 2 hours", zone) == frozen_clock + timedelta(hours=2)


def test_the_grammar_sees_english_words() -> None:
    assert in_english("завтра в 9:00", "ru") == "tomorrow at 9:00"
    assert in_english("через час", "ru") == "in a hours"
    assert in_english("через 2 часа", "en") == "через 2 часа"


@pytest.mark.parametrize("zone", ZONES)
def test_the_examples_the_texts_give_are_read(frozen_clock: datetime, zone: str) -> None:
    """The times the (Russian) texts offer as examples are times Herald reads when spoken to in
    Russian: those of the question and of the refusal, besides the dated one given to them."""
    dated = "2027-06-19 18:30"
    shown = texts.ask_time(zone, dated) + texts.time_problem("unreadable", "", dated)
    examples = [example for example in re.findall(r"<code>(.*?)</code>", shown) if example != dated]
    assert len(examples) == 4
    for example in [*examples, "завтра 9:00", "через 2 часа"]:
        assert read(example, zone) is not None, example
