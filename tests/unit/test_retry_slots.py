"""Publication slots: a post waiting out a rate limit or a backoff holds no slot (it waits in the
database), a cancelled one gives its slot back, and a held one does not stall the sweep."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from publishers.base import Outcome, Publisher, Sending, untracked
from scheduler.engine import Publication
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

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        self.calls.append(post.main_caption)
        await sending()
        if post.main_caption == "slow" and not self.limited:
            self.limited = True
            return Outcome.retryable("429", "slow down", retry_after=30)
        if post.main_caption == "held":
            await self.release_held.wait()
        return Outcome.sent(message_id="1")


async def due(store: SQLiteStore, caption: str) -> Post:
    account = Account("acc", 1, Platform.TELEGRAM, "Telegram")
    target = Target("tg-100", "Channel", "-100", "channel")
    post = new_post(user_id=1, account=account, targets=[target], main_caption=caption, scheduled_time=utc_now())
    return await store.create_post(post)


def one_slot(store: SQLiteStore, publisher: Publisher) -> Publication:
    return Publication(store, {Platform.TELEGRAM: publisher}, concurrency=1)


async def test_a_post_waiting_to_retry_holds_neither_a_slot_nor_its_claim(store: SQLiteStore) -> None:
    slow, quick = await due(store, "slow"), await due(store, "quick")
    publisher = GatedPublisher()
    worker = one_slot(store, publisher)
    waiting = await asyncio.wait_for(worker.publish_now(slow.post_id), 5)
    # Told to wait 30 s, it went back to the database at once: the only slot is free ...
    assert waiting is not None and waiting.status is PostStatus.PUBLISHING and waiting.claim is None
    assert not worker._slots.locked() and not worker.busy
    done = await asyncio.wait_for(worker.publish_now(quick.post_id), 5)
    assert done is not None and done.status is PostStatus.PUBLISHED
    # ... and no worker may take it before its time.
    assert await worker.publish_now(slow.post_id) is None
    stored = await store.load_post(slow.post_id)
    assert stored is not None and stored.retry_at is not None
    assert stored.retry_at - utc_now() > timedelta(seconds=29)
    assert publisher.calls == ["slow", "quick"]


async def test_a_cancelled_publication_gives_its_slot_and_its_post_back(store: SQLiteStore) -> None:
    held = await due(store, "held")
    publisher = GatedPublisher()
    worker = one_slot(store, publisher)
    publishing = asyncio.create_task(worker.publish_now(held.post_id))
    for _ in range(200):
        if publisher.calls:
            break
        await asyncio.sleep(0.01)
    publishing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await publishing
    # Still exactly one slot: one taker gets it, a second must wait.
    await asyncio.wait_for(worker._slots.acquire(), 1)
    assert worker._slots.locked()
    worker._slots.release()
    stored = await store.load_post(held.post_id)
    assert stored is not None and stored.claim is None and stored.retry_at is not None


async def test_a_sweep_keeps_claiming_while_one_post_is_held(store: SQLiteStore) -> None:
    """The sweep refills free places as posts finish instead of waiting for its whole batch."""
    publisher = GatedPublisher()
    held = await due(store, "held")
    others = [await due(store, f"quick {n}") for n in range(6)]
    publication = Publication(store, {Platform.TELEGRAM: publisher}, concurrency=2)

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
