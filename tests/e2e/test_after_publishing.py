"""After the time, end to end through the fake Bot API: delivery options chosen in the preview and
sent as asked (silent, protected, pinned silently), remembered for the next post, refused up front
where a chat cannot do them; unpin and delete run at their times — every message of an album, once,
across a restart and beside a second process — and a refusal reported to the owner once."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

from handlers import texts
from storage import Store
from storage.models import DeliveryOptions, FollowUpKind, FollowUpStatus, Image, Post, PostView, Target, utc_now
from tests.e2e.conftest import ALICE, Person, bot_running, bot_settings, eventually
from tests.e2e.processes import bot_process
from tests.e2e.steps import add_chat, channel_targets, settled, telegram_post, text_post_to_its_time
from tests.fakes.bot_api import FakeBotAPI, jpeg_bytes

SHOP, TEAM = -1003000000001, -4003000000001
CHANNELS = {SHOP: "Shop news"}
HOUR = 3600


async def stored_post(
    store: Store, options: DeliveryOptions, targets: list[Target], *, photos: int = 0, caption: str = "1/24 ad"
) -> Post:
    """A post of Alice's due now with these options (and `photos` photos: an album from two)."""
    images = [Image(f"{n}.jpg", await store.put_image(jpeg_bytes(tag=bytes([n]))), "") for n in range(photos)]
    post = replace(telegram_post(caption, targets, timedelta(0), images), options=options)
    return await store.create_post(post)


def bot_records(api: FakeBotAPI, chat_id: int) -> list[dict[str, Any]]:
    return api.bot_messages(chat_id)


def deletes_in(api: FakeBotAPI, chat_id: int) -> Counter[int]:
    """How many delete requests named each message of the chat (deleteMessage and deleteMessages)."""
    counted: Counter[int] = Counter()
    for call in api.calls_of("deleteMessage") + api.calls_of("deleteMessages"):
        if int(call.params["chat_id"]) != chat_id:
            continue
        ids = call.params.get("message_ids") or [call.params["message_id"]]
        counted.update(int(one) for one in ids)
    return counted


