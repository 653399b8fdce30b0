"""The posting schedule and its queue end to end, through the fake Bot API: slots typed, picked and
removed; Add to queue taking the next free slot on the wall clock across New York's spring DST
change (an exact time never takes one); the queue reordered, shuffled, emptied and posted from,
with stale and forged buttons answered and another person's posts never touched; and a batch of
forwarded messages (one an album) filling the queue and each published at its slot."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers import when
from storage import Store
from storage.models import PostStatus, PostView
from storage.queue import Slot
from tests.e2e.conftest import ALICE, BOB, Person, bot_running, bot_settings, eventually
from tests.e2e.steps import (
    add_channels,
    channel_targets,
    open_post,
    settled,
    telegram_post,
    text_post_to_its_time,
    texts_in,
)
from tests.fakes.bot_api import FakeBotAPI

NEW_YORK = "America/New_York"
CHANNELS = {-1003000000001: "Shop news", -1003000000002: "Deals"}
SHOP = next(iter(CHANNELS))
# Friday 12 March 2027, 12:00 in New York (EST, UTC−5); the clocks go forward on Sunday the 14th.
FRIDAY_NOON = datetime(2027, 3, 12, 17, tzinfo=UTC)


def freeze_clock(monkeypatch: pytest.MonkeyPatch, frozen: datetime) -> None:
    """The handlers' clock stands still at `frozen` (the scheduler keeps the real one)."""
    monkeypatch.setattr(when, "clock", lambda: frozen)


