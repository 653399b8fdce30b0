"""SQLiteStore while another connection holds SQLite's write lock: reads answer at once, writes
wait and then go through (or fail "database is locked" past the busy timeout), and the log says
once what they wait for and once when they go through again."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.codec import iso_text
from storage.crypto import CredentialCipher
from storage.models import (
    Delivery,
    DeliveryStatus,
    Image,
    Poster,
    PostStatus,
    PostView,
    TelegramChat,
    new_id,
    utc_now,
)
from storage.sqlite import SQLiteStore
from tests.conftest import opened
from tests.contract.helpers import add_account, schedule

USER = 4242
LEASE = timedelta(minutes=5)
STALL_WARNING = 0.2  # the store's 5 s, shortened so that a stall is seen in a fraction of a second
QUICK = 0.5  # a read "at once": far below any stall, far above a read's real few milliseconds


class WriteLock:
    """Another connection that holds SQLite's write lock on the store's file, as another
    process's long transaction does, with a write of its own not yet committed."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("BEGIN IMMEDIATE")
        self.connection.execute("INSERT INTO state (namespace, key, value) VALUES ('other', 'uncommitted', '1')")
        self.held = True

    def release(self) -> None:
        if self.held:
            self.connection.execute("ROLLBACK")
            self.held = False

    def close(self) -> None:
        self.release()
        self.connection.close()


def waiting_store(tmp_path: Path, encryption_key: str, busy_timeout: float) -> SQLiteStore:
    """A store, not yet open, whose writes wait up to `busy_timeout` s for the write lock and that
    says so after STALL_WARNING."""
    cipher = CredentialCipher(encryption_key)
    return SQLiteStore(tmp_path / "herald.db", cipher, busy_timeout=busy_timeout, stall_warning=STALL_WARNING)


@pytest.fixture
async def store(tmp_path: Path, encryption_key: str) -> AsyncIterator[SQLiteStore]:
    """A store whose writes wait up to 10 s for the write lock (the tests release it sooner)."""
    async with opened(waiting_store(tmp_path, encryption_key, busy_timeout=10)) as ready:
        yield ready


@pytest.fixture
async def impatient_store(tmp_path: Path, encryption_key: str) -> AsyncIterator[SQLiteStore]:
    """A store whose writes give up after 0.6 s of waiting for the write lock."""
    async with opened(waiting_store(tmp_path, encryption_key, busy_timeout=0.6)) as ready:
        yield ready


@pytest.fixture
def stall_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="storage.sqlite")
    return caplog


def stall_lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "storage.sqlite" and record.levelno == level and "SQLite" in record.getMessage()
    ]


async def quickly(read: Awaitable[Any]) -> Any:
    """The read's answer; fails the test if it takes longer than QUICK."""
    began = time.monotonic()
    answer = await asyncio.wait_for(read, timeout=QUICK)
    assert time.monotonic() - began < QUICK
    return answer


