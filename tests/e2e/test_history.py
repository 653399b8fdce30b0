"""Scheduled & history end to end: the list, each post's Details, Cancel, Reschedule, Edit caption,
Retry — and other people's forged buttons — through bot.py's Application and the fake Bot API."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from handlers import texts
from storage import Store, build_store
from storage.models import Delivery, DeliveryStatus, ErrorKind, Image, Post, Poster, PostStatus, Target, new_id, utc_now
from tests.conftest import opened
from tests.e2e.conftest import ALICE, BOB, Person, bot_running, bot_settings, eventually
from tests.e2e.steps import (
    add_channels,
    buttons_of,
    channel_targets,
    open_post,
    settled,
    store_post,
    telegram_post,
    texts_in,
)
from tests.fakes.bot_api import FakeBotAPI

SHOP, TEAM, ARCHIVE = -1003000000001, -1003000000002, -1003000000003
CHANNELS = {SHOP: "Shop news", TEAM: "Team chat", ARCHIVE: "Archive"}


@pytest.fixture
def alice(api: FakeBotAPI) -> Person:
    """Alice, who administers the three CHANNELS, the bot added to each."""
    add_channels(api, CHANNELS)
    return Person(api, ALICE)


def targets(*chat_ids: int) -> list[Target]:
    """These channels (all three without any) as a post's targets."""
    return channel_targets({chat_id: CHANNELS[chat_id] for chat_id in chat_ids or CHANNELS})


async def make_post(store: Store, caption: str, offset: timedelta, *chat_ids: int) -> Post:
    return await store_post(store, caption, targets(*chat_ids), offset)


async def finished_post(store: Store, caption: str, status: PostStatus, deliveries: list[Delivery]) -> Post:
    """A post that went out yesterday with the given outcome per target, written as the engine would."""
    post = telegram_post(caption, targets(), -timedelta(days=1))
    post.deliveries = {d.target_id: d for d in deliveries}
    post.status, post.published_at = status, utc_now() - timedelta(days=1) + timedelta(seconds=3)
    post.notified_at = post.published_at  # its report went out back then
    return await store.create_post(post)


def arrived(api: FakeBotAPI, chat_id: int) -> float | None:
    """The wall-clock time now if the chat has a post, else None."""
    return time.time() if texts_in(api, chat_id) else None


def links(message: dict[str, Any]) -> list[str]:
    return [e["url"] for e in message.get("entities") or [] if e.get("type") == "text_link"]


