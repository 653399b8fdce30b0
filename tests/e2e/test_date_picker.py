"""The date picker end to end: 📅 Calendar under the time question of New post and Reschedule,
down to the minute, in the person's zone against a frozen clock; past days and hours refused with
a word, minutes typed, a time the clocks skip offered shifted, forged and stale presses answered."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers import texts, when
from handlers.date_picker import Pick
from storage.models import PostView, utc_now
from tests.e2e.conftest import ALICE, Person, bot_running, bot_settings
from tests.e2e.steps import add_chat, buttons_of, open_post, schedule_text_post, text_post_to_its_time
from tests.fakes.bot_api import FakeBotAPI

SHOP = -1001234567890


@pytest.fixture
def alice(api: FakeBotAPI) -> Person:
    add_chat(api, SHOP, "Shop news")
    return Person(api, ALICE)


def freeze_at(monkeypatch: pytest.MonkeyPatch, zone: str, day: date, clock: time) -> datetime:
    """The handlers' clock stands still at `clock` on `day` in `zone` (the scheduler keeps the real
    one, so the day must lie ahead of the real today)."""
    frozen = datetime.combine(day, clock, tzinfo=ZoneInfo(zone))
    monkeypatch.setattr(when, "clock", lambda: frozen)
    return frozen


def calendar_button(person: Person, pick: Pick) -> tuple[int, str, str]:
    """(message id, callback data, label) of the newest calendar button standing for `pick`."""
    for message in reversed(person.bot_messages()):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if str(button.get("callback_data", "")).endswith(":" + pick.argument):
                    return message["message_id"], button["callback_data"], button["text"]
    raise AssertionError(f"no calendar button for {pick}")


async def pick(person: Person, chosen: Pick, expect: str | None = None) -> dict[str, Any] | None:
    message_id, data, _ = calendar_button(person, chosen)
    return await person.press_data(message_id, data, expect)


async def set_zone(person: Person, city: str, zone: str) -> None:
    await person.say("/timezone", expect="Send a city")
    await person.say(city, expect=zone)


async def test_a_post_is_scheduled_from_the_calendar_down_to_the_minute_in_a_zone_east_of_utc(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = "Pacific/Auckland"
    today = utc_now().date() + timedelta(days=3)
    freeze_at(monkeypatch, zone, today, time(12, 10))
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await alice.say("/help", expect="📅 Calendar")
        await set_zone(alice, "Auckland", zone)
        await text_post_to_its_time(alice, "Picked on the calendar", "Shop news")
        shown = await alice.press("Calendar", expect="Pick a day")
        assert shown is not None and "Pacific/Auckland" in shown["text"]
        _, _, label = calendar_button(alice, Pick("day", today.year, today.month, today.day))
        assert label == f"•{today.day}"

        # A day before today is shown but refused, with the reason.
        yesterday = today - timedelta(days=1)
        if (yesterday.year, yesterday.month) == (today.year, today.month):
            await pick(alice, Pick("day", yesterday.year, yesterday.month, yesterday.day))
            assert alice.last_answer().get("text") == texts.DAY_PASSED
        # A forged day is answered, not taken.
        message_id, _, _ = calendar_button(alice, Pick("day", today.year, today.month, today.day))
        await alice.press_data(message_id, "new:cal:d20270230")
        assert alice.last_answer().get("text") == texts.CALENDAR_BUTTON_UNKNOWN

        # ▶ to the next month and back.
        after = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        turned = await pick(alice, Pick("month", after.year, after.month), expect="Pick a day")
        assert turned is not None and f"{after:%B} {after.year}" in buttons_of(turned)
        months = [m for m in alice.bot_messages() if "Pick a day" in str(m.get("text"))]
        assert len(months) == 1  # edited in place, not sent again
        await pick(alice, Pick("month", today.year, today.month), expect="Pick a day")

        await pick(alice, Pick("day", today.year, today.month, today.day), expect="pick the hour")
        await pick(alice, Pick("hour", today.year, today.month, today.day, 11))
        assert alice.last_answer().get("text") == texts.HOUR_PASSED
        await pick(alice, Pick("hour", today.year, today.month, today.day, 18), expect="pick the minutes")
        preview = await pick(alice, Pick("minute", today.year, today.month, today.day, 18, 35), expect="step 5 of 5")
        assert preview is not None and "18:35 (Pacific/Auckland) — in 6 h 25 min" in preview["text"]
        closed = [m for m in alice.bot_messages() if "Picked:" in str(m.get("text"))]
        assert len(closed) == 1 and not closed[0].get("reply_markup")

        await alice.press("Schedule", expect="Scheduled #")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        assert post.scheduled_time == datetime.combine(today, time(18, 35), tzinfo=ZoneInfo(zone))


async def test_minutes_typed_at_the_minute_grid_and_a_skipped_hour_in_a_zone_west_of_utc(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = "America/New_York"
    start = utc_now().date() + timedelta(days=2)
    gap_day = next(
        day
        for day in (start + timedelta(days=n) for n in range(1, 400))
        if when.place(datetime.combine(day, time(2, 30)), zone).skipped
    )
    before = gap_day - timedelta(days=1)
    freeze_at(monkeypatch, zone, before, time(20, 0))
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await set_zone(alice, "New York", zone)
        await text_post_to_its_time(alice, "Typed minutes", "Shop news")
        await alice.press("Calendar", expect="Pick a day")
        if gap_day.month != before.month:
            await pick(alice, Pick("month", gap_day.year, gap_day.month), expect="Pick a day")
        await pick(alice, Pick("day", gap_day.year, gap_day.month, gap_day.day), expect="pick the hour")
        await pick(alice, Pick("hour", gap_day.year, gap_day.month, gap_day.day, 2), expect="pick the minutes")
        asked = await alice.say("30", expect="does not exist")
        assert asked is not None and "did you mean 03:30?" in asked["text"]
        await alice.press("Yes, 03:30", expect="step 5 of 5")
        await alice.press("Schedule", expect="Scheduled #")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        assert post.scheduled_time == datetime.combine(gap_day, time(3, 30), tzinfo=ZoneInfo(zone))

        # Typed minutes count only while the grid waits for them: a bare number later means nothing.
        await text_post_to_its_time(alice, "Another", "Shop news")
        await alice.press("Calendar", expect="Pick a day")
        await pick(alice, Pick("day", before.year, before.month, before.day), expect="pick the hour")
        await pick(alice, Pick("hour", before.year, before.month, before.day, 21), expect="pick the minutes")
        await alice.say("21:07", expect="step 5 of 5")
        await alice.press("Change time", expect="step 4 of 5")
        await alice.say("07", expect="couldn't read that as a time")


async def test_a_post_is_rescheduled_from_the_calendar_and_a_stale_press_changes_nothing(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = "Europe/Berlin"
    today = utc_now().date() + timedelta(days=3)
    freeze_at(monkeypatch, zone, today, time(9, 0))
    later = today + timedelta(days=5)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await set_zone(alice, "Berlin", zone)
        await schedule_text_post(alice, "Move me", "Shop news")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        await open_post(alice, post)
        await alice.press("Reschedule", expect="go out instead?")
        await alice.press("Calendar", expect="Pick a day")
        if later.month != today.month:
            await pick(alice, Pick("month", later.year, later.month), expect="Pick a day")
        await pick(alice, Pick("day", later.year, later.month, later.day), expect="pick the hour")
        # ◀ Hours and back: the way up the picker works too.
        await pick(alice, Pick("hour", later.year, later.month, later.day, 7), expect="pick the minutes")
        await pick(alice, Pick("day", later.year, later.month, later.day), expect="pick the hour")
        await pick(alice, Pick("hour", later.year, later.month, later.day, 7), expect="pick the minutes")
        minute = Pick("minute", later.year, later.month, later.day, 7, 45)
        await pick(alice, minute, expect="now goes out")
        moved = await store.get_post(ALICE, post.post_id)
        assert moved is not None
        assert moved.scheduled_time == datetime.combine(later, time(7, 45), tzinfo=ZoneInfo(zone))

        # The question is over: the calendar is closed, and a press of its old minute is refused.
        closed = next(m for m in alice.bot_messages() if "Picked:" in str(m.get("text")))
        assert not closed.get("reply_markup")
        again = Pick("minute", later.year, later.month, later.day, 7, 15)
        await alice.press_data(closed["message_id"], f"post:rs_cal:{again.argument}")
        assert alice.last_answer().get("text") == texts.STALE_BUTTON
        unchanged = await store.get_post(ALICE, post.post_id)
        assert unchanged is not None and unchanged.scheduled_time == moved.scheduled_time