async def test_every_read_answers_at_once_while_another_connection_holds_the_write_lock(
    store: SQLiteStore,
) -> None:
    account = await add_account(store, USER)
    await store.set_timezone(USER, "Europe/Berlin")
    await store.upsert_chat(TelegramChat(-1001, "Shop news", "channel", True))
    blob = await store.put_image(b"\xff\xd8 pixels")
    await store.set_image_file_id(blob, "file-1")
    poster = await store.save_poster(Poster(new_id(), USER, "Sale", "Big sale", [Image(name="a.jpg", blob_id=blob)]))
    post = await schedule(store, USER, account)
    await store.save_state("conversations", "compose", {"step": "time"})

    lock = WriteLock(store.path)
    try:
        # A write of this process waits for the lock too: reads must not queue behind it either.
        waiting_write = asyncio.create_task(store.save_state("conversations", "compose", {"step": "preview"}))
        await asyncio.sleep(0.1)
        assert not waiting_write.done()

        user = await quickly(store.get_user(USER))
        assert user is not None and user.timezone == "Europe/Berlin"
        assert [a.account_id for a in await quickly(store.list_accounts(USER))] == [account.account_id]
        assert (await quickly(store.get_account(USER, account.account_id))) is not None
        assert await quickly(store.account_credential(account.account_id)) == "token-123"
        chat = await quickly(store.get_chat(-1001))
        assert chat is not None and chat.title == "Shop news"
        assert [c.chat_id for c in await quickly(store.list_chats())] == [-1001]
        assert await quickly(store.load_image(blob)) == b"\xff\xd8 pixels"
        assert await quickly(store.image_file_id(blob)) == "file-1"
        assert [p.poster_id for p in await quickly(store.list_posters(USER))] == [poster.poster_id]
        assert (await quickly(store.get_poster(USER, poster.poster_id))) is not None
        assert (await quickly(store.get_post(USER, post.post_id))) is not None
        assert (await quickly(store.load_post(post.post_id))) is not None
        upcoming = await quickly(store.list_posts(USER, PostView.UPCOMING))
        assert [p.post_id for p in upcoming.posts] == [post.post_id]
        assert (await quickly(store.list_posts(USER, PostView.HISTORY))).posts == []
        due = await quickly(store.scheduled_posts(utc_now() + timedelta(days=1)))
        assert [post_id for post_id, _ in due] == [post.post_id]
        # What was committed before the lock, not the other connection's uncommitted write.
        assert await quickly(store.load_state("conversations")) == {"compose": {"step": "time"}}
        assert await quickly(store.load_state("other")) == {}
        assert not waiting_write.done()
    finally:
        lock.close()
    await asyncio.wait_for(waiting_write, timeout=5)
    assert await store.load_state("conversations") == {"compose": {"step": "preview"}}


async def test_reads_answer_at_once_while_another_process_holds_the_write_lock(store: SQLiteStore) -> None:
    await store.set_timezone(USER, "Asia/Tokyo")
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sqlite3, sys, time\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "print('held', flush=True)\n"
        "time.sleep(1.5)\n",
        str(store.path),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), timeout=10) == b"held\n"
        began = time.monotonic()
        write = asyncio.create_task(store.set_timezone(USER, "America/New_York"))
        user = await quickly(store.get_user(USER))
        assert user is not None and user.timezone == "Asia/Tokyo"
        assert not write.done()
        # The write goes through once the other process ends its transaction (by exiting).
        written = await asyncio.wait_for(write, timeout=10)
        assert written.timezone == "America/New_York"
        assert time.monotonic() - began > 0.5
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()


async def test_a_write_waits_for_the_lock_then_goes_through_and_the_log_tells_once(
    store: SQLiteStore, stall_log: pytest.LogCaptureFixture
) -> None:
    account = await add_account(store, USER)
    to_cancel = await schedule(store, USER, account)
    to_claim = await schedule(store, USER, account, when=utc_now() - timedelta(minutes=1))
    await store.upsert_chat(TelegramChat(-1002, "Old group", "group", True))

    lock = WriteLock(store.path)
    try:
        # One write of each path: a plain statement, UPDATE … RETURNING, a transaction,
        # a claim, a group-committed write.
        writes = asyncio.gather(
            store.save_state("bot", "k", 1),
            store.cancel_post(USER, to_cancel.post_id),
            store.migrate_chat(-1002, -1003),
            store.claim_due_posts("w/1", utc_now(), LEASE),
            store._group_write(
                "UPDATE posts SET notified_at = ? WHERE post_id = ?", (iso_text(utc_now()), to_cancel.post_id)
            ),
        )
        await asyncio.sleep(6 * STALL_WARNING)
        assert not writes.done()
        warnings = stall_lines(stall_log, logging.WARNING)
        assert warnings == [
            f"SQLite {store.path} is locked by another connection: writes have been waiting "
            f"{STALL_WARNING:g} s (busy timeout 10 s)"
        ]
        assert stall_lines(stall_log, logging.INFO) == []
    finally:
        lock.close()
    saved, cancelled, _, claimed, _ = await asyncio.wait_for(writes, timeout=5)
    assert saved is None
    assert cancelled is not None and cancelled.status is PostStatus.CANCELLED
    assert [post.post_id for post in claimed] == [to_claim.post_id]
    assert await store.get_chat(-1003) is not None and await store.get_chat(-1002) is None
    assert await store.load_state("bot") == {"k": 1}
    notified = await store.load_post(to_cancel.post_id)
    assert notified is not None and notified.notified_at is not None
    # Still one warning for the whole stall, and one line when writes went through again.
    assert len(stall_lines(stall_log, logging.WARNING)) == 1
    resumed = stall_lines(stall_log, logging.INFO)
    assert len(resumed) == 1 and resumed[0].startswith("SQLite writes resumed after ")

    # Writes without a stall say nothing; the next stall is told again.
    await store.save_state("bot", "k", 2)
    assert len(stall_log.records) == 2
    lock = WriteLock(store.path)
    try:
        write = asyncio.create_task(store.save_state("bot", "k", 3))
        await asyncio.sleep(3 * STALL_WARNING)
    finally:
        lock.close()
    await asyncio.wait_for(write, timeout=5)
    assert len(stall_lines(stall_log, logging.WARNING)) == 2
    assert len(stall_lines(stall_log, logging.INFO)) == 2