async def test_the_list_pages_through_posts_and_details_show_every_delivery(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await settled(api)
        api.bot_removed_from_chat(ARCHIVE, ALICE)
        await settled(api)
        published = await make_post(store, "Everything went out", timedelta(seconds=1), SHOP, TEAM)
        half_out = await make_post(store, "Partly out", timedelta(seconds=1))
        await alice.expect(f"Published #{published.short_id} to 2/2", timeout=15)
        await alice.expect(f"Partly published #{half_out.short_id}: 2/3", timeout=15)
        failed = await finished_post(
            store,
            "Nobody got this",
            PostStatus.FAILED,
            [
                Delivery(
                    f"tg{SHOP}",
                    DeliveryStatus.FAILED,
                    1,
                    error_kind=ErrorKind.PERMANENT,
                    error_code="403",
                    error_message="the bot is no longer an admin there",
                ),
                Delivery(
                    f"tg{TEAM}",
                    DeliveryStatus.UNCONFIRMED,
                    1,
                    error_kind=ErrorKind.UNCONFIRMED,
                    error_message="no answer came back",
                ),
                Delivery(
                    f"tg{ARCHIVE}",
                    DeliveryStatus.MISSED,
                    0,
                    error_kind=ErrorKind.MISSED,
                    error_message="missed while the bot was offline",
                ),
            ],
        )
        dropped = await make_post(store, "Changed my mind", timedelta(days=9))
        assert await store.cancel_post(ALICE, dropped.post_id) is not None
        upcoming = [await make_post(store, f"Upcoming number {n}", timedelta(days=n)) for n in range(1, 7)]

        listed = await alice.say("/scheduled", expect="Upcoming")
        assert listed is not None
        list_id = listed["message_id"]
        lines = [line for line in listed["text"].splitlines() if line.startswith("🕒")]
        assert [line.split()[1] for line in lines] == [f"#{p.short_id}" for p in upcoming[:5]], "soonest first"
        assert all("3 targets" in line and "Upcoming number" in line for line in lines)
        assert "▶" in buttons_of(listed) and "◀" not in buttons_of(listed)
        assert sum(1 for label in buttons_of(listed) if label.startswith("🕒 #")) == 5

        count = alice.count()
        page_two = await alice.press("▶", expect="page 2")
        assert page_two is not None and page_two["message_id"] == list_id and alice.count() == count
        assert f"#{upcoming[5].short_id}" in page_two["text"] and f"#{upcoming[0].short_id}" not in page_two["text"]
        assert "◀" in buttons_of(page_two) and "▶" not in buttons_of(page_two)
        await alice.press("◀", expect=f"#{upcoming[0].short_id}")
        await alice.press_data(list_id, "hist:list:u0")  # the page already shown: nothing to change

        history = await alice.press("History", expect="History")
        assert history is not None and history["message_id"] == list_id
        badges = {
            line.split()[1]: line.split()[0]
            for line in history["text"].splitlines()
            if line[:1] in "✅⚠❌🚫" and "#" in line
        }
        assert badges == {
            f"#{published.short_id}": "✅",
            f"#{half_out.short_id}": "⚠️",
            f"#{failed.short_id}": "❌",
            f"#{dropped.short_id}": "🚫",
        }
        assert "▶" not in buttons_of(history)

        # The partly published post: what each target got, and Retry for the one that failed.
        details = await alice.press(f"#{half_out.short_id}", expect="partly published")
        assert details is not None and details["message_id"] == list_id
        text = details["text"]
        assert "Shop news: sent" in text and "Team chat: sent" in text
        assert "Archive: failed" in text and "no longer an admin" in text
        assert "Finished" in text and "Partly out" in text and "text only" in text
        assert len([url for url in links(details) if url.startswith("https://t.me/c/")]) == 2
        assert "🔁 Retry failed" in buttons_of(details) and "🚫 Cancel post" not in buttons_of(details)

        api.bot_added_to_chat(ARCHIVE, ALICE)
        await settled(api)
        await alice.press("Retry failed", expect="1 failed target?")
        await alice.press("Yes, retry", expect="Retrying")
        await alice.expect(f"Published #{half_out.short_id} to 3/3", timeout=15)
        assert texts_in(api, ARCHIVE) == ["Partly out"]
        # Both posts were due at the same time, so they may have gone out in either order.
        assert sorted(texts_in(api, SHOP)) == ["Everything went out", "Partly out"], "a target got it again"

        back = await alice.press("Back to the list", expect="History")
        assert back is not None and back["message_id"] == list_id
        failed_details = await alice.press(f"#{failed.short_id}", expect="failed")
        assert failed_details is not None
        assert "Shop news: failed — the bot is no longer an admin there" in failed_details["text"]
        assert "Team chat: unconfirmed" in failed_details["text"]
        assert "Archive: missed — missed while the bot was offline" in failed_details["text"]

        await alice.press("Back to the list", expect="History")
        await alice.press("Upcoming", expect="Upcoming")
        scheduled = await alice.press(f"#{upcoming[0].short_id}", expect="Scheduled for")
        assert scheduled is not None
        assert "in 1 d" in scheduled["text"] or "in 23 h" in scheduled["text"]
        assert scheduled["text"].count(": waiting") == 3
        assert {"🕒 Reschedule", "✏️ Edit caption", "🚫 Cancel post"} <= set(buttons_of(scheduled))
        assert not [m for m in alice.bot_messages() if "went wrong" in str(m.get("text"))]


async def test_a_cancelled_post_is_never_published_and_one_publishing_cannot_be_cancelled(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        soon = await make_post(store, "Do not send me", timedelta(seconds=6))
        later = await make_post(store, "Going out elsewhere", timedelta(hours=1))
        await open_post(alice, soon)
        await alice.press("Cancel post", expect=f"Cancel post #{soon.short_id}?")
        cancelled = await alice.press("Yes, cancel it", expect="is cancelled")
        assert cancelled is not None and "— cancelled" in cancelled["text"]
        assert "🚫 Cancel post" not in buttons_of(cancelled) and "🕒 Reschedule" not in buttons_of(cancelled)

        # Another worker claims the other post while Alice is asked to confirm.
        await alice.press("Back to the list", expect="Upcoming")
        await alice.press(f"#{later.short_id}", expect="Scheduled for")
        await alice.press("Cancel post", expect=f"Cancel post #{later.short_id}?")
        claimed = await store.claim_post(
            later.post_id, "elsewhere", later.scheduled_time + timedelta(seconds=1), timedelta(hours=2)
        )
        assert claimed is not None and claimed.status is PostStatus.PUBLISHING
        refused = await alice.press("Yes, cancel it", expect="just started publishing")
        assert refused is not None and "can't be cancelled any more" in refused["text"]
        assert "just started publishing" in alice.last_answer()["text"]
        assert "🚫 Cancel post" not in buttons_of(refused)
        stored = await store.get_post(ALICE, later.post_id)
        assert stored is not None and stored.status is PostStatus.PUBLISHING

        # The cancelled post's time passes: nothing goes out, and the history shows it cancelled.
        await eventually(lambda: utc_now() > soon.scheduled_time + timedelta(seconds=2), timeout=10)
        assert all(texts_in(api, chat_id) == [] for chat_id in CHANNELS)
        stored = await store.get_post(ALICE, soon.post_id)
        assert stored is not None and stored.status is PostStatus.CANCELLED
        upcoming = await alice.press("Back to the list", expect="Upcoming")
        assert upcoming is not None and f"#{soon.short_id}" not in upcoming["text"]
        assert f"📤 #{later.short_id}" in upcoming["text"]
        history = await alice.press("History", expect="History")
        assert history is not None and f"🚫 #{soon.short_id}" in history["text"]


async def reschedule(alice: Person, post: Post, typed: str) -> dict[str, Any]:
    await open_post(alice, post)
    await alice.press("Reschedule", expect=f"When should post #{post.short_id} go out instead?")
    moved = await alice.say(typed, expect="now goes out")
    assert moved is not None
    return moved


async def test_a_rescheduled_post_goes_out_at_its_new_time_not_the_old_one(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    # Sweeps only every 30 s: a post can go out on time only through its exact-time job.
    settings = bot_settings(api, database_url, encryption_key, scheduler_interval=30)
    async with opened(build_store(settings)) as setup:
        far = await make_post(setup, "Was far ahead", timedelta(days=2), SHOP)
        near = await make_post(setup, "Was due sooner", timedelta(seconds=10), TEAM)
    async with bot_running(settings) as store:
        asked_at = utc_now()
        moved = await reschedule(alice, far, "in 15 seconds")
        assert "in 1" in moved["text"] and "Was far ahead" in moved["text"]
        await reschedule(alice, near, "in 15 seconds")
        far_now, near_now = await store.get_post(ALICE, far.post_id), await store.get_post(ALICE, near.post_id)
        assert far_now is not None and near_now is not None
        assert asked_at + timedelta(seconds=14) <= far_now.scheduled_time <= utc_now() + timedelta(seconds=15)
        assert near_now.scheduled_time > near.scheduled_time + timedelta(seconds=5)

        # The old time of the sooner post passes without it.
        await eventually(lambda: utc_now() > near.scheduled_time + timedelta(seconds=1), timeout=15)
        assert texts_in(api, TEAM) == []
        # The far one was moved first, so it is due first.
        for chat_id, post in ((SHOP, far_now), (TEAM, near_now)):
            appeared = await eventually(partial(arrived, api, chat_id), timeout=25)
            lag = appeared - post.scheduled_time.timestamp()
            assert -0.05 <= lag <= 1.5, f"{post.main_caption!r} published {lag:.2f}s from its new time"
        assert texts_in(api, SHOP) == ["Was far ahead"] and texts_in(api, TEAM) == ["Was due sooner"]


async def test_other_peoples_forged_buttons_change_nothing_and_the_owner_can_edit(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    bob = Person(api, BOB)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        post = await make_post(store, "Alice's own words", timedelta(hours=3))
        half_out = await finished_post(
            store,
            "Half out",
            PostStatus.PARTIAL,
            [
                Delivery(f"tg{SHOP}", DeliveryStatus.SENT, 1, message_id="7"),
                Delivery(f"tg{TEAM}", DeliveryStatus.SENT, 1, message_id="8"),
                Delivery(f"tg{ARCHIVE}", DeliveryStatus.FAILED, 1, error_message="chat not found"),
            ],
        )
        blob = await store.put_image(b"\xff\xd8 alice's poster image")
        poster = await store.save_poster(
            Poster(new_id(), ALICE, "Alice's poster", "Secret sale", [Image("a.jpg", blob, "", 26)])
        )
        await bob.say("/start", expect="Herald")

        for data in (
            f"post:details:{post.post_id}",
            f"post:details:{post.post_id}/u0",
            f"post:cancel:{post.post_id}/u0",
            f"post:cancel_yes:{post.post_id}/u0",
            f"post:cancel_yes:{post.post_id}",
            f"post:keep:{post.post_id}/u0",
            f"post:retry:{half_out.post_id}/h0",
            f"post:retry_yes:{half_out.post_id}/h0",
            f"post:retry_yes:{half_out.post_id}",
            f"post:resched:{post.post_id}/u0",
            f"post:caption:{post.post_id}/u0",
            f"poster:show:{poster.poster_id}",
            f"poster:delete:{poster.poster_id}",
            f"poster:delete_yes:{poster.poster_id}",
            f"poster:keep:{poster.poster_id}",
        ):
            await bob.press_data(1, data)
            assert bob.last_answer()["text"] == texts.NOT_YOURS, data
        # The forged Reschedule and Edit caption opened no question: typing goes nowhere.
        await bob.say("in 15 seconds", expect="I'm not waiting for anything")
        await bob.say("Bob's words", expect="I'm not waiting for anything")
        await bob.press_data(1, "hist:list:x9")
        assert bob.last_answer()["text"] == texts.STALE_BUTTON

        bobs_view = " ".join(str(m.get("text") or m.get("caption") or "") for m in bob.bot_messages())
        assert "Alice's own words" not in bobs_view and "Secret sale" not in bobs_view
        assert not any(m.get("photo") for m in bob.bot_messages())
        unchanged = await store.get_post(ALICE, post.post_id)
        assert unchanged is not None
        assert (unchanged.status, unchanged.scheduled_time, unchanged.main_caption) == (
            PostStatus.SCHEDULED,
            post.scheduled_time,
            "Alice's own words",
        )
        still = await store.get_post(ALICE, half_out.post_id)
        assert still is not None and still.status is PostStatus.PARTIAL
        assert await store.get_poster(ALICE, poster.poster_id) is not None

        # Alice's own Edit caption works, within Telegram's limits.
        await open_post(alice, post)
        await alice.press("Edit caption", expect="Send the new caption")
        await alice.say("z" * 4100, expect="Telegram allows 4,096")
        edited = await alice.say("Better words", expect="is updated")
        assert edited is not None and "Better words" in edited["text"]
        changed = await store.get_post(ALICE, post.post_id)
        assert changed is not None and changed.main_caption == "Better words"
        assert changed.scheduled_time == post.scheduled_time


async def test_button_data_of_a_shape_herald_never_makes_is_answered_as_not_yours_not_as_an_error(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    bob = Person(api, BOB)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)):
        await bob.say("/start", expect="Herald")
        for data in (
            "post:details:x;drop table posts",
            "post:cancel:../../etc/passwd",
            "post:retry_yes:%00",
            "poster:delete:a b",
            "acc:show:<script>",
        ):
            await bob.press_data(1, data)
            assert bob.last_answer().get("text") == texts.NOT_YOURS, data
    assert all(m.get("text") != texts.SOMETHING_WENT_WRONG for m in bob.bot_messages())
