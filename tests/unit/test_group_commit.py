"""SQLiteStore's group commit: the publication's fenced writes queued together commit together,
each caller hears only of its own statement, and nobody resumes before the COMMIT."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import pytest

from storage.codec import iso_text
from storage.models import Account, Delivery, DeliveryStatus, Platform, Post, Target, new_post, utc_now
from storage.sqlite import SQLiteStore

LEASE = timedelta(minutes=5)


@pytest.fixture
def store(sqlite_store: SQLiteStore) -> SQLiteStore:
    return sqlite_store


async def claimed_posts(store: SQLiteStore, count: int) -> list[Post]:
    account = Account("acc", 1, Platform.TELEGRAM, "Telegram")
    now = utc_now()
    for n in range(count):
        target = Target(f"tg{n}", f"Channel {n}", str(-100 - n), "channel")
        await store.create_post(
            new_post(user_id=1, account=account, targets=[target], main_caption=f"p{n}", scheduled_time=now)
        )
    claimed = await store.claim_due_posts("w/1", now, LEASE, limit=count)
    assert len(claimed) == count
    return claimed


async def note(store: SQLiteStore, post_id: str, when: datetime) -> int:
    """A single-row write through the group commit whose effect is easy to read back."""
    return await store._group_write("UPDATE posts SET notified_at = ? WHERE post_id = ?", (iso_text(when), post_id))


def read_back(store: SQLiteStore, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Reads through a connection of its own: sees only what was committed."""
    other = sqlite3.connect(store.path)
    try:
        return other.execute(sql, params).fetchall()
    finally:
        other.close()


async def test_writes_queued_together_commit_in_one_group(store: SQLiteStore, groups: list[int]) -> None:
    posts = await claimed_posts(store, 8)
    results = await asyncio.gather(
        *(
            store.record_delivery(post.post_id, "w/1", Delivery(post.targets[0].target_id, DeliveryStatus.SENDING, 1))
            for post in posts
        )
    )
    assert results == [True] * 8
    assert groups == [8]
    statuses = read_back(store, "SELECT json_extract(doc, '$.deliveries.\"' || ? || '\".status') FROM posts", ("tg0",))
    assert ("sending",) in statuses


async def test_a_caller_resumes_only_after_its_write_is_committed(store: SQLiteStore) -> None:
    (post,) = await claimed_posts(store, 1)
    target = post.targets[0].target_id
    assert await store.record_delivery(post.post_id, "w/1", Delivery(target, DeliveryStatus.SENDING, 1))
    # Another connection (another process) already sees it: the request may go out now.
    rows = read_back(
        store,
        "SELECT json_extract(doc, '$.deliveries.\"' || ? || '\".status') FROM posts WHERE post_id = ?",
        (target, post.post_id),
    )
    assert rows == [("sending",)]


async def test_a_failing_statement_fails_only_its_caller(store: SQLiteStore, groups: list[int]) -> None:
    posts = await claimed_posts(store, 3)
    first, second, third = posts
    results = await asyncio.gather(
        store.record_delivery(first.post_id, "w/1", Delivery(first.targets[0].target_id, DeliveryStatus.SENDING, 1)),
        # NOT NULL constraint: SQLite undoes this statement only, the transaction goes on.
        store._group_write("UPDATE posts SET status = NULL WHERE post_id = ?", (second.post_id,)),
        note(store, third.post_id, utc_now()),
        return_exceptions=True,
    )
    assert groups == [3]
    assert results[0] is True and results[2] == 1
    assert isinstance(results[1], sqlite3.IntegrityError)
    rows = dict(read_back(store, "SELECT post_id, status FROM posts"))
    assert rows[second.post_id] == "publishing"
    notified = read_back(store, "SELECT notified_at FROM posts WHERE post_id = ?", (third.post_id,))
    assert notified[0][0] is not None
    sending = read_back(
        store,
        "SELECT json_extract(doc, '$.deliveries.\"' || ? || '\".status') FROM posts WHERE post_id = ?",
        (first.targets[0].target_id, first.post_id),
    )
    assert sending == [("sending",)]