async def test_a_short_wait_for_the_lock_logs_nothing(store: SQLiteStore, stall_log: pytest.LogCaptureFixture) -> None:
    lock = WriteLock(store.path)
    try:
        write = asyncio.create_task(store.save_state("bot", "k", 1))
        await asyncio.sleep(STALL_WARNING / 4)
        assert not write.done()
    finally:
        lock.close()
    await asyncio.wait_for(write, timeout=5)
    await asyncio.sleep(STALL_WARNING * 2)  # a timer left running would fire now
    assert stall_log.records == []
    assert await store.load_state("bot") == {"k": 1}


async def test_past_the_busy_timeout_each_write_fails_database_is_locked_and_the_store_goes_on(
    impatient_store: SQLiteStore, stall_log: pytest.LogCaptureFixture
) -> None:
    store = impatient_store
    account = await add_account(store, USER)
    post = await schedule(store, USER, account)
    lock = WriteLock(store.path)
    try:
        began = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await store.save_state("bot", "k", 1)
        assert 0.5 < time.monotonic() - began < 5
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await store.cancel_post(USER, post.post_id)
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await store.remove_account(USER, account.account_id)
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await store.renew_lease(post.post_id, "w/1", utc_now(), timedelta(seconds=60))
        # Reads still answer while writes fail.
        assert (await quickly(store.get_post(USER, post.post_id))) is not None
    finally:
        lock.close()
    assert stall_lines(stall_log, logging.WARNING) == [
        f"SQLite {store.path} is locked by another connection: writes have been waiting "
        f"{STALL_WARNING:g} s (busy timeout 0.6 s)"
    ]
    assert stall_lines(stall_log, logging.INFO) == []  # a failed write is no sign the stall is over

    # Nothing of the failed writes was made, nothing is left half-done, and writes work again.
    assert not store.db.in_transaction
    kept = await store.get_post(USER, post.post_id)
    assert kept is not None and kept.status is PostStatus.SCHEDULED and kept.notified_at is None
    assert await store.load_state("bot") == {}
    cancelled = await store.cancel_post(USER, post.post_id)
    assert cancelled is not None and cancelled.status is PostStatus.CANCELLED
    await store.save_state("bot", "k", 1)
    assert await store.load_state("bot") == {"k": 1}
    resumed = stall_lines(stall_log, logging.INFO)
    assert len(resumed) == 1 and resumed[0].startswith("SQLite writes resumed after ")


