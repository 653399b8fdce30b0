"""Publication end to end: the real bot (or bot.py processes) publishing into the fake Bot API."""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from storage import Store, build_store
from storage.models import DeliveryStatus, Post, PostStatus, PostView, Target
from tests.conftest import opened
from tests.e2e.conftest import ALICE, Person, bot_running, bot_settings, eventually
from tests.e2e.processes import bot_process
from tests.e2e.steps import (
    add_channels,
    add_chat,
    channel_targets,
    choose_targets,
    schedule_for,
    settled,
    store_post,
    texts_in,
)
from tests.fakes.bot_api import FakeBotAPI

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = {-1002000000001: "Shop news", -1002000000002: "Team chat", -1002000000003: "Archive"}
PHOTOS = [bytes([0xFF, 0xD8, n]) * 200 + f"img {n}".encode() for n in range(4)]


async def make_post(store: Store, caption: str, when_offset: timedelta, images: int = 0) -> Post:
    """A post to all three channels, with the first `images` of PHOTOS."""
    return await store_post(store, caption, channel_targets(CHANNELS), when_offset, PHOTOS[:images])


async def test_an_album_goes_out_within_a_second_of_its_time(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key, scheduler_interval=30)) as store:
        await choose_targets(alice, "Shop news")
        await alice.send_photos(PHOTOS[:3], ["one", "two", "three"])
        await alice.expect("3 photos in")
        await alice.say("Album day", expect="step 4 of 5")
        await schedule_for(alice, typed="in 20 seconds")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]

        shop = next(iter(CHANNELS))
        appeared = await eventually(lambda: len(api.bot_messages(shop)) >= 3 and time.time(), timeout=30)
        lag = appeared - post.scheduled_time.timestamp()
        assert -0.05 <= lag <= 1.0, f"published {lag:.2f}s from its time"
        album = api.bot_messages(shop)
        assert len(album) == 3 and len({m["media_group_id"] for m in album}) == 1
        assert [m.get("caption") for m in album] == ["Album day\n\none", "two", "three"]
        report = await alice.expect(f"Published #{post.short_id} to 1/1 target")
        assert "Details" in repr(report["reply_markup"])
        stored = await store.get_post(ALICE, post.post_id)
        assert stored is not None and stored.status is PostStatus.PUBLISHED


