"""Recurring posts end to end: a series made in the New post conversation by typing a rule and by
the 🔁 Repeat… buttons, each occurrence arriving in the channel at its local time — with Herald's
clock driven to just before it, in zones on both sides of UTC and across a DST change — and the
series' screen (pause, resume, skip, end), a series pausing itself after three failures in a row,
and stale and forged buttons."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import storage.models
from storage import Store
from storage.models import Post, PostStatus
from storage.series import Series, SeriesStatus
from tests.e2e.conftest import ALICE, BOB, Person, bot_running, bot_settings, eventually
from tests.e2e.steps import (
    add_chat,
    buttons_of,
    open_post,
    schedule_text_post,
    settled,
    text_post_to_its_time,
    texts_in,
)
from tests.fakes.bot_api import FakeBotAPI

SHOP = -1001234567890
NEW_YORK, TOKYO, BERLIN = "America/New_York", "Asia/Tokyo", "Europe/Berlin"
# How long an occurrence may take to reach the channel after its time (sweeps run every second).
ARRIVAL = 10.0


class DrivenClock:
    """Herald's clock (storage.models.utc_now, read by the chat and the scheduler alike) set to any
    moment, running on from there as time passes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = timedelta(0)
        clock = self

        class Shifted(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:
                return datetime.now(tz) + clock.offset

        monkeypatch.setattr(storage.models, "datetime", Shifted)

    def set(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> DrivenClock:
    return DrivenClock(monkeypatch)


@pytest.fixture
def alice(api: FakeBotAPI) -> Person:
    add_chat(api, SHOP, "Shop news", username="shopnews")
    return Person(api, ALICE)


def at(zone: str, year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A local wall time in `zone` as an aware datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone))


async def set_zone(person: Person, city: str, zone: str) -> None:
    await person.say("/timezone", expect="Send a city")
    await person.say(city, expect=zone)


async def only_series(store: Store) -> Series:
    found = await store.list_series(ALICE)
    assert len(found) == 1, found
    return found[0]


async def arrives_at_its_time(
    api: FakeBotAPI, clock: DrivenClock, store: Store, due: datetime, text: str, already: int
) -> Post:
    """Drives the clock to 2 s before `due`: nothing new in the channel before it, the occurrence
    there soon after, its post scheduled exactly at `due` and published."""
    clock.set(due - timedelta(seconds=2))
    await asyncio.sleep(1.0)
    assert len(texts_in(api, SHOP)) == already, "an occurrence went out before its time"
    await eventually(lambda: len(texts_in(api, SHOP)) == already + 1, timeout=ARRIVAL)
    assert texts_in(api, SHOP)[-1] == text

    async def published_at_due() -> list[Post]:
        return [
            post
            for post in await _all_occurrences(store)
            if post.scheduled_time == due and post.status is PostStatus.PUBLISHED
        ]

    found: list[Post] = await eventually(published_at_due, timeout=ARRIVAL)
    assert len(found) == 1, "one post per occurrence"
    return found[0]


async def _all_occurrences(store: Store) -> list[Post]:
    page = await store.list_posts(ALICE, storage.models.PostView.HISTORY, 0, 50)
    upcoming = await store.list_posts(ALICE, storage.models.PostView.UPCOMING, 0, 50)
    return [post for post in [*page.posts, *upcoming.posts] if post.occurrence is not None]


# -- made by typing, west of UTC, across the spring DST change -----------------------------------
async def test_a_typed_series_goes_out_at_nine_local_each_day_across_the_dst_change(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str, clock: DrivenClock
) -> None:
    # New York moves its clocks forward on Sunday 14 March 2027: 09:00 is 14:00 UTC on Saturday
    # and 13:00 UTC from Sunday on.
    clock.set(at(NEW_YORK, 2027, 3, 13, 8, 30))
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await set_zone(alice, "New York", NEW_YORK)
        await text_post_to_its_time(alice, "Morning news", "Shop news")
        # Unknown words: a clear answer with rules that work, and the draft kept.
        refused = await alice.say("every blursday 9:00", expect="I can't read")
        assert refused is not None and "every monday 9:00" in refused["text"]
        preview = await alice.say("every day 9:00 3 times", expect="step 5 of 5")
        assert preview is not None
        assert "Repeats every day at 09:00 (America/New_York), 3 times" in preview["text"]
        for day in ("Sat 13 Mar", "Sun 14 Mar", "Mon 15 Mar"):
            assert f"{day} 09:00 (America/New_York)" in preview["text"]
        done = await alice.press("Schedule", expect="Series #")
        assert done is not None and "First time: Sat 13 Mar 09:00 (America/New_York)" in done["text"]
        series = await only_series(store)
        assert series.rule.count == 3
        assert (await store.list_posts(ALICE, storage.models.PostView.UPCOMING)).posts == [], "a series, not a post"

        first = await arrives_at_its_time(api, clock, store, datetime(2027, 3, 13, 14, tzinfo=UTC), "Morning news", 0)
        await alice.expect(f"Published #{first.short_id}")
        second = await arrives_at_its_time(api, clock, store, datetime(2027, 3, 14, 13, tzinfo=UTC), "Morning news", 1)
        await alice.expect(f"Published #{second.short_id}")
        await arrives_at_its_time(api, clock, store, datetime(2027, 3, 15, 13, tzinfo=UTC), "Morning news", 2)
        # Three times, then the series ends: nothing the day after.
        await eventually(lambda: _ended(store, series.series_id))
        clock.set(at(NEW_YORK, 2027, 3, 16, 9, 0, 30))
        await asyncio.sleep(2.5)
        assert len(texts_in(api, SHOP)) == 3

        # History shows each occurrence as a post, marked as one of the series.
        await alice.say("/scheduled", expect="Upcoming")
        listing = await alice.press("History", expect="History")
        assert listing is not None and listing["text"].count("🔁") == 3
        await alice.press(f"#{first.short_id}", expect=f"Post #{first.short_id}")
        details = alice.last()
        assert f"Time 1 of series #{series.short_id}" in details["text"] and "🔁 The series" in buttons_of(details)


async def _ended(store: Store, series_id: str) -> bool:
    stored = await store.load_series(series_id)
    return stored is not None and stored.status is SeriesStatus.ENDED


# -- made with the buttons, east of UTC ----------------------------------------------------------
async def test_a_series_made_with_the_buttons_goes_out_on_the_chosen_weekdays(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str, clock: DrivenClock
) -> None:
    # Wednesday 1 December 2027 in Tokyo (UTC+9, no DST): Monday and Thursday at 09:00 are 00:00 UTC.
    clock.set(at(TOKYO, 2027, 12, 1, 12, 0))
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await set_zone(alice, "Tokyo", TOKYO)
        await text_post_to_its_time(alice, "Weekly digest", "Shop news")
        await alice.press("Repeat", expect="How often")
        # Kept to press later, when its step is long past.
        stale_kind = alice.find_button("Every day")
        await alice.press("Chosen weekdays", expect="On which days")
        await alice.press("Done (0)")
        assert alice.last_answer().get("text") == "Please tap at least one day first."
        await alice.press("Mon", expect="On which days")
        await alice.press("Thu", expect="On which days")
        await alice.press("Done (2)", expect="At what time of day")
        asked = await alice.say("25:00", expect="is not a time of day")
        assert asked is not None
        # A forged time button is refused like a stale one; the question stays.
        await alice.press_data(alice.find_button("09:00")[0], "new:rp_at:2561")
        assert "earlier step" in alice.last_answer().get("text", "")
        await alice.say("9:00", expect="When should the series end?")
        await alice.press("After N times", expect="How many times")
        await alice.press_data(*stale_kind)
        assert "earlier step" in alice.last_answer().get("text", "")
        preview = await alice.say("2", expect="step 5 of 5")
        assert preview is not None
        assert "Repeats every Monday and Thursday at 09:00 (Asia/Tokyo), 2 times" in preview["text"]
        assert "Thu 2 Dec 09:00 (Asia/Tokyo)" in preview["text"] and "Mon 6 Dec 09:00" in preview["text"]
        await alice.press("Schedule", expect="Series #")

        await arrives_at_its_time(api, clock, store, datetime(2027, 12, 2, 0, tzinfo=UTC), "Weekly digest", 0)
        await arrives_at_its_time(api, clock, store, datetime(2027, 12, 6, 0, tzinfo=UTC), "Weekly digest", 1)
        clock.set(at(TOKYO, 2027, 12, 9, 9, 0, 30))
        await asyncio.sleep(2.5)
        assert len(texts_in(api, SHOP)) == 2, "two times, as chosen"


# -- the series' screen: skip, pause, resume, end; stale and forged buttons -----------------------
async def test_skip_pause_resume_and_end_from_the_series_screen(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str, clock: DrivenClock
) -> None:
    clock.set(at(BERLIN, 2027, 6, 1, 12, 0))
    bob = Person(api, BOB)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await set_zone(alice, "Berlin", BERLIN)
        await text_post_to_its_time(alice, "Evening note", "Shop news")
        await alice.say("every day 18:30", expect="step 5 of 5")
        await alice.press("Schedule", expect="Series #")
        series = await only_series(store)

        # /scheduled shows the series once, with its rule and next time.
        listing = await alice.say("/scheduled", expect="Recurring series")
        assert listing is not None
        assert listing["text"].count(f"Series #{series.short_id}") == 1
        assert "every day at 18:30 (Europe/Berlin) · next Tue 1 Jun 18:30" in listing["text"]
        assert "Nothing is scheduled" not in listing["text"] and "No single posts are scheduled." in listing["text"]
        await alice.press(f"Series #{series.short_id}", expect="Next: Tue 1 Jun 18:30")

        skipped = await alice.press("Skip next", expect="Skipped")
        assert skipped is not None and "Skipped Tue 1 Jun 18:30 (Europe/Berlin)" in skipped["text"]
        assert "The next one is Wed 2 Jun 18:30" in skipped["text"]
        clock.set(at(BERLIN, 2027, 6, 1, 18, 29, 58))
        await asyncio.sleep(3.5)
        assert texts_in(api, SHOP) == [], "the skipped time went out"
        await arrives_at_its_time(api, clock, store, at(BERLIN, 2027, 6, 2, 18, 30).astimezone(UTC), "Evening note", 0)

        # A Skip button naming the time that went out is stale: nothing else is skipped.
        stale_skip = alice.find_button("Skip next")
        await alice.press_data(*stale_skip)
        assert "changed meanwhile" in alice.last_answer().get("text", "")
        assert (await only_series(store)).next_time == at(BERLIN, 2027, 6, 3, 18, 30)

        # Bob, forging buttons with Alice's series id, learns nothing and changes nothing.
        before = bob.count()
        for action in ("open", "pause", "end_yes", "skip"):
            argument = series.series_id + ("/1" if action == "skip" else "")
            await bob.press_data(1, f"ser:{action}:{argument}")
            assert bob.last_answer().get("text") == "I can't find that series among yours."
        assert bob.count() == before
        assert (await only_series(store)).status is SeriesStatus.ACTIVE

        await alice.say("/scheduled", expect="Recurring series")
        await alice.press(f"Series #{series.short_id}", expect="Next:")
        await alice.press("Pause", expect="Paused")
        clock.set(at(BERLIN, 2027, 6, 3, 18, 29, 58))
        await asyncio.sleep(3.5)
        assert len(texts_in(api, SHOP)) == 1, "a paused series went out"
        resumed = await alice.press("Resume", expect="Resumed")
        assert resumed is not None and "next time Fri 4 Jun 18:30" in resumed["text"]
        await arrives_at_its_time(api, clock, store, at(BERLIN, 2027, 6, 4, 18, 30).astimezone(UTC), "Evening note", 1)

        await alice.press("End series", expect="End series #")
        await alice.press("Yes, end it", expect="has ended")
        assert (await store.get_series(ALICE, series.series_id)) is not None
        assert (await store.list_series(ALICE)) == [], "an ended series leaves /scheduled"


async def test_editing_the_text_and_times_applies_to_this_and_following(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str, clock: DrivenClock
) -> None:
    clock.set(at(BERLIN, 2027, 6, 1, 12, 0))
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await set_zone(alice, "Berlin", BERLIN)
        await text_post_to_its_time(alice, "Old text", "Shop news")
        await alice.say("every monday 9:00", expect="step 5 of 5")
        await alice.press("Schedule", expect="Series #")
        await alice.press("Open the series", expect="Series #")
        await alice.press("Edit text", expect="Send the new text")
        await alice.say("New text", expect="carry the new text")
        await alice.press("Edit times", expect="Send a new rule")
        refused = await alice.say("every someday", expect="I can't read")
        assert refused is not None
        changed = await alice.say("every day 18:00", expect="now repeats")
        assert changed is not None and "every day at 18:00 (Europe/Berlin)" in changed["text"]
        assert "Next: Tue 1 Jun 18:00" in changed["text"]
        # A time of day alone keeps the days.
        await alice.press("Edit times", expect="Send a new rule")
        moved = await alice.say("18:15", expect="now repeats")
        assert moved is not None and "every day at 18:15 (Europe/Berlin)" in moved["text"]
        await arrives_at_its_time(api, clock, store, at(BERLIN, 2027, 6, 1, 18, 15).astimezone(UTC), "New text", 0)


# -- three failures in a row pause the series, and the owner is told once ------------------------
async def test_a_series_pauses_itself_after_three_failures_and_says_why_once(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str, clock: DrivenClock
) -> None:
    clock.set(at(TOKYO, 2027, 6, 1, 8, 0))
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await set_zone(alice, "Tokyo", TOKYO)
        await text_post_to_its_time(alice, "Daily tip", "Shop news")
        await alice.say("every day 9:00", expect="step 5 of 5")
        await alice.press("Schedule", expect="Series #")
        series = await only_series(store)
        api.bot_removed_from_chat(SHOP, ALICE)
        await settled(api)
        for day in (1, 2, 3):
            clock.set(at(TOKYO, 2027, 6, day, 8, 59, 58))
            await eventually(functools.partial(_reports_are, alice, "Failed #", day), timeout=10)
        told = [m for m in alice.bot_messages() if "paused" in str(m.get("text"))]
        assert len(told) == 1, "told once"
        assert "Series #" in told[0]["text"] and "no longer an admin" in told[0]["text"]
        assert "▶️ Resume the series" in buttons_of(told[0])
        stored = await only_series(store)
        assert stored.status is SeriesStatus.PAUSED
        # Paused: the fourth day passes with nothing made.
        clock.set(at(TOKYO, 2027, 6, 4, 8, 59, 59))
        await asyncio.sleep(3)
        assert (await only_series(store)).next_number == 3
        api.bot_added_to_chat(SHOP, ALICE)
        await settled(api)
        await alice.press("Resume the series", expect="Resumed")
        assert (await only_series(store)).status is SeriesStatus.ACTIVE
        report = next(m for m in alice.bot_messages() if m["message_id"] == told[0]["message_id"])
        assert "Failed #" in report["text"], "the report stays as it was"
        assert series.series_id == stored.series_id


def _reports_are(person: Person, needle: str, count: int) -> bool:
    return sum(1 for m in person.bot_messages() if needle in str(m.get("text"))) == count


async def test_rescheduling_a_single_post_to_a_repeating_time_says_how_to_repeat(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str, clock: DrivenClock
) -> None:
    clock.set(at(BERLIN, 2027, 6, 1, 12, 0))
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await schedule_text_post(alice, "Once only", "Shop news")
        post = (await store.list_posts(ALICE, storage.models.PostView.UPCOMING)).posts[0]
        await open_post(alice, post)
        await alice.press("Reschedule", expect="go out instead?")
        await alice.say("every monday 9:00", expect="goes out once")
        await alice.say("tomorrow 10:00", expect="now goes out")
        moved = await store.get_post(ALICE, post.post_id)
        assert moved is not None and moved.scheduled_time == datetime(2027, 6, 2, 10, 0, tzinfo=UTC)
        assert await store.list_series(ALICE) == []
