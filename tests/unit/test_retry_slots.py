"""A post waiting out a rate limit or a backoff holds no publication slot; it takes one again
before its next try."""

from __future__ import annotations

import asyncio

import pytest

from publishers.base import Outcome, Publisher
from scheduler.engine import Publication, RetryPolicy
from storage.models import Account, Platform, Post, PostStatus, Target, new_post, utc_now
from storage.sqlite import SQLiteStore


@pytest.fixture
def store(sqlite_store: SQLiteStore) -> SQLiteStore:
    return sqlite_store


class GatedPublisher(Publisher):
    """Rate-limits the post captioned "slow" once; holds the one captioned "held" until released."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.release_held = asyncio.Event()
        self.limited = False

    async def publish(self, post: Post, target: Target) -> Outcome:
        self.calls.append(post.main_caption)
        if post.main_caption == "slow" and not self.limited:
            self.limited = True
            return Outcome.retryable("429", "slow down", retry_after=30)
        if post.main_caption == "held":
            await self.release_held.wait()
        return Outcome.sent(message_id="1")


class FakeSleep:
    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.wake = asyncio.Event()
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        self.started.set()
        await self.wake.wait()


async def due(store: SQLiteStore, caption: str) -> Post:
    account = Account("acc", 1, Platform.TELEGRAM, "Telegram")
    target = Target("tg-100", "Channel", "-100", "channel")
    post = new_post(user_id=1, account=account, targets=[target], main_caption=caption, scheduled_time=utc_now())
    return await store.create_post(post)


async def reported(post: Post) -> None:
    pass


def one_slot(store: SQLiteStore, publisher: Publisher, sleep: FakeSleep) -> Publication:
    return Publication(
        store, {Platform.TELEGRAM: publisher}, reported, sleep=sleep, retry=RetryPolicy(attempts=3), concurrency=1
    )


async def test_a_post_sleeping_before_a_retry_leaves_its_slot_to_others(store: SQLiteStore) -> None:
    slow, quick = await due(store, "slow"), await due(store, "quick")
    publisher, sleep = GatedPublisher(), FakeSleep()
    worker = one_slot(store, publisher, sleep)

    waiting = asyncio.create_task(worker.publish_now(slow.post_id))
    await asyncio.wait_for(sleep.started.wait(), 5)
    # The only slot is free while "slow" sleeps its 30 s: "quick" publishes meanwhile.
    done = await asyncio.wait_for(worker.publish_now(quick.post_id), 5)
    assert done is not None and done.status is PostStatus.PUBLISHED
    assert not waiting.done()

    sleep.wake.set()
    finished = await asyncio.wait_for(waiting, 5)
    assert finished is not None and finished.status is PostStatus.PUBLISHED
    assert publisher.calls == ["slow", "quick", "slow"] and sleep.seconds == [30]
    assert not worker._slots.locked()


async def test_after_its_sleep_a_post_waits_for_a_free_slot(store: SQLiteStore) -> None:
    slow, held = await due(store, "slow"), await due(store, "held")
    publisher, sleep = GatedPublisher(), FakeSleep()
    worker = one_slot(store, publisher, sleep)

    waiting = asyncio.create_task(worker.publish_now(slow.post_id))
    await asyncio.wait_for(sleep.started.wait(), 5)
    holding = asyncio.create_task(worker.publish_now(held.post_id))

    async def held_is_publishing() -> None:
        while publisher.calls[-1:] != ["held"]:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(held_is_publishing(), 5)
    sleep.wake.set()  # "slow" wakes while "held" has the only slot
    await asyncio.sleep(0.1)
    assert publisher.calls == ["slow", "held"], "the retry went out without a slot"
    publisher.release_held.set()
    await asyncio.wait_for(asyncio.gather(waiting, holding), 5)
    assert publisher.calls == ["slow", "held", "slow"]
    assert not worker._slots.locked()


async def test_cancelled_while_sleeping_gives_back_no_slot_twice(store: SQLiteStore) -> None:
    slow = await due(store, "slow")
    publisher, sleep = GatedPublisher(), FakeSleep()
    worker = one_slot(store, publisher, sleep)
    waiting = asyncio.create_task(worker.publish_now(slow.post_id))
    await asyncio.wait_for(sleep.started.wait(), 5)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # Still exactly one slot: one taker gets it, a second must wait.
    await asyncio.wait_for(worker._slots.acquire(), 1)
    assert worker._slots.locked()
    worker._slots.release()


async def test_a_sweep_keeps_claiming_while_one_post_is_held(store: SQLiteStore) -> None:
    """The sweep refills free places as posts finish instead of waiting for its whole batch."""
    publisher = GatedPublisher()
    held = await due(store, "held")
    others = [await due(store, f"quick {n}") for n in range(6)]
    publication = Publication(store, {Platform.TELEGRAM: publisher}, reported, concurrency=2)

    sweep = asyncio.create_task(publication.sweep())
    # Two places: one is held the whole time; every other post goes through the second one.
    for _ in range(200):
        if len(publisher.calls) == 1 + len(others):
            break
        await asyncio.sleep(0.01)
    assert sorted(publisher.calls) == sorted(["held", *(p.main_caption for p in others)])
    for post in others:
        loaded = await store.load_post(post.post_id)
        assert loaded is not None and loaded.status is PostStatus.PUBLISHED
    assert not sweep.done()  # still waiting for the held post
    publisher.release_held.set()
    assert await sweep == 1 + len(others)
    finished = await store.load_post(held.post_id)
    assert finished is not None and finished.status is PostStatus.PUBLISHED
