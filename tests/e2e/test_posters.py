"""Posters end to end: saved from New post, shown as they will look, used in a post, deleted."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from handlers.compose import PHOTO_ACK_DELAY
from storage.models import PostView, utc_now
from tests.e2e.conftest import ALICE, Person, bot_running, bot_settings
from tests.e2e.steps import add_chat, choose_targets, schedule_for
from tests.fakes.bot_api import FakeBotAPI

SHOP = -1004000000001
PHOTOS = [bytes([0xFF, 0xD8, n]) * 250 + f"poster photo {n}".encode() for n in range(2)]


@pytest.fixture
def alice(api: FakeBotAPI) -> Person:
    """Alice, who administers Shop news, the bot added to it."""
    add_chat(api, SHOP, "Shop news")
    return Person(api, ALICE)


async def test_a_saved_poster_is_shown_used_and_deleted_and_its_post_keeps_the_images(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await alice.say("/posters", expect="no posters yet")

        # Save: photos, then the caption, then "Save as poster" at the time step.
        await choose_targets(alice, "Shop news")
        await alice.send_photos(PHOTOS, ["first", "second"])
        acknowledged = await alice.expect("2 photos in")
        assert "Save as poster" in repr(acknowledged["reply_markup"])
        await alice.say("Spring sale starts today", expect="step 4 of 5")
        await alice.press("Save as poster", expect="What should this poster be called?")
        before = alice.snapshot()
        await alice.say("Spring sale", expect="Saved as the poster")
        asked_again = await alice.expect("step 4 of 5", since=before)
        assert "Save as poster" not in repr(asked_again["reply_markup"]), "offered to save it twice"
        await alice.say("/cancel", expect="Cancelled")
        [poster] = await store.list_posters(ALICE)
        assert (poster.name, poster.main_caption) == ("Spring sale", "Spring sale starts today")
        assert [await store.load_image(image.blob_id) for image in poster.images] == PHOTOS
        assert [image.caption for image in poster.images] == ["first", "second"]

        # Show: the album as it will look, sent by file id.
        await alice.say("/posters", expect="Your posters")
        uploads = len(api.calls_of("sendMediaGroup"))
        await alice.press("Spring sale", expect="Spring sale — 2 images")
        album = [m for m in alice.bot_messages() if m.get("media_group_id")][-2:]
        assert [m.get("caption") for m in album] == ["Spring sale starts today\n\nfirst", "second"]
        [shown] = api.calls_of("sendMediaGroup")[uploads:]
        sent_media = [item["media"] for item in shown.params["media"]]
        assert sent_media == [image.telegram_file_id for image in poster.images], "re-uploaded, not by file id"

        # Use it in a new post.
        await choose_targets(alice, "Shop news")
        await alice.press("🖼 Spring sale", expect="Using the poster")
        await schedule_for(alice, button="In 1 hour")

        # Delete it, after a confirm step.
        await alice.say("/posters", expect="Your posters")
        await alice.press("Spring sale", expect="Spring sale — 2 images")
        await alice.press("Delete", expect="Delete the poster")
        await alice.press("Yes, delete it", expect="is deleted")
        assert await store.list_posters(ALICE) == []
        await alice.say("/posters", expect="no posters yet")

        [post] = (await store.list_posts(ALICE, PostView.UPCOMING)).posts
        assert post.poster_name == "Spring sale" and post.main_caption == "Spring sale starts today"
        await store.purge_orphan_images(utc_now() + timedelta(minutes=1))
        assert [await store.load_image(image.blob_id) for image in post.images] == PHOTOS


async def test_a_poster_name_asked_right_after_a_photo_is_not_interrupted_by_the_photo_count(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await choose_targets(alice, "Shop news")
        await alice.send_photos(PHOTOS[:1], ["first"])
        await alice.expect("1 photo in")
        # The second photo's count is due a second later; the name is asked before that.
        await alice.send_photos(PHOTOS[1:], ["second"])
        asked = await alice.press("Save as poster", expect="What should this poster be called?")
        assert asked is not None
        await asyncio.sleep(PHOTO_ACK_DELAY + 0.5)
        after = [m for m in alice.bot_messages() if m["message_id"] > asked["message_id"]]
        assert not [m for m in after if "photos in" in str(m.get("text"))], "the photo count cut into the question"
        await alice.say("Two photos", expect="Saved as the poster")
        await alice.expect("2 photos in")
        [poster] = await store.list_posters(ALICE)
        assert [image.caption for image in poster.images] == ["first", "second"]
