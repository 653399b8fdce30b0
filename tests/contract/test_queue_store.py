"""The posting schedule in each store: a user's slots (for all targets and per target set) kept,
replaced and read back by that user alone; queued posts found soonest first, only while scheduled,
only the owner's, and moved to another slot by the usual reschedule."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

from storage.base import Store
from storage.models import Post, PostStatus, utc_now
from storage.queue import Slot
from tests.contract.helpers import add_account, schedule


async def test_slots_are_kept_per_user_and_replaced_whole(store: Store) -> None:
    shop = ("t1", "t2")
    slots = [Slot(4, time(18)), Slot(0, time(9)), Slot(0, time(9)), Slot(5, time(11, 30), shop)]
    assert await store.queue_slots(2001) == []
    await store.set_queue_slots(2001, slots)
    assert await store.queue_slots(2001) == [Slot(0, time(9)), Slot(4, time(18)), Slot(5, time(11, 30), shop)]
    assert await store.queue_slots(2002) == []
    await store.set_queue_slots(2002, [Slot(6, time(23, 59))])
    await store.set_queue_slots(2001, [Slot(1, time(7, 5))])
    assert await store.queue_slots(2001) == [Slot(1, time(7, 5))]
    assert await store.queue_slots(2002) == [Slot(6, time(23, 59))]
    await store.set_queue_slots(2001, [])
    assert await store.queue_slots(2001) == []


async def test_queued_posts_are_the_owners_scheduled_ones_soonest_first(store: Store) -> None:
    account = await add_account(store, 2101)
    now = utc_now()
    later = await schedule(store, 2101, account, when=now + timedelta(days=2), caption="later")
    sooner = await schedule(store, 2101, account, when=now + timedelta(days=1), caption="sooner")
    exact = await schedule(store, 2101, account, when=now + timedelta(hours=1), caption="exact time")
    # Stored queued from the start, as Add to queue and a batch store them.
    await store.create_post(_copy_queued(later, "q-later"))
    await store.create_post(_copy_queued(sooner, "q-sooner"))
    other_account = await add_account(store, 2102)
    stranger = _copy_queued(await schedule(store, 2102, other_account), "q-stranger")
    await store.create_post(stranger)

    queued = await store.queued_posts(2101)
    assert [post.post_id for post in queued] == ["q-sooner", "q-later"]
    assert all(post.queued for post in queued)
    read = await store.get_post(2101, exact.post_id)
    assert read is not None and not read.queued

    # Moved by the usual reschedule, it stays queued; cancelled, it leaves the queue.
    moved = await store.reschedule_post(2101, "q-later", now + timedelta(hours=3))
    assert moved is not None and moved.queued
    assert [post.post_id for post in await store.queued_posts(2101)] == ["q-later", "q-sooner"]
    assert await store.cancel_post(2101, "q-sooner") is not None
    assert [post.post_id for post in await store.queued_posts(2101)] == ["q-later"]
    assert [post.post_id for post in await store.queued_posts(2102)] == ["q-stranger"]


def _copy_queued(post: Post, post_id: str) -> Post:
    return replace(post, post_id=post_id, queued=True)


async def test_a_post_leaves_the_queue_only_by_its_owner(store: Store) -> None:
    account = await add_account(store, 2201)
    post = await store.create_post(
        _copy_queued(await schedule(store, 2201, account, when=utc_now() + timedelta(days=1)), "q-leaving")
    )
    assert not await store.leave_queue(2202, post.post_id)
    assert [queued.post_id for queued in await store.queued_posts(2201)] == ["q-leaving"]
    assert await store.leave_queue(2201, post.post_id)
    assert await store.queued_posts(2201) == []
    read = await store.get_post(2201, post.post_id)
    assert read is not None and not read.queued and read.status is PostStatus.SCHEDULED
    assert await store.leave_queue(2201, "no-such-post") is False