async def test_an_error_that_rolls_back_the_transaction_fails_only_its_caller(
    store: SQLiteStore, groups: list[int]
) -> None:
    """Errors like SQLITE_FULL end the whole transaction; the others' writes are made again."""
    posts = await claimed_posts(store, 2)
    await store._execute("CREATE TABLE doomed (x TEXT)")
    await store._execute(
        "CREATE TRIGGER doomed_rollback BEFORE INSERT ON doomed BEGIN SELECT RAISE(ROLLBACK, 'boom'); END"
    )
    now = utc_now()
    results = await asyncio.gather(
        note(store, posts[0].post_id, now),
        store._group_write("INSERT INTO doomed (x) VALUES ('x')", ()),
        store.renew_lease(posts[1].post_id, "w/1", now, timedelta(hours=2)),
        return_exceptions=True,
    )
    assert groups == [3]
    assert results[0] == 1 and results[2] is True
    assert isinstance(results[1], sqlite3.IntegrityError) and "boom" in str(results[1])
    assert read_back(store, "SELECT notified_at FROM posts WHERE post_id = ?", (posts[0].post_id,))[0][0]
    lease = read_back(store, "SELECT lease_until FROM posts WHERE post_id = ?", (posts[1].post_id,))[0][0]
    assert lease > (now + LEASE).isoformat()
    assert read_back(store, "SELECT count(*) FROM doomed") == [(0,)]
    # The connection is usable afterwards, outside any transaction.
    assert await store.record_delivery(posts[0].post_id, "w/1", Delivery("tg0", DeliveryStatus.SENT, 1))


async def test_a_fenced_write_by_a_lost_claim_changes_nothing_and_others_commit(
    store: SQLiteStore, groups: list[int]
) -> None:
    posts = await claimed_posts(store, 2)
    results = await asyncio.gather(
        store.record_delivery(posts[0].post_id, "w/0", Delivery("tg0", DeliveryStatus.SENT, 1)),
        store.record_delivery(posts[1].post_id, "w/1", Delivery("tg1", DeliveryStatus.SENT, 1)),
    )
    assert list(results) == [False, True]
    assert groups == [2]


async def test_group_writes_never_run_inside_another_transaction(store: SQLiteStore) -> None:
    (post,) = await claimed_posts(store, 1)
    async with store._transaction() as db:
        write = asyncio.create_task(note(store, post.post_id, utc_now()))
        await asyncio.sleep(0.05)
        assert not write.done()  # waits for the lock, not slipped into this transaction
        await db.execute("UPDATE posts SET attempts = 7 WHERE post_id = ?", (post.post_id,))
    await write
    assert read_back(store, "SELECT attempts, notified_at IS NOT NULL FROM posts") == [(7, 1)]


async def test_writes_queued_while_a_group_commits_form_the_next_group(store: SQLiteStore, groups: list[int]) -> None:
    posts = await claimed_posts(store, 4)
    now = utc_now()
    first = asyncio.gather(*(note(store, p.post_id, now) for p in posts[:2]))
    await asyncio.sleep(0)  # the first group is on its way
    second = asyncio.gather(*(note(store, p.post_id, now) for p in posts[2:]))
    await asyncio.gather(first, second)
    assert sum(groups) == 4 and len(groups) <= 2
    assert read_back(store, "SELECT count(*) FROM posts WHERE notified_at IS NOT NULL") == [(4,)]


async def test_a_cancelled_caller_does_not_block_the_others(store: SQLiteStore) -> None:
    posts = await claimed_posts(store, 2)
    now = utc_now()
    cancelled = asyncio.create_task(note(store, posts[0].post_id, now))
    kept = asyncio.create_task(note(store, posts[1].post_id, now))
    await asyncio.sleep(0)
    cancelled.cancel()
    await kept
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert read_back(store, "SELECT notified_at IS NOT NULL FROM posts WHERE post_id = ?", (posts[1].post_id,)) == [
        (1,)
    ]
