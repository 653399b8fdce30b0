"""Edit everywhere and Delete everywhere, end to end through the fake Bot API (and the fake Graph
API): a published post's caption, text and buttons changed on every target with the refusing one
reported, a photo swapped for a video, an album and its follow-up deleted with a group's 48-hour
refusal reported, a second press and a forged press doing nothing, a Facebook Page post edited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.base import Store
from storage.models import Post, PostView
from tests.e2e.conftest import ALICE, BOB, Person, bot_running, bot_settings
from tests.e2e.steps import (
    add_chat,
    buttons_of,
    choose_every_target,
    choose_targets,
    connect_facebook,
    settings_with_graph,
    start_adding,
)
from tests.fakes.bot_api import FakeBotAPI, jpeg_bytes
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.webhook_receiver import WebhookReceiver

SHOP, DEALS, CLUB, FRIENDS = -1005000000001, -1005000000002, -1005000000003, -4000000004
PHOTOS = [jpeg_bytes(90 + n, 60, f"edit {n}".encode()) for n in range(3)]
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"clip" * 64
NEW_TEXT = "Sale ends Sunday"
NEW_FORMATTING = [{"type": "bold", "offset": 0, "length": 4}, {"type": "italic", "offset": 10, "length": 6}]
USER_TOKEN = "fb-user-token-for-edit-tests"
PAGE = ("4444", "Bakery Page", "fb-page-token-4444")
HOURS = 3600
SECRET = "whsec-edit-everywhere-0123456789"
EDITS = ("editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup")


@pytest.fixture
def alice(api: FakeBotAPI) -> Person:
    """Alice, who administers three channels and a basic group where the bot posts."""
    add_chat(api, SHOP, "Shop news")
    add_chat(api, DEALS, "Deals")
    add_chat(api, CLUB, "Club")
    add_chat(api, FRIENDS, "Old friends", kind="group")
    return Person(api, ALICE)


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as server:
        server.add_user_token(USER_TOKEN, [PAGE])
        yield server


def of_bot(api: FakeBotAPI, chat_id: int) -> list[dict[str, Any]]:
    return api.bot_messages(chat_id)


async def publish_album(alice: Person, api: FakeBotAPI, *targets: str, buttons: str = "", photos: int = 2) -> None:
    """An album of `photos` photos with a caption (and `buttons`) published now to `targets`."""
    await choose_targets(alice, *targets)
    await alice.send_photos(PHOTOS[:photos])
    await alice.expect(f"{photos} photos in")
    await alice.say("Spring sale", expect="step 4 of 5")
    await alice.press("Post now", expect="step 5 of 5")
    if buttons:
        await alice.press("Add buttons", expect="one row per line")
        await alice.say(buttons, expect="step 5 of 5")
    await alice.press("Schedule", expect="Scheduled #")
    await alice.expect("ublished #", timeout=15)


async def the_post(store: Store) -> Post:
    return (await store.list_posts(ALICE, PostView.HISTORY)).posts[0]


async def open_details(alice: Person) -> None:
    """The Details of the post the last report is about."""
    await alice.press("Details", expect="Scheduled for")


def edit_calls(api: FakeBotAPI) -> list[tuple[str, Any]]:
    """The edits the bot asked for outside Alice's chat (where it edits its own screens)."""
    return [
        (call.method, call.params.get("chat_id"))
        for call in api.calls
        if call.method in EDITS and str(call.params.get("chat_id")) != str(ALICE)
    ]


