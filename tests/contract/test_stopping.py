"""A worker that stops while a claim is on its way to it: the posts that claim brings are given
straight back, unpublished, for the next worker — nothing starts once the stop has begun."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from publishers.base import Outcome, Sending, untracked
from storage.base import Store
from storage.models import Post, PostStatus, Target
from tests.contract.test_publication import Recorder, ScriptedPublisher, due_post, engine, stored_post


class SlowCheckPublisher(ScriptedPublisher):
    """Checks for a minute before any request (a rate-limit window, a slow admin check)."""

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        self.calls[(post.post_id, target.target_id)] += 1
        await asyncio.sleep(60)
        await sending()
        return Outcome.sent(message_id="1")


class HeldClaims:
    """Holds the answer of the store's claims: the claim is made, its answer not yet back."""

    def __init__(self, store: Store) -> None:
        self.made = asyncio.Event()
        self.answer = asyncio.Event()
        claim_due, claim_one = store.claim_due_posts, store.claim_post

        async def claim_due_posts(
            worker_id: str, now: datetime, lease: timedelta, limit: int = 50, exclude: object = ()
        ) -> list[Post]:
            claimed = await claim_due(worker_id, now, lease, limit, exclude)  # type: ignore[arg-type]
            await self._held()
            return claimed

        async def claim_post(post_id: str, worker_id: str, now: datetime, lease: timedelta) -> Post | None:
            claimed = await claim_one(post_id, worker_id, now, lease)
            await self._held()
            return claimed

        store.claim_due_posts = claim_due_posts  # type: ignore[method-assign]
        store.claim_post = claim_post  # type: ignore[method-assign]

    async def _held(self) -> None:
        self.made.set()
        await self.answer.wait()


async def test_posts_of_a_sweep_claim_that_arrives_after_the_stop_go_back_unpublished(store: Store) -> None:
    posts = [await due_post(store, targets=2) for _ in range(3)]
    publisher, held = SlowCheckPublisher(), HeldClaims(store)
    worker = engine(store, publisher, Recorder())
    sweeping = asyncio.create_task(worker.sweep())
    await asyncio.wait_for(held.made.wait(), 5)
    await asyncio.wait_for(worker.stop(5), 1)
    held.answer.set()
    # The sweep ends at once: its posts do not wait for their slow checks.
    assert await asyncio.wait_for(sweeping, 2) == 3
    assert publisher.calls == {}
    for post in posts:
        stored = await stored_post(store, post.post_id)
        assert stored.status is PostStatus.PUBLISHING and stored.claim is None
    # Claimable now by the next worker.
    assert await engine(store, ScriptedPublisher(), Recorder()).sweep() == 3
    for post in posts:
        assert (await stored_post(store, post.post_id)).status is PostStatus.PUBLISHED


async def test_a_post_claimed_at_its_time_as_the_stop_begins_goes_back_unpublished(store: Store) -> None:
    post = await due_post(store, targets=1)
    publisher, held = SlowCheckPublisher(), HeldClaims(store)
    worker = engine(store, publisher, Recorder())
    publishing = asyncio.create_task(worker.publish_now(post.post_id))
    await asyncio.wait_for(held.made.wait(), 5)
    await asyncio.wait_for(worker.stop(5), 1)
    held.answer.set()
    assert await asyncio.wait_for(publishing, 2) is None
    assert publisher.calls == {}
    stored = await stored_post(store, post.post_id)
    assert stored.status is PostStatus.PUBLISHING and stored.claim is None