def buttons(message: dict[str, Any]) -> list[str]:
    return [button["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for button in row]


async def queued_times(store: Store, user: int = ALICE) -> list[tuple[str, datetime]]:
    return [(post.main_caption, post.scheduled_time) for post in await store.queued_posts(user)]


async def add_to_queue(alice: Person, text: str) -> dict[str, Any]:
    """A text post to Shop news given the next free slot; returns its preview."""
    await text_post_to_its_time(alice, text, "Shop news")
    preview = await alice.press("Add to queue", expect="step 5 of 5")
    assert preview is not None
    return preview


async def test_slots_set_by_typing_and_buttons_and_add_to_queue_takes_the_next_free_slot(
    api: FakeBotAPI, database_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channels(api, CHANNELS)
    freeze_clock(monkeypatch, FRIDAY_NOON)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await store.set_timezone(ALICE, NEW_YORK)
        await settled(api)

        # Without slots, Add to queue says how to set them, and the time step stays.
        await text_post_to_its_time(alice, "Too early", "Shop news")
        await alice.press("Add to queue", expect="No posting schedule covers these targets")
        assert "🗓 Set up slots" in buttons(alice.last())
        await alice.say("/cancel", expect="Cancelled")

        screen = await alice.say("/queue", expect="Your queue")
        assert screen is not None and "no slots yet" in screen["text"]
        await alice.press("Slots", expect="No slots yet")
        await alice.press("Add slots", expect="Send the slots")
        await alice.say("mon 25:00", expect="has no such hour")
        await alice.say("mon-fri 9:00, 18:00", expect="Added 10 slots")
        await alice.press("Add slots", expect="Send the slots")
        await alice.press("Weekends 11:00", expect="Added 2 slots")
        slots = await alice.expect("Sat: 11:00")
        assert "Mon: 09:00, 18:00" in slots["text"] and "America/New_York" in slots["text"]
        await alice.press("✖ Fri 18:00", expect="Fri: 09:00\n")
        assert Slot(4, time(18)) not in await store.queue_slots(ALICE)
        assert len(await store.queue_slots(ALICE)) == 11
        assert await store.queue_slots(BOB) == []

        # Friday 12:00: today's 18:00 is gone, Saturday 11:00 EST is next.
        preview = await add_to_queue(alice, "First queued")
        assert "Sat 13 Mar 11:00" in preview["text"] and "next free slot" in preview["text"]
        await alice.press("Schedule", expect="Scheduled #")
        # An exact time on Sunday's slot does not take it…
        await text_post_to_its_time(alice, "Exact Sunday", "Shop news")
        await alice.say("2027-03-14 11:00", expect="step 5 of 5")
        await alice.press("Schedule", expect="Scheduled #")
        # …so the next queued post gets Sunday 11:00, now EDT (UTC−4): the wall clock kept.
        preview = await add_to_queue(alice, "Second queued")
        assert "Sun 14 Mar 11:00" in preview["text"]
        await alice.press("Schedule", expect="Scheduled #")
        preview = await add_to_queue(alice, "Third queued")
        assert "Mon 15 Mar 09:00" in preview["text"]
        await alice.press("Schedule", expect="Scheduled #")
        assert await queued_times(store) == [
            ("First queued", datetime(2027, 3, 13, 16, tzinfo=UTC)),
            ("Second queued", datetime(2027, 3, 14, 15, tzinfo=UTC)),
            ("Third queued", datetime(2027, 3, 15, 13, tzinfo=UTC)),
        ]
        exact = [post for post in (await store.list_posts(ALICE, PostView.UPCOMING)).posts if not post.queued]
        assert [post.main_caption for post in exact] == ["Exact Sunday"]


async def test_a_slot_taken_while_the_preview_waited_goes_to_the_next_free_one(
    api: FakeBotAPI, database_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channels(api, CHANNELS)
    freeze_clock(monkeypatch, FRIDAY_NOON)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await store.set_timezone(ALICE, NEW_YORK)
        await store.set_queue_slots(ALICE, [Slot(5, time(11)), Slot(6, time(11))])
        await settled(api)
        preview = await add_to_queue(alice, "Waited")
        assert "Sat 13 Mar 11:00" in preview["text"]
        # Meanwhile another queued post takes Saturday's slot.
        taken = telegram_post("Quicker", channel_targets(CHANNELS), timedelta(0))
        taken.scheduled_time, taken.queued = datetime(2027, 3, 13, 16, tzinfo=UTC), True
        await store.create_post(taken)
        await alice.press("Schedule", expect="Scheduled #")
        assert "taken meanwhile" in "\n".join(m.get("text", "") for m in alice.bot_messages()[-3:])
        assert await queued_times(store) == [
            ("Quicker", datetime(2027, 3, 13, 16, tzinfo=UTC)),
            ("Waited", datetime(2027, 3, 14, 15, tzinfo=UTC)),
        ]


async def test_slots_for_a_target_set_serve_posts_to_exactly_those_targets(
    api: FakeBotAPI, database_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channels(api, CHANNELS)
    freeze_clock(monkeypatch, FRIDAY_NOON)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await store.set_timezone(ALICE, NEW_YORK)
        await store.set_queue_slots(ALICE, [Slot(0, time(9))])
        await settled(api)
        await alice.say("/queue", expect="Your queue")
        await alice.press("Slots", expect="For all targets")
        await alice.press("For chosen targets", expect="Slots for chosen targets")
        await alice.press("Done (0)")
        assert alice.last_answer().get("show_alert")
        await alice.press("Deals", expect="(1 of 2 selected)")
        await alice.press("Done (1)", expect="for posts to exactly Deals")
        await alice.say("sat 11:30", expect="Added 1 slot")
        screen = await alice.expect("(1) For Deals")
        assert "Sat: 11:30" in screen["text"] and "Mon: 09:00" in screen["text"]
        slots = await store.queue_slots(ALICE)
        assert [(slot.weekday, slot.at, len(slot.targets)) for slot in slots] == [(0, time(9), 0), (5, time(11, 30), 1)]

        async def queue_to(target: str, text: str) -> str:
            await text_post_to_its_time(alice, text, target)
            preview = await alice.press("Add to queue", expect="step 5 of 5")
            assert preview is not None
            await alice.press("Schedule", expect="Scheduled #")
            return str(preview["text"])

        assert "Sat 13 Mar 11:30" in await queue_to("Deals", "Deals first")
        assert "Mon 15 Mar 09:00" in await queue_to("Shop news", "Shop first")
        assert "Sat 20 Mar 11:30" in await queue_to("Deals", "Deals second")

        await alice.press("Slots", expect="For all targets")
        forged = alice.find_button("✖ Sat 11:30 (1)")
        await alice.press_data(forged[0], "queue:slot_rm:9/5-1130")
        assert "not in your schedule" in alice.last_answer().get("text", "")
        await alice.press("✖ Sat 11:30 (1)", expect="Mon: 09:00")
        assert await store.queue_slots(ALICE) == [Slot(0, time(9))]


async def queue_of_three(store: Store) -> list[str]:
    """Three queued posts of Alice's on Saturday, Sunday and Monday's slots; their ids in order."""
    ids = []
    for caption, moment in (
        ("Alpha", datetime(2027, 3, 13, 16, tzinfo=UTC)),
        ("Bravo", datetime(2027, 3, 14, 15, tzinfo=UTC)),
        ("Charlie", datetime(2027, 3, 15, 13, tzinfo=UTC)),
    ):
        post = telegram_post(caption, channel_targets({SHOP: "Shop news"}), timedelta(0))
        post.scheduled_time, post.queued = moment, True
        ids.append((await store.create_post(post)).post_id)
    return ids


async def test_the_queue_is_reordered_shuffled_and_emptied_and_forged_buttons_move_nothing(
    api: FakeBotAPI, database_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch, FRIDAY_NOON)
    alice, bob = Person(api, ALICE), Person(api, BOB)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await store.set_timezone(ALICE, NEW_YORK)
        alpha, bravo, _ = await queue_of_three(store)
        bobs = telegram_post("Bob's own", channel_targets({SHOP: "Shop news"}), timedelta(0))
        bobs.user_id, bobs.scheduled_time, bobs.queued = BOB, datetime(2027, 3, 13, 16, tzinfo=UTC), True
        await store.create_post(bobs)
        sat, sun, mon = (time_ for _, time_ in await queued_times(store))

        screen = await alice.say("/queue", expect="Your queue")
        assert screen is not None
        text = screen["text"]
        assert text.index("1. Sat 13 Mar 11:00") < text.index("Alpha") < text.index("2. Sun 14 Mar 11:00")
        assert "Bravo" in text and "Charlie" in text and "Bob's own" not in text

        await alice.press("3 ⬆", expect="2. Sun 14 Mar 11:00 — Charlie")
        assert await queued_times(store) == [("Alpha", sat), ("Charlie", sun), ("Bravo", mon)]
        await alice.press("1 ⬇", expect="2. Sun 14 Mar 11:00 — Alpha")
        assert await queued_times(store) == [("Charlie", sat), ("Alpha", sun), ("Bravo", mon)]
        # The first cannot go up: said, nothing moves.
        await alice.press("1 ⬆")
        assert "end of the queue" in alice.last_answer().get("text", "")
        assert await queued_times(store) == [("Charlie", sat), ("Alpha", sun), ("Bravo", mon)]

        await alice.press("Shuffle", expect="Your queue")
        shuffled = await queued_times(store)
        assert [moment for _, moment in shuffled] == [sat, sun, mon]
        assert [caption for caption, _ in shuffled] != ["Charlie", "Alpha", "Bravo"]
        assert sorted(caption for caption, _ in shuffled) == ["Alpha", "Bravo", "Charlie"]

        # Forged: Bob's post pressed from Alice's chat, and Alice's post pressed by Bob.
        queue_message = alice.last()["message_id"]
        await alice.press_data(queue_message, f"queue:up:{bobs.post_id}")
        assert "not in your queue" in alice.last_answer().get("text", "")
        bobs_screen = await bob.say("/queue", expect="Bob's own")
        assert bobs_screen is not None and "Alpha" not in bobs_screen["text"]
        await bob.press_data(bob.last()["message_id"], f"queue:rm_yes:{alpha}")
        assert "not in your queue" in bob.last_answer().get("text", "")
        await bob.press_data(bob.last()["message_id"], f"queue:now:{bravo}")
        assert [moment for _, moment in await queued_times(store)] == [sat, sun, mon]
        bob_read = await store.get_post(BOB, bobs.post_id)
        assert bob_read is not None and bob_read.scheduled_time == sat and bob_read.status is PostStatus.SCHEDULED

        # Remove, after a confirm step; the button pressed again later is stale.
        first = (await store.queued_posts(ALICE))[0]
        await alice.press("1 🗑", expect=f"Remove #{first.short_id}")
        await alice.press("Keep it", expect="Your queue")
        assert len(await store.queued_posts(ALICE)) == 3
        await alice.press("1 🗑", expect=f"Remove #{first.short_id}")
        stale = alice.find_button("Yes, remove")
        await alice.press("Yes, remove", expect="Your queue")
        assert "Removed" in alice.last_answer().get("text", "")
        removed = await store.get_post(ALICE, first.post_id)
        assert removed is not None and removed.status is PostStatus.CANCELLED
        assert len(await store.queued_posts(ALICE)) == 2
        await alice.press_data(*stale)
        assert "not in your queue" in alice.last_answer().get("text", "")
        assert len(await store.queued_posts(ALICE)) == 2


async def test_a_queued_post_given_an_exact_time_leaves_the_queue_and_frees_its_slot(
    api: FakeBotAPI, database_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channels(api, CHANNELS)
    freeze_clock(monkeypatch, FRIDAY_NOON)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await store.set_timezone(ALICE, NEW_YORK)
        await store.set_queue_slots(ALICE, [Slot(5, time(11)), Slot(6, time(11))])
        await settled(api)
        alpha, _, _ = await queue_of_three(store)
        first = await store.get_post(ALICE, alpha)
        assert first is not None
        await open_post(alice, first)
        await alice.press("Reschedule", expect=f"When should post #{first.short_id} go out instead?")
        await alice.say("2027-03-20 08:15", expect="now goes out")
        moved = await store.get_post(ALICE, alpha)
        assert moved is not None and not moved.queued
        assert moved.scheduled_time == datetime(2027, 3, 20, 12, 15, tzinfo=UTC)
        assert [caption for caption, _ in await queued_times(store)] == ["Bravo", "Charlie"]
        await alice.say("/queue", expect="1. Sun 14 Mar 11:00 — Bravo")
        # Saturday's slot is free again: Add to queue takes it.
        preview = await add_to_queue(alice, "Takes Saturday")
        assert "Sat 13 Mar 11:00" in preview["text"]


async def test_post_now_publishes_a_queued_post_at_once(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await settled(api)
        later = telegram_post("Queued for later", channel_targets({SHOP: "Shop news"}), timedelta(days=2))
        later.queued = True
        await store.create_post(later)
        await alice.say("/queue", expect="Queued for later")
        await alice.press("1 🚀 Now")
        assert f"Publishing #{later.short_id} now" in alice.last_answer().get("text", "")
        await eventually(lambda: "Queued for later" in texts_in(api, SHOP), timeout=10)
        await alice.expect(f"Published #{later.short_id}")
        await alice.say("/queue", expect="Nothing is queued")


# -- a batch of forwarded messages --------------------------------------------------------------------
SYDNEY = "Australia/Sydney"
SOURCE = -1003000000099
PICTURES = [bytes([0xFF, 0xD8, n]) * 150 + f"picture {n}".encode() for n in range(4)]


def forward_five(api: FakeBotAPI) -> None:
    """Alice forwards five posts of a channel she reads: two texts, two photos, an album of two."""
    api.add_chat(SOURCE, "channel", "Source")
    ids = [
        *api.channel_post(SOURCE, text="One: hello"),
        *api.channel_post(SOURCE, photos=[PICTURES[0]], caption="Two: a photo"),
        *api.channel_post(SOURCE, photos=PICTURES[1:3], caption="Three: an album"),
        *api.channel_post(SOURCE, text="Four: more text"),
        *api.channel_post(SOURCE, photos=[PICTURES[3]], caption="Five: the last"),
    ]
    forwarded = api.forward(ALICE, SOURCE, ids)
    assert all(message["forward_origin"]["chat"]["id"] == SOURCE for message in forwarded)


def next_minutes(frozen: datetime, zone: str, count: int) -> tuple[str, list[datetime]]:
    """Slots typed for the `count` minutes after `frozen` in `zone` ("Wed 14:31 Wed 14:32 …"),
    and those minutes as instants."""
    local = frozen.astimezone(ZoneInfo(zone))
    minutes = [local + timedelta(minutes=step) for step in range(1, count + 1)]
    typed = " ".join(f"{moment:%a %H:%M}" for moment in minutes)
    return typed, [moment.astimezone(UTC) for moment in minutes]


async def test_a_batch_of_five_forwarded_messages_fills_the_queue_and_each_is_published_at_its_slot(
    api: FakeBotAPI, database_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channels(api, CHANNELS)
    # The handlers' clock ten minutes behind the scheduler's: the slots it hands out are due at
    # once for the scheduler, which publishes each post of the queue then.
    real = datetime.now(UTC).replace(second=0, microsecond=0)
    frozen = real - timedelta(minutes=10)
    freeze_clock(monkeypatch, frozen)
    typed_slots, slot_times = next_minutes(frozen, SYDNEY, 5)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await store.set_timezone(ALICE, SYDNEY)
        await settled(api)
        await alice.say("/queue", expect="Your queue")
        await alice.press("Slots", expect="Posting schedule")
        await alice.press("Add slots", expect="Send the slots")
        await alice.say(typed_slots, expect="Added 5 slots")

        # A first batch, at intervals, cancelled at its summary: nothing is stored.
        await alice.say("/batch", expect="Send or forward the messages")
        await alice.say("Never stored")
        api.send_media(ALICE, "video", b"\x00\x00\x00\x18ftypmp42 video", "clip.mp4", caption="A clip")
        api.send_mixed_album(ALICE, [("document", b"%PDF-1.4 one", "Menu"), ("document", b"%PDF-1.4 two", None)])
        await alice.expect("3 posts so far (1 album)")
        await alice.press("Done (3)", expect="Where should the posts go?")
        await alice.press("Shop news", expect="(1 of 2 selected)")
        await alice.press("Done (1)", expect="step 3 of 4")
        await alice.press("At intervals", expect="Type the interval")
        await alice.say("every 2 parsecs from 9:00", expect="I read that as no interval")
        cancelled = await alice.say("every 2 hours from tomorrow 9:00", expect="step 4 of 4")
        assert cancelled is not None
        assert "— A clip" in cancelled["text"] and "— Menu" in cancelled["text"]
        await alice.press("Cancel", expect="nothing was saved")
        assert (await store.list_posts(ALICE, PostView.UPCOMING)).posts == []

        await alice.say("/batch", expect="Send or forward the messages")
        # A done with nothing in: said, nothing moves.
        await alice.press("Done (0)")
        assert "at least one message" in alice.last_answer().get("text", "")
        forward_five(api)
        api.send_sticker(ALICE)
        await alice.expect("can't take that into a batch")
        await alice.expect("5 posts so far (1 album)")
        await alice.press("Done (5)", expect="Where should the posts go?")
        await alice.press("Shop news", expect="(1 of 2 selected)")
        await alice.press("Done (1)", expect="step 3 of 4")
        summary = await alice.press("Into the next free slots", expect="step 4 of 4")
        assert summary is not None
        lines = [line for line in summary["text"].splitlines() if line[:2] in ("1.", "2.", "3.", "4.", "5.")]
        first_words = ["One: hello", "Two: a photo", "Three: an album", "Four: more text", "Five: the last"]
        assert [line.split(" — ", 1)[1] for line in lines] == first_words
        for line, moment in zip(lines, slot_times, strict=True):
            assert f"{moment.astimezone(ZoneInfo(SYDNEY)):%H:%M} ({SYDNEY})" in line
        # Nothing stored before the confirmation.
        assert await store.queued_posts(ALICE) == []

        await alice.press("Schedule all 5", expect="Scheduled 5 posts into your queue")
        posts = {post.main_caption: post for post in await eventually(lambda: published_posts(store), timeout=20)}
        assert [posts[words].scheduled_time for words in first_words] == slot_times
        assert all(post.queued and post.status is PostStatus.PUBLISHED for post in posts.values())
        assert [len(posts[words].images) for words in first_words] == [0, 1, 2, 0, 1]
        shop = texts_in(api, SHOP)
        assert sorted(shop) == sorted(["", *first_words])
        album = [message for message in api.bot_messages(SHOP) if message.get("media_group_id")]
        assert len(album) == 2 and len({message["media_group_id"] for message in album}) == 1
        assert texts_in(api, list(CHANNELS)[1]) == []


async def published_posts(store: Store) -> list[Any]:
    """Alice's five posts once all are published (else nothing)."""
    history = (await store.list_posts(ALICE, PostView.HISTORY, per_page=10)).posts
    finished = [post for post in history if post.status is PostStatus.PUBLISHED]
    return finished if len(finished) == 5 else []


async def test_slots_taken_while_a_batch_summary_waited_are_shown_again_before_anything_is_stored(
    api: FakeBotAPI, database_url: str, encryption_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_channels(api, CHANNELS)
    freeze_clock(monkeypatch, FRIDAY_NOON)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await store.set_timezone(ALICE, NEW_YORK)
        await store.set_queue_slots(ALICE, [Slot(5, time(11)), Slot(6, time(11)), Slot(0, time(9))])
        await settled(api)
        await alice.say("/batch", expect="Send or forward the messages")
        await alice.say("Batch one")
        await alice.say("Batch two")
        await alice.expect("2 posts so far")
        await alice.press("Done (2)", expect="Where should the posts go?")
        await alice.press("Shop news", expect="(1 of 2 selected)")
        await alice.press("Done (1)", expect="step 3 of 4")
        summary = await alice.press("Into the next free slots", expect="step 4 of 4")
        assert summary is not None and "Sat 13 Mar 11:00" in summary["text"] and "Sun 14 Mar 11:00" in summary["text"]
        stale_done = alice.find_button("Done (1)")

        intruder = telegram_post("Got there first", channel_targets({SHOP: "Shop news"}), timedelta(0))
        intruder.scheduled_time, intruder.queued = datetime(2027, 3, 13, 16, tzinfo=UTC), True
        await store.create_post(intruder)
        await alice.press("Schedule all 2", expect="free slots changed meanwhile")
        again = await alice.expect("Mon 15 Mar 09:00")
        assert "Sun 14 Mar 11:00" in again["text"] and "Sat 13 Mar" not in again["text"]
        assert [caption for caption, _ in await queued_times(store)] == ["Got there first"]

        await alice.press("Schedule all 2", expect="Scheduled 2 posts into your queue")
        assert await queued_times(store) == [
            ("Got there first", datetime(2027, 3, 13, 16, tzinfo=UTC)),
            ("Batch one", datetime(2027, 3, 14, 15, tzinfo=UTC)),
            ("Batch two", datetime(2027, 3, 15, 13, tzinfo=UTC)),
        ]
        # A button of the finished batch is answered, and stores nothing more.
        await alice.press_data(*stale_done)
        assert "earlier step" in alice.last_answer().get("text", "")
        assert len(await store.queued_posts(ALICE)) == 3