async def test_edit_everywhere_changes_every_target_and_reports_the_one_that_refused(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await publish_album(alice, api, "Shop news", "Deals", "Club", buttons="Order - https://shop.example/order")
        for chat in (SHOP, DEALS, CLUB):
            assert [m["kind"] for m in of_bot(api, chat)] == ["photo", "photo", "text"]
        # Club's admins took the bot's right to post (and so to edit) there.
        api._chats[CLUB].members[api.bot_user["id"]].rights["can_post_messages"] = False

        await open_details(alice)
        await alice.press("Edit everywhere", expect="What should change?")
        await alice.press("Text", expect="Send the new text")
        # Too long to stay a caption under the album: refused before anything is sent.
        refused = await alice.say("x" * 1100, expect="Edit #")
        assert refused is not None and "no longer fits as a caption" in refused["text"]
        assert "Edit in" not in repr(refused["reply_markup"]) and edit_calls(api) == []
        await alice.press("Keep it as it is", expect="Scheduled for")

        await alice.press("Edit everywhere", expect="What should change?")
        await alice.press("Text", expect="Send the new text")
        before = alice.snapshot()
        api.send_text(ALICE, NEW_TEXT, NEW_FORMATTING)
        confirm = await alice.expect("Edit #", since=before)
        assert "<b>" not in confirm["text"] and "Sale ends Sunday" in confirm["text"]
        assert all(name in confirm["text"] for name in ("Shop news", "Deals", "Club"))
        await alice.press("Edit in 3", expect="Edited #")
        report = alice.last()["text"]
        assert "in 2/3 targets" in report and "✅ edited in Shop news" in report and "✅ edited in Deals" in report
        assert "❌ Club: the bot is no longer an administrator allowed to post there" in report
        for chat in (SHOP, DEALS):
            first, second, follow_up = of_bot(api, chat)
            assert first["caption"] == NEW_TEXT and first["caption_entities"] == NEW_FORMATTING
            assert second["edit_date"] is None and follow_up["edit_date"] is None
            assert buttons_of(follow_up) == ["Order"]
        assert of_bot(api, CLUB)[0]["caption"] == "Spring sale"
        stored = await the_post(store)
        assert (stored.main_caption, stored.caption_entities) == (NEW_TEXT, NEW_FORMATTING)
        assert stored.edited_at is not None and "✏️ Edited at" in report

        # The buttons, on the message of their own after the album.
        await alice.press("Edit everywhere", expect="What should change?")
        await alice.press("Buttons", expect="one row per line")
        await alice.say("Menu - https://shop.example/menu | Call - copy: 555-0100", expect="Edit #")
        await alice.press("Edit in 3", expect="Edited #")
        for chat in (SHOP, DEALS):
            assert buttons_of(of_bot(api, chat)[2]) == ["Menu", "Call"]
            assert of_bot(api, chat)[0]["caption"] == NEW_TEXT
        assert buttons_of(of_bot(api, CLUB)[2]) == ["Order"]
        assert [[b.label for b in row] for row in (await the_post(store)).buttons] == [["Menu", "Call"]]


async def test_a_text_post_is_edited_once_however_often_its_confirm_is_pressed(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await choose_targets(alice, "Shop news")
        await alice.press("No images", expect="Send its text")
        await alice.say("Open at 9", expect="step 4 of 5")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Add buttons", expect="one row per line")
        await alice.say("Order - https://shop.example/order", expect="step 5 of 5")
        await alice.press("Schedule", expect="Scheduled #")
        await alice.expect("Published #", timeout=15)
        await open_details(alice)
        await alice.press("Edit everywhere", expect="What should change?")
        await alice.press("Text", expect="Send the new text")
        await alice.say("Open at 10", expect="Edit #")
        older = alice.find_button("Edit in 1")
        # Alice thinks again and asks for another text: the first question's button is out of date.
        await alice.press("Keep it as it is", expect="Scheduled for")
        await alice.press("Edit everywhere", expect="What should change?")
        await alice.press("Text", expect="Send the new text")
        await alice.say("Open at 11", expect="Edit #")
        yes = alice.find_button("Edit in 1")
        await alice.press_data(*older)
        assert alice.last_answer()["text"].startswith("This question is out of date")
        assert edit_calls(api) == []
        # Bob forges Alice's confirm: nothing of hers changes.
        answered = len(api.callback_answers)
        api.press(BOB, yes[0], yes[1])
        await alice.wait_answered(answered)
        assert api.callback_answers[-1]["text"] == "I can't find that among yours."
        await alice.press_data(*yes, expect="Edited #")
        [message] = of_bot(api, SHOP)
        assert message["text"] == "Open at 11" and buttons_of(message) == ["Order"]
        # A second press of the same confirm: said to be done already, nothing sent again.
        calls = len(edit_calls(api))
        await alice.press_data(*yes)
        assert alice.last_answer()["text"].startswith("Already done")
        assert len(edit_calls(api)) == calls and (await the_post(store)).revision == 1


async def test_a_photo_of_the_album_is_swapped_for_a_video_of_its_kind(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await choose_targets(alice, "Shop news")
        await alice.send_photos(PHOTOS[:2], ["left", "right"])
        await alice.expect("2 photos in")
        await alice.say("Two views", expect="step 4 of 5")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Schedule", expect="Scheduled #")
        await alice.expect("Published #", timeout=15)
        await open_details(alice)
        await alice.press("Edit everywhere", expect="What should change?")
        await alice.press("Swap a photo or video", expect="Which photo or video")
        await alice.press("2. photo", expect="Send the photo or video")
        before = alice.snapshot()
        api.send_document(ALICE, b"%PDF-1.4 menu", "menu.pdf")
        await alice.expect("can't take the place of photo 2", since=before)
        before = alice.snapshot()
        api.send_media(ALICE, "video", MP4, file_name="tour.mp4")
        await alice.expect("swapped for the new video", since=before)
        await alice.press("Edit in 1", expect="Edited #")
        first, second = of_bot(api, SHOP)
        assert (first["kind"], first["caption"], first["edit_date"]) == ("photo", "Two views\n\nleft", None)
        assert (second["kind"], second["caption"], second["media_group_id"]) == (
            "video",
            "right",
            first["media_group_id"],
        )
        stored = await the_post(store)
        assert [image.kind.value for image in stored.images] == ["photo", "video"]
        assert stored.images[1].caption == "right" and stored.images[1].telegram_file_id == second["video"]
    assert api.refusals == []


async def test_delete_everywhere_removes_every_message_and_reports_a_refused_group(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await publish_album(alice, api, "Shop news", "Old friends", buttons="Order - https://shop.example/order")
        # Two days later: Telegram no longer lets the bot delete its messages in the basic group.
        api.age_messages(FRIENDS, 49 * HOURS)
        await open_details(alice)
        await alice.press("Delete everywhere", expect="Delete #")
        yes = alice.find_button("Yes, delete in 2")
        await alice.press_data(*yes, expect="Deleted #")
        report = alice.last()["text"]
        assert "in 1/2 targets" in report and "✅ deleted in Shop news" in report
        assert "❌ Old friends: Telegram lets a bot delete a message in a group only within 48 hours" in report
        assert [m["deleted"] for m in of_bot(api, SHOP)] == [True, True, True]
        assert [m["deleted"] for m in of_bot(api, FRIENDS)] == [False, False, False]
        assert "🗑 Deleted at" in report and "🗑 Shop news: deleted" in report
        stored = await the_post(store)
        shop, friends = (stored.deliveries[f"tg{chat}"] for chat in (SHOP, FRIENDS))
        assert shop.deleted_at is not None and friends.deleted_at is None and stored.deleted_at is not None
        # The old confirm again: done already, nothing deleted again.
        deletes = sum(1 for call in api.calls if call.method == "deleteMessage")
        await alice.press_data(*yes)
        assert alice.last_answer()["text"].startswith("Already done")
        assert sum(1 for call in api.calls if call.method == "deleteMessage") == deletes
        # Only the group is left to delete in.
        await alice.press("Delete everywhere", expect="Delete #")
        assert "Yes, delete in 1" in repr(alice.last()["reply_markup"])
        # The history list marks it too.
        await alice.press("Keep it", expect="Scheduled for")
        listing = await alice.press("Back to the list", expect="History")
        assert listing is not None and f"#{stored.short_id}" in listing["text"] and "🗑 deleted" in listing["text"]


async def test_another_users_post_cannot_be_deleted_through_a_forged_button(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await publish_album(alice, api, "Shop news")
        post = await the_post(store)
        bob = Person(api, BOB)
        await bob.say("/start", expect="Herald")
        for data in (f"post:del_all:{post.post_id}", f"post:del_yes:{post.post_id}-0", f"post:edit_all:{post.post_id}"):
            answered = len(api.callback_answers)
            api.press(BOB, bob.last()["message_id"], data)
            await bob.wait_answered(answered)
            assert api.callback_answers[-1]["text"] == "I can't find that among yours."
        assert not any(m["deleted"] for m in of_bot(api, SHOP))
        assert (await the_post(store)).revision == 0


async def test_a_facebook_page_post_is_edited_through_the_graph_api(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store:
        await connect_facebook(alice, USER_TOKEN, pages=1)
        await choose_targets(alice, "Bakery Page", account="Facebook")
        await alice.press("No images", expect="Send its text")
        await alice.say("Fresh bread at 7", expect="step 4 of 5")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Schedule", expect="Scheduled #")
        await alice.expect("Published #", timeout=15)
        await open_details(alice)
        await alice.press("Edit everywhere", expect="What should change?")
        await alice.press("Text", expect="Send the new text")
        await alice.say("Fresh bread at 8", expect="Edit #")
        await alice.press("Edit in 1", expect="Edited #")
        assert "✅ edited in Bakery Page" in alice.last()["text"]
        assert [entry["message"] for entry in graph.feed(PAGE[0])] == ["Fresh bread at 8"]
        assert (await the_post(store)).main_caption == "Fresh bread at 8"
        await alice.press("Delete everywhere", expect="Delete #")
        await alice.press("Yes, delete in 1", expect="Deleted #")
        assert graph.feed(PAGE[0]) == []


async def test_a_webhook_is_told_of_the_edit_and_the_delete_in_signed_events(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with WebhookReceiver(SECRET) as receiver, bot_running(bot_settings(api, sqlite_url, encryption_key)):
        await start_adding(alice, "Webhook", expect="Send the webhook's")
        await alice.say(receiver.url, expect="signing secret")
        await alice.say(SECRET, expect="a signed test delivery was accepted")
        await alice.press("Use 127.0.0.1", expect="saved")
        await choose_every_target(alice, 5)
        await alice.press("No images", expect="Send its text")
        await alice.say("Hello", expect="step 4 of 5")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Schedule", expect="Scheduled #")
        await alice.expect("Published #", timeout=15)
        await open_details(alice)
        await alice.press("Edit everywhere", expect="What should change?")
        await alice.press("Text", expect="Send the new text")
        confirm = await alice.say("Hello again", expect="Edit #")
        assert confirm is not None and "127.0.0.1" in confirm["text"] and "Can't be edited" not in confirm["text"]
        await alice.press("Edit in 5", expect="Edited #")
        assert "in 5/5 targets" in alice.last()["text"]
        edited = receiver.requests[-1]
        assert edited.verified and edited.json["type"] == "edited" and edited.json["caption"] == "Hello again"
        assert edited.header("Idempotency-Key") == f"{edited.json['post_id']}:{edited.json['target']['id']}:1"
        assert [m["text"] for m in of_bot(api, SHOP)] == ["Hello again"]

        # The receiver no longer knows the post: its refusal is reported, the channels' copies go.
        receiver.respond_next(404, "no such post")
        await alice.press("Delete everywhere", expect="Delete #")
        await alice.press("Yes, delete in 5", expect="Deleted #")
        report = alice.last()["text"]
        assert "in 4/5 targets" in report and "❌ 127.0.0.1: the webhook refused it (404): no such post" in report
        deleted = receiver.requests[-1]
        assert deleted.verified and deleted.json["type"] == "deleted" and "deleted_at" in deleted.json
        assert [m["deleted"] for m in of_bot(api, SHOP)] == [True]