async def test_options_chosen_in_the_preview_are_sent_as_asked_and_kept_for_the_next_post(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_chat(api, SHOP, "Shop news")
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await text_post_to_its_time(alice, "Flash sale", "Shop news")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Silent: off", expect="🔕 silent")
        await alice.press("After publishing: nothing", expect="After publishing")
        preview = await alice.press("📌 1 h pinned / 🗑 24 h", expect="📌 pinned silently, unpinned after 1 h")
        assert preview is not None and "🗑 deleted after 24 h" in preview["text"]
        assert "Silent: on" in repr(preview["reply_markup"])
        await alice.press("Schedule", expect="Scheduled #")

        [sent] = await eventually(lambda: bot_records(api, SHOP))
        assert sent["text"] == "Flash sale"
        assert sent["disable_notification"] and not sent["protect_content"]
        await eventually(lambda: bot_records(api, SHOP)[0]["pinned"])
        assert bot_records(api, SHOP)[0]["pinned_silently"], "pinned without a sound"

        async def finished() -> Post | None:
            page = await store.list_posts(ALICE, PostView.HISTORY)
            return page.posts[0] if page.posts else None

        post = await eventually(finished)
        actions = await eventually(lambda: store.follow_ups_of(post.post_id))
        assert [action.kind for action in actions] == [FollowUpKind.UNPIN, FollowUpKind.DELETE]
        published = post.published_at or utc_now()
        assert abs((actions[0].due_at - published).total_seconds() - HOUR) < 10
        assert abs((actions[1].due_at - published).total_seconds() - 24 * HOUR) < 10
        assert actions[0].message_ids == [str(sent["message_id"])]

        await alice.expect(f"Published #{post.short_id}")
        details = await alice.press("Details", expect="📌 pinned in")
        assert details is not None
        assert "📌 pinned in Shop news until" in details["text"]
        assert "🗑 will be deleted from Shop news at" in details["text"]
        assert "🔕 silent" in details["text"]

        # The next post starts with the same options.
        await text_post_to_its_time(alice, "Next one", "Shop news")
        again = await alice.press("Tomorrow 09:00", expect="step 5 of 5")
        assert again is not None and "Silent: on" in repr(again["reply_markup"])
        assert "After publishing: 📌 1 h pinned / 🗑 24 h" in repr(again["reply_markup"])
    assert api.refusals == []


async def test_what_a_chat_cannot_do_is_said_in_the_preview_before_scheduling(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_chat(api, SHOP, "Shop news")
    add_chat(api, TEAM, "Team", "supergroup")
    api.set_bot_rights(TEAM, can_delete_messages=False)
    api.set_bot_rights(SHOP, can_edit_messages=False)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await text_post_to_its_time(alice, "Weekly", "Shop news", "Team")
        await alice.press("Tomorrow 09:00", expect="step 5 of 5")
        await alice.press("After publishing", expect="pin the post")
        preview = await alice.press("🗑 72 h", expect="only for 48 hours")
        assert preview is not None and "Team" in preview["text"]
        assert "Shop news: the bot may not pin" not in preview["text"], "no pin was chosen"
        await alice.press("After publishing", expect="pin the post")
        preview = await alice.press("📌 24 h pinned", expect="may not pin")
        assert preview is not None and "Shop news: the bot may not pin messages there" in preview["text"]
        assert "48 hours" not in preview["text"], "a delete is no longer chosen"
        # Forged or stale preset buttons change nothing.
        before = await store.delivery_defaults(ALICE)
        message_id, _ = alice.find_button("Schedule")
        await alice.press_data(message_id, "new:after_set:d9999")
        assert alice.last_answer().get("text") == texts.WRONG_STEP_BUTTON
        assert await store.delivery_defaults(ALICE) == before


async def test_pinned_then_unpinned_then_every_message_of_an_album_deleted_at_their_times(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_chat(api, SHOP, "Shop news")
    options = DeliveryOptions(protect=True, pin=True, unpin_after=3, delete_after=6)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await settled(api)
        post = await stored_post(store, options, channel_targets(CHANNELS), photos=3)
        album = await eventually(lambda: len(bot_records(api, SHOP)) == 3 and bot_records(api, SHOP))
        published = asyncio.get_running_loop().time()
        assert all(message["protect_content"] for message in album)
        await eventually(lambda: bot_records(api, SHOP)[0]["pinned"], timeout=3)

        await eventually(lambda: not bot_records(api, SHOP)[0]["pinned"], timeout=8)
        unpinned = asyncio.get_running_loop().time() - published
        assert 2.0 <= unpinned <= 5.5, f"unpinned {unpinned:.1f} s after publishing"
        assert not any(message["deleted"] for message in bot_records(api, SHOP))

        await eventually(lambda: all(message["deleted"] for message in bot_records(api, SHOP)), timeout=10)
        deleted = asyncio.get_running_loop().time() - published
        assert 5.0 <= deleted <= 8.5, f"deleted {deleted:.1f} s after publishing"
        assert len(api.calls_of("deleteMessages")) == 1, "the album in one call"
        assert set(deletes_in(api, SHOP).values()) == {1}

        actions = await store.follow_ups_of(post.post_id)
        assert {action.status for action in actions} == {FollowUpStatus.DONE}
        assert actions[-1].message_ids == [str(message["message_id"]) for message in album]
    assert api.refusals == []


async def _has_follow_up(store: Store, post: Post) -> bool:
    return bool(await store.follow_ups_of(post.post_id))


async def test_a_restart_between_publishing_and_the_delete_time_still_deletes_exactly_once(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_chat(api, SHOP, "Shop news")
    settings = bot_settings(api, database_url, encryption_key)
    async with bot_running(settings) as store:
        await settled(api)
        # The delay outlasts publishing and stopping on a loaded machine: the bot is gone at the delete time.
        post = await stored_post(store, DeliveryOptions(delete_after=8), channel_targets(CHANNELS), photos=2)
        await eventually(lambda: len(bot_records(api, SHOP)) == 2)
        await eventually(lambda: _has_follow_up(store, post), timeout=10)
        [planned] = await store.follow_ups_of(post.post_id)
    assert not any(message["deleted"] for message in bot_records(api, SHOP)), "stopped before the delete time"
    # The delete falls due while no bot runs.
    await asyncio.sleep(max(0.0, (planned.due_at - utc_now()).total_seconds()) + 0.5)

    async with bot_running(settings) as store:
        await eventually(lambda: all(message["deleted"] for message in bot_records(api, SHOP)), timeout=10)
        await asyncio.sleep(2.5)  # more sweeps: nothing is deleted again
        [action] = await store.follow_ups_of(post.post_id)
        assert action.status is FollowUpStatus.DONE and action.attempts == 1
    assert set(deletes_in(api, SHOP).values()) == {1}
    assert api.refusals == []


async def test_the_bot_and_a_worker_on_one_database_delete_each_post_once(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    channels = {SHOP - n: f"Channel {n}" for n in range(3)}
    for chat_id, title in channels.items():
        add_chat(api, chat_id, title)
    settings = bot_settings(api, database_url, encryption_key, publish_concurrency=8)
    async with bot_running(settings) as store, bot_process(settings, mode="worker"):
        live = settings.data_folder / "workers"
        await eventually(lambda: len(list(live.glob("*/*.lock"))) == 2, timeout=60)
        posts = [
            await stored_post(store, DeliveryOptions(delete_after=2), channel_targets(channels), caption=f"ad {n}")
            for n in range(40)
        ]

        async def all_done() -> bool:
            for post in posts:
                actions = await store.follow_ups_of(post.post_id)
                if len(actions) != 3 or any(a.status is not FollowUpStatus.DONE for a in actions):
                    return False
            return True

        await eventually(all_done, timeout=90)
        await asyncio.sleep(2.5)  # more sweeps of both: nothing is deleted again
    for chat_id in channels:
        assert len(bot_records(api, chat_id)) == 40 and all(m["deleted"] for m in bot_records(api, chat_id))
        assert set(deletes_in(api, chat_id).values()) == {1}, "a message was deleted twice"
    assert api.refusals == []


async def test_a_lost_delete_right_is_reported_to_the_owner_once(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_chat(api, SHOP, "Shop news")
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await settled(api)
        post = await stored_post(store, DeliveryOptions(delete_after=3), channel_targets(CHANNELS))
        await eventually(lambda: bot_records(api, SHOP))
        # Demoted: it may neither delete nor post (with the right to post it could delete its own).
        api.set_bot_rights(SHOP, can_delete_messages=False, can_post_messages=False)

        told = await alice.expect("couldn't delete in Shop news: the bot lost its delete right", timeout=10)
        assert f"#{post.short_id}" in told["text"]
        await asyncio.sleep(3)  # more sweeps: told once
        reports = [m for m in alice.bot_messages() if "couldn't delete" in (m.get("text") or "")]
        assert len(reports) == 1
        [action] = await store.follow_ups_of(post.post_id)
        assert action.status is FollowUpStatus.FAILED and action.notified_at is not None
    assert not bot_records(api, SHOP)[0]["deleted"]


async def test_a_group_message_older_than_48_hours_is_refused_and_the_owner_told_why(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_chat(api, TEAM, "Team", "group")
    api.set_bot_rights(TEAM, can_delete_messages=False)
    alice = Person(api, ALICE)
    team = [Target(f"tg{TEAM}", "Team", str(TEAM), "group")]
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await settled(api)
        await stored_post(store, DeliveryOptions(delete_after=3), team)
        await eventually(lambda: bot_records(api, TEAM))
        api.advance_clock(49 * HOUR)  # Telegram's clock: the message is two days old by the delete time

        await alice.expect("couldn't delete in Team", timeout=10)
        assert "only for 48 hours" in alice.last()["text"]
    assert not bot_records(api, TEAM)[0]["deleted"]
    assert ("deleteMessage", "Bad Request: message can't be deleted for everyone") in api.refusals


async def test_a_pin_telegram_refuses_at_publishing_is_reported_with_the_post_and_never_unpinned(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_chat(api, SHOP, "Shop news")
    api.set_bot_rights(SHOP, can_edit_messages=False)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await settled(api)
        options = DeliveryOptions(pin=True, unpin_after=2, delete_after=HOUR)
        post = await stored_post(store, options, channel_targets(CHANNELS))
        report = await alice.expect(f"Published #{post.short_id}", timeout=10)
        assert "Shop news: sent, but not pinned: the bot may not pin messages there" in report["text"]
        assert not bot_records(api, SHOP)[0]["pinned"]
        actions = await store.follow_ups_of(post.post_id)
        assert [action.kind for action in actions] == [FollowUpKind.DELETE], "nothing to unpin"
        await asyncio.sleep(3)
    assert api.calls_of("unpinChatMessage") == []
    assert api.refusals == [("pinChatMessage", "Bad Request: not enough rights to pin a message")]