async def test_group_commit_waits_for_the_lock_and_commits_every_write_once_it_is_free(
    store: SQLiteStore, groups: list[int], stall_log: pytest.LogCaptureFixture
) -> None:
    account = await add_account(store, USER)
    for _ in range(6):
        await schedule(store, USER, account, when=utc_now() - timedelta(minutes=1))
    posts = await store.claim_due_posts("w/1", utc_now(), LEASE)
    assert len(posts) == 6
    lock = WriteLock(store.path)
    try:
        first = asyncio.gather(
            *(
                store.record_delivery(p.post_id, "w/1", Delivery(p.targets[0].target_id, DeliveryStatus.SENDING, 1))
                for p in posts[:3]
            )
        )
        await asyncio.sleep(3 * STALL_WARNING)
        # Queued while the first group waits: they form the next group.
        second = asyncio.gather(
            *(
                store.record_delivery(p.post_id, "w/1", Delivery(p.targets[0].target_id, DeliveryStatus.SENDING, 1))
                for p in posts[3:]
            )
        )
        await asyncio.sleep(STALL_WARNING)
        assert not first.done() and not second.done()
        assert len(stall_lines(stall_log, logging.WARNING)) == 1
    finally:
        lock.close()
    assert await asyncio.wait_for(first, timeout=5) == [True] * 3
    assert await asyncio.wait_for(second, timeout=5) == [True] * 3
    assert groups == [3, 3]
    for post in posts:
        stored = await store.load_post(post.post_id)
        assert stored is not None
        assert stored.deliveries[post.targets[0].target_id].status is DeliveryStatus.SENDING
    assert len(stall_lines(stall_log, logging.WARNING)) == 1
    assert len(stall_lines(stall_log, logging.INFO)) == 1


async def test_past_the_busy_timeout_every_write_of_a_group_fails_and_the_next_group_commits(
    impatient_store: SQLiteStore, groups: list[int], stall_log: pytest.LogCaptureFixture
) -> None:
    store = impatient_store
    account = await add_account(store, USER)
    for _ in range(3):
        await schedule(store, USER, account, when=utc_now() - timedelta(minutes=1))
    posts = await store.claim_due_posts("w/1", utc_now(), LEASE)
    lock = WriteLock(store.path)
    try:
        results = await asyncio.gather(
            *(store.renew_lease(p.post_id, "w/1", utc_now(), timedelta(hours=3)) for p in posts),
            return_exceptions=True,
        )
    finally:
        lock.close()
    assert groups == [3]
    assert all(isinstance(r, sqlite3.OperationalError) and "database is locked" in str(r) for r in results)
    assert len(stall_lines(stall_log, logging.WARNING)) == 1 and stall_lines(stall_log, logging.INFO) == []
    later = utc_now() + timedelta(hours=1)
    assert await asyncio.gather(*(store.renew_lease(p.post_id, "w/1", later, LEASE) for p in posts)) == [True] * 3
    assert groups == [3, 3]
    assert len(stall_lines(stall_log, logging.INFO)) == 1
    for post in posts:
        stored = await store.load_post(post.post_id)
        assert stored is not None and stored.claim is not None
        assert stored.claim.lease_until == later + LEASE


async def test_a_read_right_after_a_write_sees_it(store: SQLiteStore) -> None:
    account = await add_account(store, USER)
    for step in range(20):
        await store.save_state("conversations", "compose", {"step": step})
        assert await store.load_state("conversations") == {"compose": {"step": step}}
    zone = "Pacific/Auckland"
    await store.set_timezone(USER, zone)
    user = await store.get_user(USER)
    assert user is not None and user.timezone == zone
    post = await schedule(store, USER, account, when=utc_now() - timedelta(seconds=1))
    assert await store.get_post(USER, post.post_id) is not None
    (claimed,) = await store.claim_due_posts("w/1", utc_now(), LEASE)
    loaded = await store.load_post(claimed.post_id)
    assert loaded is not None and loaded.status is PostStatus.PUBLISHING
    target = claimed.targets[0].target_id
    assert await store.record_delivery(claimed.post_id, "w/1", Delivery(target, DeliveryStatus.SENT, 1))
    loaded = await store.load_post(claimed.post_id)
    assert loaded is not None and loaded.deliveries[target].status is DeliveryStatus.SENT

    # Another connection's commit is seen by the next read: no read keeps an old snapshot.
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("INSERT INTO state (namespace, key, value) VALUES ('other', 'k', '7')")
        assert await store.load_state("other") == {"k": 7}
        # A read transaction left open would keep the checkpoint from emptying the WAL file.
        busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
    finally:
        other.close()
    assert not store.reader.in_transaction


async def test_the_reader_connection_refuses_to_write(store: SQLiteStore) -> None:
    await store.save_state("bot", "k", 1)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await store._read_all("DELETE FROM state")
    assert await store.load_state("bot") == {"k": 1}