async def test_a_target_that_removed_the_bot_makes_it_partial_and_retry_sends_only_there(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    archive = list(CHANNELS)[2]
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await settled(api)
        api.bot_removed_from_chat(archive, ALICE)
        await settled(api)
        post = await make_post(store, "Partial news", timedelta(seconds=1))
        report = await alice.expect(f"Partly published #{post.short_id}: 2/3", timeout=15)
        assert "Archive" in report["text"] and "no longer an admin" in report["text"]
        stored = await store.get_post(ALICE, post.post_id)
        assert stored is not None and stored.status is PostStatus.PARTIAL
        assert texts_in(api, archive) == []

        api.bot_added_to_chat(archive, ALICE)
        await alice.press("Retry failed", expect="failed target?")
        await alice.press("Yes, retry", expect="Retrying")
        await alice.expect(f"Published #{post.short_id} to 3/3 targets", timeout=15)
        assert texts_in(api, archive) == ["Partial news"]
        for chat_id in list(CHANNELS)[:2]:
            assert texts_in(api, chat_id) == ["Partial news"], "a target that had it got it again"


async def test_a_rate_limit_on_the_first_try_still_sends_the_album_once(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    shop = next(iter(CHANNELS))
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        api.fail_next(
            "sendMediaGroup",
            error_code=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
            chat_id=shop,
        )
        post = await make_post(store, "Throttled", timedelta(seconds=1), images=2)
        await Person(api, ALICE).expect(f"Published #{post.short_id} to 3/3", timeout=20)
        assert len(api.bot_messages(shop)) == 2
        # The 429 was answered, and the album sent again after retry_after — by the rate limiter,
        # which knows that a 429 means nothing was sent (one delivery attempt, two requests).
        to_shop = [c for c in api.calls_of("sendMediaGroup") if str(c.params.get("chat_id")) == str(shop)]
        assert len(to_shop) == 2 and to_shop[1].at - to_shop[0].at >= 1
        stored = await store.get_post(ALICE, post.post_id)
        assert stored is not None and stored.deliveries[f"tg{shop}"].attempts == 1


async def test_overdue_posts_go_out_at_start_and_long_missed_ones_fail(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    # A long interval: the catch-up sweep at start must not wait for it.
    settings = bot_settings(api, sqlite_url, encryption_key, max_lateness=3600, scheduler_interval=120)
    async with opened(build_store(settings)) as store:
        recent = await make_post(store, "Ten minutes late", -timedelta(minutes=10))
        ancient = await make_post(store, "Two hours late", -timedelta(hours=2))
    alice = Person(api, ALICE)
    async with bot_running(settings) as observer:
        await alice.expect(f"Published #{recent.short_id} to 3/3", timeout=15)
        missed = await alice.expect(f"Failed #{ancient.short_id}", timeout=15)
        assert "missed while the bot was offline" in missed["text"]
        failed = await observer.get_post(ALICE, ancient.post_id)
        assert failed is not None and failed.status is PostStatus.FAILED
        assert {d.status for d in failed.deliveries.values()} == {DeliveryStatus.MISSED}
        assert all("Two hours late" not in " ".join(texts_in(api, chat)) for chat in CHANNELS)


async def final_posts(store: Store, ids: list[str]) -> list[Post]:
    posts = [await store.load_post(post_id) for post_id in ids]
    return [p for p in posts if p is not None and p.status.is_final]


async def test_a_killed_bot_never_sends_a_post_twice(api: FakeBotAPI, database_url: str, encryption_key: str) -> None:
    add_channels(api, CHANNELS)
    settings = bot_settings(api, database_url, encryption_key, claim_lease=10, publish_concurrency=8)
    async with opened(build_store(settings)) as store:
        ids = [(await make_post(store, f"crash post {n}", timedelta(seconds=2))).post_id for n in range(100)]
        # Hold some sends open so that the kill cuts requests off mid-flight.
        api.delay("sendMessage", 30, times=3)
        async with bot_process(settings) as first:
            await eventually(lambda: sum(len(api.bot_messages(c)) for c in CHANNELS) >= 40, timeout=60)
            first.send_signal(signal.SIGKILL)
            await first.wait()
        async with bot_process(settings):
            await eventually(lambda: _all_final(store, ids), timeout=120)
        posts = await final_posts(store, ids)
        assert len(posts) == 100
        for chat_id in CHANNELS:
            counted = Counter(texts_in(api, chat_id))
            assert counted and max(counted.values()) == 1, f"a post reached {CHANNELS[chat_id]} twice"
        not_sent = [d for p in posts for d in p.deliveries.values() if d.status is not DeliveryStatus.SENT]
        assert all(d.status is DeliveryStatus.UNCONFIRMED for d in not_sent), {d.status for d in not_sent}
        # Only requests cut off mid-flight: at most one per post being published when the process
        # died (PUBLISH_CONCURRENCY at once), plus the 3 held open, which may have timed out
        # (unconfirmed) before that.
        assert len(not_sent) <= settings.publish_concurrency + 3
        reports = [m.get("text") or "" for m in api.bot_messages(ALICE)]
        for post in posts:
            if any(d.status is DeliveryStatus.UNCONFIRMED for d in post.deliveries.values()):
                assert any(f"#{post.short_id}" in r and "❓" in r for r in reports), (post, reports[-5:])


async def _all_final(store: Store, ids: list[str]) -> bool:
    return len(await final_posts(store, ids)) == len(ids)


async def test_the_bot_and_a_worker_publish_each_post_once(
    api: FakeBotAPI, database_url: str, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    # Few places per process, so that neither can claim every post in one go: both must take part.
    settings = bot_settings(api, database_url, encryption_key, publish_concurrency=8)
    async with bot_running(settings) as store, bot_process(settings, mode="worker"):
        # Both are up once each holds its lock file among the live workers (a loaded machine may
        # take seconds to start the worker; the posts must not all be gone by then).
        live = settings.data_folder / "workers"
        await eventually(lambda: len(list(live.glob("*/*.lock"))) == 2, timeout=60)
        ids = [(await make_post(store, f"shared post {n}", timedelta(seconds=3))).post_id for n in range(300)]
        await eventually(lambda: _all_final(store, ids), timeout=180)
        posts = await final_posts(store, ids)
        assert {p.status for p in posts} == {PostStatus.PUBLISHED}
        for chat_id in CHANNELS:
            counted = Counter(texts_in(api, chat_id))
            assert len(counted) == 300 and set(counted.values()) == {1}
        # Both processes took part.
        assert len({p.result["worker_id"].split("/")[0] for p in posts if p.result}) == 2


async def test_a_group_upgraded_to_a_supergroup_is_followed(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    old_id, new_id = -4001, -1004001
    add_chat(api, old_id, "Neighbours", "group", role="creator")
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await settled(api)
        target = Target(f"tg{old_id}", "Neighbours", str(old_id), "group", account_id="telegram")
        post = await store_post(store, "After the upgrade", [target], timedelta(seconds=2))
        api.upgrade_to_supergroup(old_id, new_id)
        await Person(api, ALICE).expect(f"Published #{post.short_id} to 1/1", timeout=15)
        assert texts_in(api, new_id) == ["After the upgrade"]
        assert await store.get_chat(old_id) is None
        migrated = await store.get_chat(new_id)
        assert migrated is not None and migrated.title == "Neighbours"


async def test_a_throttled_report_still_reaches_the_owner_once(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await settled(api)
        api.fail_next(
            "sendMessage", error_code=429, description="Too Many Requests: retry after 1", retry_after=1, chat_id=ALICE
        )
        post = await make_post(store, "Report me", timedelta(seconds=1))
        await Person(api, ALICE).expect(f"Published #{post.short_id} to 3/3", timeout=15)
        reports = [m for m in api.bot_messages(ALICE) if f"#{post.short_id}" in (m.get("text") or "")]
        assert len(reports) == 1

        async def remembered() -> bool:
            stored = await store.get_post(ALICE, post.post_id)
            return stored is not None and stored.notified_at is not None

        await eventually(remembered)
