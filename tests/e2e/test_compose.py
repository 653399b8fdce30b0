"""The chat front end, end to end: bot.py's Application polling the fake Bot API, driven like a person."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config import Settings
from handlers import texts, when
from handlers.compose import CONVERSATION_NAME
from storage import build_store
from storage.models import PostStatus, PostView, utc_now
from storage.persistence import USER_DATA
from tests.conftest import opened
from tests.e2e.conftest import ALICE, BOB, Person, bot_running, bot_settings, eventually
from tests.e2e.steps import (
    add_chat,
    buttons_of,
    choose_targets,
    open_post,
    schedule_for,
    schedule_text_post,
    settled,
    text_post_to_its_time,
)
from tests.fakes.bot_api import FakeBotAPI

SHOP, TEAM, OTHER = -1001234567890, -1001234567891, -1001234567892
PHOTOS = [bytes([0xFF, 0xD8, n]) * 300 + f"photo {n}".encode() for n in range(12)]


@pytest.fixture
def alice(api: FakeBotAPI) -> Person:
    """Alice, who administers Shop news and Team chat and is only a member of Other channel (Bob's);
    the bot is in all three."""
    add_chat(api, SHOP, "Shop news", username="shopnews")
    add_chat(api, TEAM, "Team chat", "supergroup", role="creator")
    add_chat(api, OTHER, "Other channel", by=BOB)
    api.set_member(OTHER, ALICE, "member")
    return Person(api, ALICE)


async def test_the_whole_happy_path_from_start_to_a_stored_post(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await eventually(lambda: api.commands)
        assert {c["command"] for c in api.commands} >= {"new", "scheduled", "timezone", "cancel", "help"}

        welcome = await alice.say("/start", expect="Herald")
        assert welcome is not None and "New post" in repr(welcome["reply_markup"])

        await alice.say("/timezone", expect="Send a city")
        await alice.say("Berlin", expect="Europe/Berlin")

        listed = await alice.say("/new", expect="Where should it go?")
        assert listed is not None
        labels = repr(listed["reply_markup"])
        assert "Shop news" in labels and "Team chat" in labels and "Other channel" not in labels
        await alice.press("Shop news", expect="(1 of 2 selected)")
        assert "✅ Shop news" in repr(alice.last()["reply_markup"])
        await alice.press("Select all", expect="(2 of 2 selected)")
        await alice.press("Done (2)", expect="Send the photos")

        await alice.send_photos(PHOTOS[:3], ["Front door", None, "Inside"])
        await alice.expect("3 photos in")
        await alice.say("Grand opening on Saturday!", expect="step 4 of 5")

        berlin = ZoneInfo("Europe/Berlin")
        local = (utc_now() + timedelta(days=3)).astimezone(berlin).replace(hour=18, minute=30, second=0, microsecond=0)
        summary = await alice.say(local.strftime("%Y-%m-%d %H:%M"), expect="step 5 of 5")
        assert summary is not None
        assert "(Europe/Berlin)" in summary["text"]
        assert "in 2 d" in summary["text"] or "in 3 d" in summary["text"]
        assert "2 targets: Shop news, Team chat" in summary["text"]
        album = [m for m in api.bot_messages(ALICE) if m.get("media_group_id")]
        assert len(album) == 3
        assert album[0]["caption"] == "Grand opening on Saturday!\n\nFront door"
        assert album[1].get("caption") in (None, "") and album[2]["caption"] == "Inside"

        saved = await alice.press("Schedule", expect="Scheduled #")
        assert saved is not None and "to 2 targets" in saved["text"]
        assert "Cancel post" in repr(saved["reply_markup"])

        page = await store.list_posts(ALICE, PostView.UPCOMING)
        assert len(page.posts) == 1
        post = page.posts[0]
        assert post.status is PostStatus.SCHEDULED
        assert post.scheduled_time == local.astimezone(ZoneInfo("UTC"))
        assert post.main_caption == "Grand opening on Saturday!"
        assert [t.name for t in post.targets] == ["Shop news", "Team chat"]
        assert [t.address for t in post.targets] == [str(SHOP), str(TEAM)]
        assert [image.caption for image in post.images] == ["Front door", "", "Inside"]
        assert [await store.load_image(image.blob_id) for image in post.images] == PHOTOS[:3]
        assert f"#{post.short_id}" in saved["text"]


async def test_a_restart_in_the_middle_keeps_the_conversation(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    settings = bot_settings(api, database_url, encryption_key)
    async with bot_running(settings):
        await choose_targets(alice, "Team chat")
        await alice.send_photos(PHOTOS[:1], ["Only one"])
        await alice.expect("1 photo in")
    async with bot_running(settings) as store:
        await alice.say("Back after a restart", expect="step 4 of 5")
        await schedule_for(alice, button="In 1 hour")
        page = await store.list_posts(ALICE, PostView.UPCOMING)
        assert [p.main_caption for p in page.posts] == ["Back after a restart"]
        assert [t.name for t in page.posts[0].targets] == ["Team chat"]
        assert await store.load_image(page.posts[0].images[0].blob_id) == PHOTOS[0]


async def test_bad_times_get_a_reason_and_the_question_again(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)):
        await text_post_to_its_time(alice, "Text only post", "Shop news")
        await alice.say("2020-01-01 10:00", expect="in the past")
        far = (utc_now() + timedelta(days=400)).strftime("%Y-%m-%d 10:00")
        await alice.say(far, expect="more than a year ahead")
        await alice.say("whenever you like", expect="couldn't read that as a time")
        await alice.say("in 2 hours", expect="step 5 of 5")


async def test_content_limits_are_explained_and_nothing_is_lost(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await choose_targets(alice, "Shop news")
        # Files are media now (issue 13); a sticker still is not.
        api.send_sticker(ALICE)
        await alice.expect("not stickers")
        api.send_sticker(ALICE)
        snapshot = alice.snapshot()
        await alice.expect("not stickers", since=snapshot)
        await alice.send_photos(PHOTOS[:10])
        await alice.expect("10 photos in")
        api.send_document(ALICE, b"%PDF-1.4", "menu.pdf")
        await alice.expect("at most 10 images")
        await alice.say("x" * 4100, expect="Telegram allows 4,096")
        await alice.say("y" * 1500, expect="more than the 1,024")
        await alice.expect("step 4 of 5")
        await schedule_for(alice, button="Tomorrow 09:00")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        assert len(post.images) == 10 and post.main_caption == "y" * 1500
        # The preview showed the album and then the long caption as a text message.
        assert any(m.get("text") == "y" * 1500 for m in api.bot_messages(ALICE))


async def test_stale_and_forged_buttons_are_refused_and_change_nothing(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    bob = Person(api, BOB)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        done_id, done_data = await choose_targets(alice, "Shop news")
        await alice.press("No images", expect="Send its text")
        await alice.say("Hello", expect="step 4 of 5")
        await schedule_for(alice, button="In 1 hour")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]

        # A button of the finished conversation.
        await alice.press_data(done_id, done_data)
        assert alice.last_answer()["text"] == texts.STALE_BUTTON

        # Bob forges Alice's post id into a Cancel and a confirm.
        await bob.press_data(1, f"post:cancel:{post.post_id}")
        assert bob.last_answer()["text"] == texts.NOT_YOURS
        await bob.press_data(1, f"post:cancel_yes:{post.post_id}")
        assert bob.last_answer()["text"] == texts.NOT_YOURS
        await bob.press_data(1, f"post:retry_yes:{post.post_id}")
        assert bob.last_answer()["text"] == texts.NOT_YOURS
        # Callback data of a shape Herald never makes.
        await bob.press_data(1, "new:t:../../etc; drop table")
        assert bob.last_answer()["text"] == texts.STALE_BUTTON

        # Bob, in his own conversation, forges a target he does not administer.
        await bob.say("/new", expect="Where should it go?")
        assert "Shop news" not in repr(bob.last()["reply_markup"])
        message_id, _ = bob.find_button("Other channel")
        await bob.press_data(message_id, f"new:t:tg{SHOP}")
        assert bob.last_answer()["text"] == texts.TARGET_NOT_ALLOWED

        unchanged = await store.get_post(ALICE, post.post_id)
        assert unchanged is not None and unchanged.status is PostStatus.SCHEDULED

        # Alice's own Cancel button works, after a confirm step.
        await alice.press("Cancel post", expect="Scheduled #")
        await alice.press("Yes, cancel it", expect="is cancelled")
        cancelled = await store.get_post(ALICE, post.post_id)
        assert cancelled is not None and cancelled.status is PostStatus.CANCELLED


async def test_a_user_outside_the_allow_list_is_refused_politely(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    bob = Person(api, BOB)
    settings = bot_settings(api, sqlite_url, encryption_key, allowed_user_ids=str(ALICE))
    async with bot_running(settings) as store:
        await bob.say("/new", expect="this Herald bot is private")
        await bob.say("/start", expect="ALLOWED_USER_IDS")
        await Person(api, ALICE).say("/start", expect="What would you like to do?")
        assert (await store.list_posts(BOB, PostView.UPCOMING)).posts == []


async def test_no_targets_explains_how_to_add_the_bot(api: FakeBotAPI, sqlite_url: str, encryption_key: str) -> None:
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)):
        await alice.say("/new", expect="administrator")
        add_chat(api, SHOP, "Shop news")
        await settled(api)
        await alice.press("Refresh", expect="Where should it go?")
        # The bot is removed from the channel: it is no longer offered.
        api.bot_removed_from_chat(SHOP, ALICE)
        await settled(api)
        await alice.press("Refresh", expect="administrator")


async def test_an_error_is_apologised_for_and_the_conversation_goes_on(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)):
        await choose_targets(alice, "Shop news")
        await alice.press("No images", expect="Send its text")
        api.fail_next("sendMessage", error_code=400, description="Bad Request: something unexpected")
        await alice.say("Hello there", expect="something went wrong on my side")
        await alice.say("Hello again", expect="step 4 of 5")


# -- times typed against a frozen clock, limits as Telegram counts them, a photo too big ----------
EMOJI = "😀"  # 2 UTF-16 code units, 1 character
MB = 1024 * 1024


def freeze_clock(monkeypatch: pytest.MonkeyPatch, frozen: datetime) -> None:
    """The handlers' clock stands still at `frozen` (the scheduler keeps the real one)."""
    monkeypatch.setattr(when, "clock", lambda: frozen)


def next_day_skipping(zone: str, clock: time, after: date) -> date:
    """The first day after `after` on which `clock` does not exist in `zone` (spring forward)."""
    return next(
        day
        for day in (after + timedelta(days=n) for n in range(1, 400))
        if when.place(datetime.combine(day, clock), zone).skipped
    )


async def set_zone(alice: Person, city: str, zone: str) -> None:
    await alice.say("/timezone", expect="Send a city")
    await alice.say(city, expect=zone)


async def test_an_out_of_range_time_is_refused_with_the_reason_and_nothing_is_scheduled(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await text_post_to_its_time(alice, "Late night special", "Shop news")
        refused = await alice.say("tomorrow 25:00", expect="is not a time")
        assert refused is not None and "25:00 is not a time: hours go from 00 to 23" in refused["text"]
        await alice.say("13/45", expect="months go from 1 to 12")
        await alice.say("31 February", expect="There is no 31 February")
        await alice.say("24:30", expect="24:30 is not a time")
        assert not (await store.list_posts(ALICE, PostView.UPCOMING)).posts
        await schedule_for(alice, typed="tomorrow 23:00")
        assert len((await store.list_posts(ALICE, PostView.UPCOMING)).posts) == 1


async def test_a_time_the_clocks_skip_is_offered_shifted_and_confirmed_with_a_button(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    berlin = "Europe/Berlin"
    # The next spring-forward after today, so the post lies ahead of the real scheduler too.
    gap_day = next_day_skipping(berlin, time(2, 30), utc_now().date() + timedelta(days=2))
    freeze_clock(monkeypatch, datetime.combine(gap_day - timedelta(days=1), time(12), tzinfo=ZoneInfo(berlin)))
    shifted = datetime.combine(gap_day, time(3, 30), tzinfo=ZoneInfo(berlin))
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await set_zone(alice, "Berlin", berlin)
        await text_post_to_its_time(alice, "Early bird", "Shop news")
        asked = await alice.say(f"{gap_day:%Y-%m-%d} 02:30", expect="does not exist")
        assert asked is not None
        assert (
            f"02:30 does not exist on {gap_day.day} {gap_day:%b} in Europe/Berlin (clocks go forward); "
            "did you mean 03:30?" in asked["text"]
        )
        # Typing another time instead still works.
        other = await alice.say(f"{gap_day:%Y-%m-%d} 04:00", expect="step 5 of 5")
        assert other is not None and "04:00 (Europe/Berlin)" in other["text"]
        await alice.press("Change time", expect="step 4 of 5")
        await alice.say("02:30", expect="does not exist")  # the bare time: the next 02:30 is skipped too
        preview = await alice.press("Yes, 03:30", expect="step 5 of 5")
        assert preview is not None and "03:30 (Europe/Berlin) — in 14 h 30 min" in preview["text"]
        await alice.press("Schedule", expect="Scheduled #")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        assert post.scheduled_time == shifted

        # The same question when a post is rescheduled.
        await open_post(alice, post)
        await alice.press("Reschedule", expect="go out instead?")
        await alice.say(f"{gap_day:%d/%m} 02:45", expect="did you mean 03:45?")
        await alice.press("Yes, 03:45", expect="now goes out")
        moved = await store.get_post(ALICE, post.post_id)
        assert moved is not None and moved.scheduled_time == shifted + timedelta(minutes=15)


async def test_a_bare_time_east_of_utc_is_today_and_the_example_is_built_from_now(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    day = utc_now().astimezone(kolkata).date() + timedelta(days=1)
    frozen = datetime.combine(day, time(6, 39), tzinfo=kolkata)
    freeze_clock(monkeypatch, frozen)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await set_zone(alice, "Kolkata", "Asia/Kolkata")
        prompt = await text_post_to_its_time(alice, "Good morning", "Team chat")
        assert f"{day + timedelta(days=7):%Y-%m-%d} 18:30" in prompt["text"]
        preview = await alice.say("06:42", expect="step 5 of 5")
        assert preview is not None
        assert f"{day:%a} {day.day} {day:%b}" in preview["text"]
        assert "06:42 (Asia/Kolkata) — in 3 min" in preview["text"]
        await alice.press("Schedule", expect="Scheduled #")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        assert post.scheduled_time == frozen + timedelta(minutes=3)


async def test_limits_count_as_telegram_counts_and_what_is_sent_is_what_telegram_takes(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await choose_targets(alice, "Shop news")
        await alice.press("No images", expect="Send its text")
        # 2,100 characters, 4,200 units: refused now rather than by Telegram at publication.
        refused = await alice.say(EMOJI * 2100, expect="Telegram allows 4,096")
        assert refused is not None and "4,200 characters as Telegram counts them" in refused["text"]
        await alice.press("Cancel", expect="Cancelled")

        await choose_targets(alice, "Shop news")
        await alice.send_photos(PHOTOS[:2])
        await alice.expect("2 photos in")
        # 600 characters fit a photo caption by count, but 1,200 units do not.
        await alice.say(EMOJI * 600, expect="more than the 1,024")
        await alice.expect("step 4 of 5")
        await alice.say("in 3 seconds", expect="step 5 of 5")
        preview = [m for m in api.bot_messages(ALICE) if m.get("media_group_id") or m.get("text") == EMOJI * 600]
        assert len(preview) == 3 and preview[-1]["text"] == EMOJI * 600
        await alice.press("Schedule", expect="Scheduled #")
        await alice.expect("Published #", timeout=15)
        post = (await store.list_posts(ALICE, PostView.HISTORY)).posts[0]
        assert post.status is PostStatus.PUBLISHED and post.main_caption == EMOJI * 600
        channel = api.bot_messages(SHOP)
        assert [m.get("text") for m in channel][-1] == EMOJI * 600
        assert len([m for m in channel if m.get("media_group_id")]) == 2

        # Editing a scheduled post's caption counts the same way.
        await schedule_text_post(alice, "Short", "Shop news")
        later = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        await open_post(alice, later)
        await alice.press("Edit caption", expect="as Telegram counts them")
        await alice.say(EMOJI * 2049, expect="Telegram allows 4,096")
        await alice.say(EMOJI * 2048, expect="is updated")
        edited = await store.get_post(ALICE, later.post_id)
        assert edited is not None and edited.main_caption == EMOJI * 2048


async def test_a_photo_too_big_to_download_is_explained_and_the_draft_is_kept(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await choose_targets(alice, "Shop news")
        await alice.send_photos(PHOTOS[:2], ["Front", "Back"])
        await alice.expect("2 photos in")
        before = alice.snapshot()
        api.send_photo(ALICE, PHOTOS[2], caption="Huge", file_size=25 * MB)
        await alice.expect("too big for a bot to download (over 20 MB); send a smaller one", since=before)
        # An album with one photo too big: the others get in.
        api.send_album(ALICE, PHOTOS[3:5], ["Side", "Too big too"], file_sizes=[None, 30 * MB])
        await alice.expect("3 photos in")
        # A Premium caption (up to 2,048) is kept, with a word that a bot's photo caption holds 1,024.
        long_caption = "Garden " + EMOJI * 600
        api.send_photo(ALICE, PHOTOS[5], caption=long_caption)
        await alice.expect("The caption of photo 4 is 1,207 characters as Telegram counts them")
        await alice.expect("4 photos in")
        await alice.say("Open house", expect="step 4 of 5")
        await alice.press("Tomorrow 09:00", expect="step 5 of 5")
        album = [m for m in api.bot_messages(ALICE) if m.get("media_group_id")]
        assert len(album) == 4 and long_caption.startswith(album[3]["caption"]) and len(album[3]["caption"]) == 515
        await alice.press("Schedule", expect="Scheduled #")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        assert [image.caption for image in post.images] == ["Front", "Back", "Side", long_caption]
        assert post.main_caption == "Open house"
        stored = [await store.load_image(image.blob_id) for image in post.images]
        assert stored == [PHOTOS[0], PHOTOS[1], PHOTOS[3], PHOTOS[5]]
    assert all(m.get("text") != texts.SOMETHING_WENT_WRONG for m in alice.bot_messages())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# -- what a person hit: a Refresh that changed nothing, /new in the middle of a post, a draft from before an upgrade


async def test_refresh_with_nothing_changed_keeps_the_list_and_says_nothing_went_wrong(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)):
        await alice.say("/new", expect="Where should it go?")
        listed = await alice.press("Shop news", expect="(1 of 2 selected)")
        assert listed is not None
        edits = len(api.calls_of("editMessageText"))
        await alice.press("Refresh")
        # The bot asked for the same list again, and Telegram (the fake) refused the no-op edit.
        await api.wait_for(lambda: len(api.calls_of("editMessageText")) > edits)
        (message,) = [m for m in api.bot_messages(ALICE) if m["message_id"] == listed["message_id"]]
        assert message["text"] == listed["text"] and message["edit_date"] == listed["edit_date"]
        await alice.press("Done (1)", expect="Send the photos")
    assert all(m.get("text") != texts.SOMETHING_WENT_WRONG for m in alice.bot_messages())


async def test_new_in_the_middle_of_a_post_asks_before_the_draft_is_thrown_away(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        # Nothing chosen yet: /new simply starts again.
        await alice.say("/new", expect="Where should it go?")
        await alice.say("/new", expect="Where should it go?")

        await choose_targets(alice, "Shop news", "Team chat")
        await alice.send_photos(PHOTOS[:2], ["Left", "Right"])
        await alice.expect("2 photos in")
        await alice.say("Summer menu", expect="step 4 of 5")
        asked = await alice.say("/new", expect=texts.DISCARD_DRAFT_QUESTION)
        assert asked is not None and buttons_of(asked) == ["🗑 Discard and start over", "✏️ Keep editing"]
        kept = await alice.press("Keep editing", expect=texts.DRAFT_KEPT)
        assert kept is not None and kept["message_id"] == asked["message_id"] and not buttons_of(kept)
        preview = await alice.press("Tomorrow 09:00", expect="step 5 of 5")
        assert preview is not None and "2 targets: Shop news, Team chat" in preview["text"]
        assert "2 images" in preview["text"]

        # The menu's New post button asks the same; this time the draft goes.
        await alice.say("/start", expect="What would you like to do?")
        await alice.press("New post", expect=texts.DISCARD_DRAFT_QUESTION)
        await alice.press("Discard and start over", expect="(0 of 2 selected)")
        schedule_id, schedule_data = alice.find_button("✅ Schedule")
        await alice.press_data(schedule_id, schedule_data)
        assert alice.last_answer()["text"] == texts.WRONG_STEP_BUTTON
        assert (await store.list_posts(ALICE, PostView.UPCOMING)).posts == []

        # The new post starts from nothing; with nothing picked yet, /new asks nothing.
        await schedule_text_post(alice, "Fresh start", "Team chat")
        [post] = (await store.list_posts(ALICE, PostView.UPCOMING)).posts
        assert (post.main_caption, [t.name for t in post.targets], post.images) == ("Fresh start", ["Team chat"], [])


async def test_cancel_from_the_scheduled_message_asks_there_and_keep_it_restores_the_message(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        saved = await schedule_text_post(alice, "Maybe later", "Shop news")
        [post] = (await store.list_posts(ALICE, PostView.UPCOMING)).posts

        asked = await alice.press("Cancel post", expect=f"Cancel post #{post.short_id}? It will not be published.")
        assert asked is not None and asked["message_id"] == saved["message_id"]
        assert asked["text"].startswith(saved["text"])
        assert buttons_of(asked) == ["Yes, cancel it", "Keep it"]

        kept = await alice.press("Keep it", expect="Scheduled #")
        assert kept is not None and kept["message_id"] == saved["message_id"]
        assert (kept["text"], buttons_of(kept)) == (saved["text"], ["🚫 Cancel post"])
        assert alice.last_answer()["text"] == texts.POST_KEPT
        still = await store.get_post(ALICE, post.post_id)
        assert still is not None and still.status is PostStatus.SCHEDULED

        await alice.press("Cancel post", expect=f"Cancel post #{post.short_id}?")
        cancelled = await alice.press("Yes, cancel it", expect="is cancelled")
        assert cancelled is not None and "?" not in cancelled["text"] and not buttons_of(cancelled)
        gone = await store.get_post(ALICE, post.post_id)
        assert gone is not None and gone.status is PostStatus.CANCELLED


async def save_conversation(settings: Settings, step: str, draft: dict[str, Any], *images: bytes) -> list[str]:
    """Alice's New post as an earlier Herald left it in the database: its step and its draft
    (a dict of plain documents, `step` included); returns the ids of the images stored for it."""
    async with opened(build_store(settings)) as store:
        blob_ids = [await store.put_image(data) for data in images]
        draft["images"] = [
            {
                "name": f"photo-{n}.jpg",
                "caption": f"Photo {n}",
                "blob_id": blob_id,
                "size": len(data),
                "mime_type": "image/jpeg",
                "telegram_file_id": None,
            }
            for n, (blob_id, data) in enumerate(zip(blob_ids, images, strict=True), start=1)
        ]
        await store.save_state(USER_DATA, str(ALICE), {"draft": draft})
        await store.save_state(f"conversation:{CONVERSATION_NAME}", json.dumps([ALICE, ALICE]), step)
    return blob_ids


async def test_a_draft_saved_by_the_previous_version_goes_on_after_an_upgrade(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    settings = bot_settings(api, database_url, encryption_key)
    shop = {
        "target_id": f"tg{SHOP}",
        "name": "Shop news",
        "address": str(SHOP),
        "kind": "channel",
        "url": "https://t.me/shopnews",
        "account_id": "telegram",
    }
    team = {
        "target_id": f"tg{TEAM}",
        "name": "Team chat",
        "address": str(TEAM),
        "kind": "supergroup",
        "url": None,
        "account_id": "telegram",
    }
    old_draft = {
        "step": "time",
        "account_id": "telegram",
        "account_name": "Telegram (this bot)",
        "platform": "telegram",
        "selected": [f"tg{TEAM}"],
        "page": 0,
        "targets": [shop, team],
        "caption": "Written before the upgrade",
    }
    blob_ids = await save_conversation(settings, "time", old_draft, PHOTOS[0], PHOTOS[1])
    async with bot_running(settings) as store:
        preview = await alice.say("tomorrow 10:00", expect="step 5 of 5")
        assert preview is not None and "1 target: Team chat" in preview["text"] and "2 images" in preview["text"]
        album = [m for m in alice.bot_messages() if m.get("media_group_id")]
        assert [m.get("caption") for m in album] == ["Written before the upgrade\n\nPhoto 1", "Photo 2"]
        await alice.press("Schedule", expect="Scheduled #")
        [post] = (await store.list_posts(ALICE, PostView.UPCOMING)).posts
        assert (post.main_caption, [t.name for t in post.targets]) == ("Written before the upgrade", ["Team chat"])
        assert [image.blob_id for image in post.images] == blob_ids
        assert [await store.load_image(blob_id) for blob_id in blob_ids] == PHOTOS[:2]


async def test_a_draft_that_cannot_be_read_after_an_upgrade_is_dropped_with_a_word_not_a_crash(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    settings = bot_settings(api, sqlite_url, encryption_key)
    await save_conversation(settings, "time", {"step": "time", "targets": "Shop news", "selected": 3})
    async with bot_running(settings):
        await alice.say("tomorrow 10:00", expect=texts.DRAFT_UNREADABLE)
        await alice.say("tomorrow 10:00", expect="I'm not waiting for anything")
        await choose_targets(alice, "Shop news")
    assert all(m.get("text") != texts.SOMETHING_WENT_WRONG for m in alice.bot_messages())
