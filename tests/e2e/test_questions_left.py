"""A question the bot asked and the person left for another screen (the menu, another button):
the next text they type goes where they are now, never into the question they left."""

from __future__ import annotations

from datetime import timedelta

from storage.models import Account, Platform, Target, new_post, utc_now
from tests.e2e.conftest import ALICE, Person, bot_running, bot_settings
from tests.fakes.bot_api import FakeBotAPI

SHOP = -1003100000001


async def test_an_edit_caption_question_left_for_new_post_changes_no_caption(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    api.add_chat(SHOP, "channel", "Shop news")
    api.set_member(SHOP, ALICE, "administrator")
    api.bot_added_to_chat(SHOP, ALICE)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        account = Account("telegram", ALICE, Platform.TELEGRAM, "Telegram (this bot)")
        post = await store.create_post(
            new_post(
                user_id=ALICE,
                account=account,
                targets=[Target(f"tg{SHOP}", "Shop news", str(SHOP), "channel")],
                main_caption="The words as they are",
                scheduled_time=utc_now() + timedelta(hours=3),
            )
        )
        await alice.say("/start", expect="What would you like to do?")
        await alice.say("/scheduled", expect="Upcoming")
        await alice.press(f"#{post.short_id}", expect="Scheduled for")
        await alice.press("Edit caption", expect="Send the new caption")
        # Alice moves on without answering: New post, from the menu she got earlier.
        await alice.press("New post", expect="Where should it go?")
        await alice.press("Shop news", expect="selected")
        await alice.press("Done (1)", expect="Send the photos")
        await alice.press("No images", expect="Send its text")
        await alice.say("Words for the new post", expect="step 4 of 5")
        kept = await store.get_post(ALICE, post.post_id)
        assert kept is not None and kept.main_caption == "The words as they are"
