"""The embedded store: one SQLite file in WAL mode, reached through aiosqlite's thread."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import aiosqlite

from storage.base import (
    MEDIA_CHUNK,
    REVISABLE_STATUSES,
    PostPage,
    Revised,
    Store,
    confirmed_by_hand,
    finished_post,
    retried_post,
    revised_post,
)
from storage.batching import WriteBatcher
from storage.codec import (
    ISO_TIMES,
    delivery_to_doc,
    follow_up_from_doc,
    follow_up_to_doc,
    iso_text,
    options_from_doc,
    options_to_doc,
    owned_targets,
    post_from_doc,
    post_to_doc,
    poster_from_doc,
    poster_to_doc,
    slot_from_doc,
    slot_to_doc,
    target_from_doc,
    target_to_doc,
)
from storage.crypto import (
    KEY_FILE_NAME,
    PRIVATE_FILE_MODE,
    PRIVATE_FOLDER_MODE,
    CredentialCipher,
    make_owner_only,
)
from storage.models import (
    Account,
    Delivery,
    DeliveryOptions,
    Entity,
    FollowUp,
    ForumTopic,
    Platform,
    Post,
    Poster,
    PostStatus,
    PostView,
    Target,
    TelegramChat,
    User,
    new_id,
    utc_now,
)
from storage.queue import Slot
from storage.series import Series, series_from_doc, series_to_doc

log = logging.getLogger(__name__)

# Seconds a write waits for another connection's write lock before it fails with "database is locked".
BUSY_TIMEOUT = 60.0
# Seconds a write may wait for that lock before the log names it.
STALL_WARNING = 5.0
# The files SQLite keeps beside the database (WAL mode uses the first two).
SIDE_FILE_SUFFIXES = ("-wal", "-shm", "-journal")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id INTEGER PRIMARY KEY,
    timezone TEXT,
    created_at TEXT NOT NULL,
    language TEXT,
    app_language TEXT
);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    platform TEXT NOT NULL,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    targets TEXT NOT NULL,
    needs_reconnect INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_user ON accounts (user_id, created_at);
CREATE TABLE IF NOT EXISTS telegram_chats (
    chat_id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    chat_type TEXT NOT NULL,
    bot_is_admin INTEGER NOT NULL,
    username TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS telegram_topics (
    chat_id INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, thread_id)
);
CREATE TABLE IF NOT EXISTS blobs (
    blob_id TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    size INTEGER NOT NULL,
    telegram_file_id TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS posters (
    poster_id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS posters_user ON posters (user_id, name);
CREATE TABLE IF NOT EXISTS posts (
    post_id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    status TEXT NOT NULL,
    scheduled_time TEXT NOT NULL,
    worker_id TEXT,
    lease_until TEXT,
    claimed_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    notified_at TEXT,
    report_due_at TEXT,
    report_holder TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_due ON posts (status, scheduled_time);
CREATE INDEX IF NOT EXISTS posts_user ON posts (user_id, scheduled_time);
CREATE INDEX IF NOT EXISTS posts_user_status ON posts (user_id, status, scheduled_time);
CREATE INDEX IF NOT EXISTS posts_lease ON posts (status, lease_until);
CREATE TABLE IF NOT EXISTS state (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
);
-- Media bigger than one chunk, a chunk a row (its `blobs` row keeps an empty `data` and the size),
-- so that a video is written and read without holding it whole.
CREATE TABLE IF NOT EXISTS blob_chunks (
    blob_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
"""

# The follow-up actions (unpin, delete) of published posts, claimed like posts.
FOLLOW_UP_SCHEMA = """
CREATE TABLE IF NOT EXISTS follow_ups (
    action_id TEXT PRIMARY KEY,
    post_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    target_id TEXT NOT NULL,
    target_name TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    message_ids TEXT NOT NULL,
    kind TEXT NOT NULL,
    due_at TEXT NOT NULL,
    status TEXT NOT NULL,
    holder TEXT,
    lease_until TEXT,
    claimed_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    done_at TEXT,
    error_message TEXT,
    report_due_at TEXT,
    report_holder TEXT,
    notified_at TEXT
);
CREATE INDEX IF NOT EXISTS follow_ups_due ON follow_ups (status, due_at);
CREATE INDEX IF NOT EXISTS follow_ups_post ON follow_ups (post_id, due_at);
CREATE INDEX IF NOT EXISTS follow_ups_reports ON follow_ups (report_due_at) WHERE report_due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS delivery_defaults (
    user_id INTEGER PRIMARY KEY,
    doc TEXT NOT NULL
);
"""
FOLLOW_UP_FIELDS = (
    "action_id", "post_id", "user_id", "target_id", "target_name", "chat_id", "message_ids", "kind", "due_at",
    "status", "holder", "lease_until", "claimed_at", "attempts", "done_at", "error_message", "report_due_at",
    "report_holder", "notified_at",
)  # fmt: skip

# Columns added after the first release: (name, type), added to an older file when it is opened,
# and the indexes that need them.
ADDED_POST_COLUMNS = (("report_due_at", "TEXT"), ("report_holder", "TEXT"))
LATER_INDEXES = """
DROP INDEX IF EXISTS posts_unreported;
CREATE INDEX IF NOT EXISTS posts_reports ON posts (report_due_at) WHERE report_due_at IS NOT NULL;
"""
# Recurring series (storage/series.py): the columns are what the scheduler queries and guards on;
# the document holds the whole series, its content as a post's document.
SERIES_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    series_id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    next_time TEXT,
    pending INTEGER NOT NULL DEFAULT 0,
    holder TEXT,
    lease_until TEXT,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS series_due ON series (status, pending, next_time);
CREATE INDEX IF NOT EXISTS series_user ON series (user_id, status, next_time);
CREATE INDEX IF NOT EXISTS series_pending ON series (lease_until) WHERE pending = 1;
"""
# The posting schedule (storage/queue.py): one row per user, the slots a JSON list.
QUEUE_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_slots (
    user_id INTEGER PRIMARY KEY,
    slots TEXT NOT NULL
);
"""

# Fields kept in columns (indexed or updated atomically) rather than in the JSON document.
POST_COLUMNS = (
    "user_id", "account_id", "status", "scheduled_time", "attempts", "notified_at", "report_due_at", "report_holder"
)  # fmt: skip
POST_SELECT = (
    "SELECT post_id, user_id, account_id, status, scheduled_time, worker_id, lease_until, "
    "claimed_at, attempts, notified_at, report_due_at, report_holder, doc FROM posts"
)
FINISHED = (PostStatus.PUBLISHED.value, PostStatus.PARTIAL.value, PostStatus.FAILED.value)
UPCOMING = (PostStatus.SCHEDULED.value, PostStatus.PUBLISHING.value)
HISTORY = (
    PostStatus.PUBLISHED.value,
    PostStatus.PARTIAL.value,
    PostStatus.FAILED.value,
    PostStatus.CANCELLED.value,
)


def _row_to_post(row: aiosqlite.Row) -> Post:
    doc = json.loads(row["doc"])
    doc.update({name: row[name] for name in POST_COLUMNS})
    # A post waiting to retry has a lease and no worker (see codec's _claim_to_doc).
    doc["claim"] = (
        {
            "worker_id": row["worker_id"],
            "lease_until": row["lease_until"],
            "claimed_at": row["claimed_at"],
        }
        if row["worker_id"] or (row["lease_until"] and row["status"] == PostStatus.PUBLISHING.value)
        else None
    )
    return post_from_doc(row["post_id"], doc, ISO_TIMES)


def _deliveries_json(post: Post) -> str:
    """The post's deliveries as the JSON object its document keeps under `$.deliveries`."""
    return json.dumps({target_id: delivery_to_doc(d, ISO_TIMES) for target_id, d in post.deliveries.items()})


def _post_doc_without_columns(post: Post) -> dict[str, Any]:
    """The post's JSON document: what the columns hold (and the claim) left out."""
    doc = post_to_doc(post, ISO_TIMES)
    for name in (*POST_COLUMNS, "claim"):
        doc.pop(name)
    return doc


POST_INSERT = (
    "(post_id, user_id, account_id, status, scheduled_time, worker_id, lease_until, claimed_at, attempts, "
    "notified_at, report_due_at, report_holder, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _post_row(post: Post) -> tuple[Any, ...]:
    """The values of `POST_INSERT` for a post: its columns, its claim, its document."""
    doc = post_to_doc(post, ISO_TIMES)
    columns = {name: doc.pop(name) for name in POST_COLUMNS}
    claim = doc.pop("claim")
    return (
        post.post_id,
        columns["user_id"],
        columns["account_id"],
        columns["status"],
        columns["scheduled_time"],
        claim["worker_id"] if claim else None,
        claim["lease_until"] if claim else None,
        claim["claimed_at"] if claim else None,
        columns["attempts"],
        columns["notified_at"],
        columns["report_due_at"],
        columns["report_holder"],
        json.dumps(doc),
    )


def _row_to_follow_up(row: aiosqlite.Row) -> FollowUp:
    doc = {name: row[name] for name in FOLLOW_UP_FIELDS}
    doc["message_ids"] = json.loads(doc["message_ids"])
    return follow_up_from_doc(doc, ISO_TIMES)


def _placeholders(values: Iterable[object]) -> str:
    return ",".join("?" for _ in values)


def _write_group(conn: sqlite3.Connection, writes: Sequence[tuple[str, tuple[Any, ...]]]) -> list[int | Exception]:
    """Runs in aiosqlite's thread: every write in one BEGIN IMMEDIATE … COMMIT.

    Returns each write's rowcount, or the exception it raised: a failing statement is undone
    by SQLite alone (statement atomicity) and fails only its own caller. An error that ends the
    whole transaction (SQLITE_FULL, SQLITE_IOERR, …: `in_transaction` turns False) takes the
    writes before it down too, so those run again in a fresh transaction."""
    outcomes: list[int | Exception | None] = [None] * len(writes)
    todo = list(range(len(writes)))
    while todo:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except Exception as exc:
            for number in todo:
                outcomes[number] = exc
            break
        ran: list[int] = []
        again: list[int] | None = None
        for position, number in enumerate(todo):
            sql, params = writes[number]
            try:
                outcomes[number] = conn.execute(sql, params).rowcount
                ran.append(number)
            except Exception as exc:
                outcomes[number] = exc
                if not conn.in_transaction:
                    again = ran + todo[position + 1 :]
                    break
        if again is not None:
            todo = again
            continue
        try:
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for number in ran:
                outcomes[number] = exc
        break
    return [outcome if outcome is not None else RuntimeError("not run") for outcome in outcomes]


def _is_busy(outcome: object) -> bool:
    """True for SQLite's "database is locked": the write lock stayed taken past the busy timeout."""
    return isinstance(outcome, sqlite3.OperationalError) and outcome.sqlite_errorcode & 0xFF in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


@dataclass
class _WriterCall:
    """One call of the writer connection, as the stall watch sees it."""

    went_through: bool = True


class _StallWatch:
    """Tells the log once when writes wait long for another connection's write lock, and once
    when they go through again.

    The writer connection makes one call at a time (under the store's lock), so one timer,
    started with each call, says when the current call has waited too long. A call that has
    waited that long is waiting in SQLite's busy handler: Herald's own writes take milliseconds."""

    def __init__(self, path: Path, warn_after: float, busy_timeout: float) -> None:
        self.path = path
        self.warn_after = warn_after
        self.busy_timeout = busy_timeout
        self._timer: asyncio.TimerHandle | None = None
        self._call_began = 0.0  # loop time when the writer's current call began
        self._stalled_since: float | None = None  # when the call that the warning named began

    @contextmanager
    def watching(self) -> Iterator[_WriterCall]:
        """Watches one call of the writer; it went through unless it ended "database is locked"."""
        loop = asyncio.get_running_loop()
        self._call_began = loop.time()
        if self._stalled_since is None:
            self._timer = loop.call_later(self.warn_after, self._warn)
        call = _WriterCall()
        try:
            yield call
        except BaseException as exc:
            call.went_through = isinstance(exc, Exception) and not _is_busy(exc)
            raise
        finally:
            self._ended(call.went_through, loop)

    def _warn(self) -> None:
        self._timer = None
        self._stalled_since = self._call_began
        log.warning(
            "SQLite %s is locked by another connection: writes have been waiting %g s (busy timeout %g s)",
            self.path,
            self.warn_after,
            self.busy_timeout,
        )

    def _ended(self, went_through: bool, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if went_through and self._stalled_since is not None:
            log.info("SQLite writes resumed after %.0f s", loop.time() - self._stalled_since)
            self._stalled_since = None


class SQLiteStore(Store):
    """Herald's storage in one SQLite file; safe for several processes on one machine.

    Two connections: the writer makes every write, one call at a time under `self._lock`; the
    reader answers plain SELECTs. In WAL mode a reader never waits for a writer, so a user's
    screens answer at once while this or another process writes, or holds the write lock."""

    def __init__(
        self,
        path: Path,
        cipher: CredentialCipher,
        busy_timeout: float = BUSY_TIMEOUT,
        stall_warning: float = STALL_WARNING,
    ) -> None:
        super().__init__(cipher)
        self.path = path
        self.busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._stalls = _StallWatch(path, stall_warning, busy_timeout)
        # The writer serves many coroutines: a statement of one must never run inside
        # another's transaction, nor between the steps of another's statement.
        self._lock = asyncio.Lock()
        # Group commit of the publication's fenced single-row writes (see _group_write); a flush
        # runs under the store's lock, never inside another coroutine's statement or transaction.
        self._group: WriteBatcher[tuple[str, tuple[Any, ...]], int] = WriteBatcher(
            self._commit_group, gate=lambda: self._lock
        )

    @property
    def db(self) -> aiosqlite.Connection:
        """The writer connection."""
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    @property
    def reader(self) -> aiosqlite.Connection:
        """The reader connection: SELECTs only (`query_only`), never behind a write."""
        if self._reader is None:
            raise RuntimeError("the store is not open")
        return self._reader

    async def open(self) -> None:
        self._keep_files_private()
        try:
            self._db = await self._connect()
            await self._db.execute("PRAGMA journal_mode = WAL")
            await self._db.execute("PRAGMA synchronous = NORMAL")
            with self._stalls.watching():
                await self._db.executescript(SCHEMA)
                await self._migrate()
            self._reader = await self._connect()
            # A write sent here by mistake fails at once instead of taking the write lock.
            await self._reader.execute("PRAGMA query_only = ON")
        except BaseException:
            await self.close()
            raise

    async def _migrate(self) -> None:
        """Brings a file made by an earlier version up to this schema (columns are only added)."""
        columns = {row["name"] for row in await self.db.execute_fetchall("PRAGMA table_info(posts)")}
        for name, kind in ADDED_POST_COLUMNS:
            if name not in columns:
                await self.db.execute(f"ALTER TABLE posts ADD COLUMN {name} {kind}")
        if "report_due_at" not in columns:
            # Posts finished lately whose owner was never told: their reports are due now. Older
            # ones are not worth a message after an upgrade.
            await self.db.execute(
                f"UPDATE posts SET report_due_at = ? WHERE notified_at IS NULL "
                f"AND status IN ({_placeholders(FINISHED)}) AND scheduled_time >= ?",
                (iso_text(utc_now()), *FINISHED, iso_text(utc_now() - timedelta(days=1))),
            )
        user_columns = {row["name"] for row in await self.db.execute_fetchall("PRAGMA table_info(users)")}
        for name in ("language", "app_language"):
            if name not in user_columns:
                await self.db.execute(f"ALTER TABLE users ADD COLUMN {name} TEXT")
        await self.db.executescript(LATER_INDEXES)
        await self.db.executescript(SERIES_SCHEMA)
        await self.db.executescript(QUEUE_SCHEMA)
        await self.db.executescript(FOLLOW_UP_SCHEMA)

    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
        db.row_factory = aiosqlite.Row
        await db.execute(f"PRAGMA busy_timeout = {round(self.busy_timeout * 1000)}")
        return db

    def _keep_files_private(self) -> None:
        """Creates the data folder (0700) and the database file (0600) for their owner alone, and
        makes Herald's own files found open to others owner-only, saying so in the log.

        SQLite creates the -wal and -shm files with the database file's permissions."""
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER_MODE)
        with suppress(FileExistsError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
        files = [self.path, *(self.path.with_name(self.path.name + suffix) for suffix in SIDE_FILE_SUFFIXES)]
        # The folder only when it holds nothing but Herald's files: a database kept in a
        # project folder or a home folder must not shut others out of everything else there.
        ours = {path.name for path in files} | {KEY_FILE_NAME}
        if all(entry.name in ours for entry in folder.iterdir()):
            files.append(folder)
        tightened = make_owner_only(files)
        if tightened:
            log.info(
                "Made readable by their owner only (they were open to others): %s",
                ", ".join(str(path) for path in tightened),
            )

    async def close(self) -> None:
        await self._group.drain()
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()
        if self._db is not None:
            await self._db.close()
            self._db = None

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction that holds SQLite's write lock from its first statement."""
        async with self._lock:
            # The only statement that can wait for another connection: the lock is held after it.
            with self._stalls.watching():
                await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def _read_one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """The first row of one SELECT, through the reader connection (see `_read_all`)."""
        rows = await self._read_all(sql, params)
        return rows[0] if rows else None

    async def _read_all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """The rows of one SELECT, through the reader connection: never behind a write.

        Each read is a transaction of its own (autocommit, executed and read to the end in one
        hop to aiosqlite's thread, which runs one call at a time), so it sees every write
        committed before it began — the caller's own included — and holds no snapshot after."""
        return list(await self.reader.execute_fetchall(sql, tuple(params)))

    async def _fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """The first row a write statement returns (UPDATE … RETURNING), through the writer."""
        rows = await self._fetchall(sql, params)
        return rows[0] if rows else None

    async def _fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """The rows a write statement returns (UPDATE … RETURNING), through the writer; plain
        SELECTs go through `_read_all`."""
        # Executed and read to the end in one go: a statement left half-read would keep
        # SQLite's write lock (UPDATE … RETURNING) and block COMMIT on this connection.
        async with self._lock:
            with self._stalls.watching():
                return list(await self.db.execute_fetchall(sql, tuple(params)))

    async def _execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        async with self._lock:
            with self._stalls.watching():
                async with self.db.execute(sql, tuple(params)) as cursor:
                    return cursor.rowcount

    async def _group_write(self, sql: str, params: Iterable[Any]) -> int:
        """Run one write statement, committed together with the others queued meanwhile.

        The publication's fenced single-row writes (record_delivery, finish_post, renew_lease,
        mark_notified) come from many publications at once; each alone would cost a thread hop
        and a commit. They queue here, and everything queued until the flusher gets the store's
        lock (at least the rest of this event-loop tick) runs in one thread hop inside one
        BEGIN IMMEDIATE … COMMIT. The caller resumes only after that COMMIT — its write is as
        durable as one made by `_execute` — and gets its own statement's rowcount, or its own
        statement's exception (the others stay committed). Never call it while holding
        `self._lock` (inside `_transaction`): the flush needs that lock."""
        return await self._group.write((sql, tuple(params)))

    async def _commit_group(self, writes: list[tuple[str, tuple[Any, ...]]]) -> list[int | Exception]:
        """Runs under the store's lock: every write in one thread hop and one transaction."""
        db = self.db
        # aiosqlite's Connection._execute(fn, *args) runs fn in the connection's own thread (a
        # private method of aiosqlite 0.22.1, pinned in requirements.txt): one hop for the whole
        # group instead of one per statement.
        with self._stalls.watching() as call:
            outcomes: list[int | Exception] = await db._execute(  # type: ignore[no-untyped-call]
                _write_group, db._conn, writes
            )
            call.went_through = not any(_is_busy(outcome) for outcome in outcomes)
        return outcomes

    # -- users -----------------------------------------------------------------------------
    async def get_user(self, user_id: int) -> User | None:
        row = await self._read_one("SELECT * FROM users WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        return User(
            row["user_id"],
            row["timezone"],
            ISO_TIMES.decode(row["created_at"]),
            language=row["language"],
            app_language=row["app_language"],
        )

    async def set_timezone(self, user_id: int, timezone: str) -> User:
        return await self._set_user_column(user_id, "timezone", timezone)

    async def set_language(self, user_id: int, language: str | None) -> User:
        return await self._set_user_column(user_id, "language", language)

    async def set_app_language(self, user_id: int, code: str | None) -> User:
        return await self._set_user_column(user_id, "app_language", code)

    async def _set_user_column(self, user_id: int, column: str, value: str | None) -> User:
        # `column` is one of this class's own names, never the user's.
        await self._execute(
            f"INSERT INTO users (user_id, {column}, created_at) VALUES (?, ?, ?) "
            f"ON CONFLICT (user_id) DO UPDATE SET {column} = excluded.{column}",
            (user_id, value, iso_text(utc_now())),
        )
        user = await self.get_user(user_id)
        assert user is not None
        return user

    # -- accounts --------------------------------------------------------------------------
    def _row_to_account(self, row: aiosqlite.Row) -> Account:
        return Account(
            account_id=row["account_id"],
            user_id=row["user_id"],
            platform=Platform(row["platform"]),
            name=row["name"],
            targets=[target_from_doc(doc) for doc in json.loads(row["targets"])],
            needs_reconnect=bool(row["needs_reconnect"]),
            created_at=ISO_TIMES.decode(row["created_at"]),
        )

    async def add_account(
        self,
        user_id: int,
        platform: Platform,
        name: str,
        credential: str,
        targets: list[Target],
    ) -> Account:
        account_id = new_id()
        account = Account(account_id, user_id, platform, name, owned_targets(targets, account_id))
        await self._execute(
            "INSERT INTO accounts (account_id, user_id, platform, name, credential, targets, "
            "needs_reconnect, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
            (
                account.account_id,
                user_id,
                platform.value,
                name,
                self.cipher.encrypt(credential),
                json.dumps([target_to_doc(target) for target in account.targets]),
                iso_text(account.created_at),
            ),
        )
        return account

    async def list_accounts(self, user_id: int) -> list[Account]:
        rows = await self._read_all(
            "SELECT * FROM accounts WHERE user_id = ? ORDER BY created_at, account_id", (user_id,)
        )
        return [self._row_to_account(row) for row in rows]

    async def get_account(self, user_id: int, account_id: str) -> Account | None:
        row = await self._read_one("SELECT * FROM accounts WHERE user_id = ? AND account_id = ?", (user_id, account_id))
        return self._row_to_account(row) if row else None

    async def account_credential(self, account_id: str) -> str | None:
        row = await self._read_one("SELECT credential FROM accounts WHERE account_id = ?", (account_id,))
        return self.cipher.decrypt(row["credential"]) if row else None

    async def set_account_targets(self, user_id: int, account_id: str, targets: list[Target]) -> bool:
        targets = owned_targets(targets, account_id)
        changed = await self._execute(
            "UPDATE accounts SET targets = ? WHERE user_id = ? AND account_id = ?",
            (json.dumps([target_to_doc(t) for t in targets]), user_id, account_id),
        )
        return changed == 1

    async def set_account_credential(self, user_id: int, account_id: str, credential: str) -> bool:
        changed = await self._execute(
            "UPDATE accounts SET credential = ?, needs_reconnect = 0 WHERE user_id = ? AND account_id = ?",
            (self.cipher.encrypt(credential), user_id, account_id),
        )
        return changed == 1

    async def rename_account(self, user_id: int, account_id: str, name: str) -> bool:
        changed = await self._execute(
            "UPDATE accounts SET name = ? WHERE user_id = ? AND account_id = ?", (name, user_id, account_id)
        )
        return changed == 1

    async def mark_account_needs_reconnect(self, account_id: str, needs: bool = True) -> None:
        await self._execute(
            "UPDATE accounts SET needs_reconnect = ? WHERE account_id = ?",
            (int(needs), account_id),
        )

    async def remove_account(self, user_id: int, account_id: str) -> int | None:
        async with self._transaction() as db:
            async with db.execute(
                "DELETE FROM accounts WHERE user_id = ? AND account_id = ?", (user_id, account_id)
            ) as cursor:
                if cursor.rowcount != 1:
                    return None
            async with db.execute(
                "UPDATE posts SET status = ? WHERE user_id = ? AND account_id = ? AND status = ?",
                (PostStatus.CANCELLED.value, user_id, account_id, PostStatus.SCHEDULED.value),
            ) as cursor:
                return cursor.rowcount

    # -- Telegram chats --------------------------------------------------------------------
    async def upsert_chat(self, chat: TelegramChat) -> None:
        await self._execute(
            "INSERT INTO telegram_chats (chat_id, title, chat_type, bot_is_admin, username, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET "
            "title = excluded.title, chat_type = excluded.chat_type, "
            "bot_is_admin = excluded.bot_is_admin, username = excluded.username, "
            "updated_at = excluded.updated_at",
            (
                chat.chat_id,
                chat.title,
                chat.chat_type,
                int(chat.bot_is_admin),
                chat.username,
                iso_text(chat.updated_at),
            ),
        )

    @staticmethod
    def _row_to_chat(row: aiosqlite.Row) -> TelegramChat:
        return TelegramChat(
            chat_id=row["chat_id"],
            title=row["title"],
            chat_type=row["chat_type"],
            bot_is_admin=bool(row["bot_is_admin"]),
            username=row["username"],
            updated_at=ISO_TIMES.decode(row["updated_at"]),
        )

    async def get_chat(self, chat_id: int) -> TelegramChat | None:
        row = await self._read_one("SELECT * FROM telegram_chats WHERE chat_id = ?", (chat_id,))
        return self._row_to_chat(row) if row else None

    async def list_chats(self, admin_only: bool = True) -> list[TelegramChat]:
        where = "WHERE bot_is_admin = 1" if admin_only else ""
        rows = await self._read_all(f"SELECT * FROM telegram_chats {where} ORDER BY title, chat_id")
        return [self._row_to_chat(row) for row in rows]

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        async with self._transaction() as db:
            async with db.execute("SELECT 1 FROM telegram_chats WHERE chat_id = ?", (old_chat_id,)) as cursor:
                if await cursor.fetchone() is None:
                    return  # already followed (the service message and a send may both report it)
            await db.execute("DELETE FROM telegram_chats WHERE chat_id = ?", (new_chat_id,))
            await db.execute(
                "UPDATE telegram_chats SET chat_id = ?, chat_type = 'supergroup', updated_at = ? WHERE chat_id = ?",
                (new_chat_id, iso_text(utc_now()), old_chat_id),
            )

    # -- forum topics ----------------------------------------------------------------------
    async def upsert_topic(self, topic: ForumTopic) -> None:
        await self._execute(
            "INSERT INTO telegram_topics (chat_id, thread_id, name, closed, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id, thread_id) DO UPDATE SET name = excluded.name, closed = excluded.closed, "
            "updated_at = excluded.updated_at",
            (topic.chat_id, topic.thread_id, topic.name, int(topic.closed), iso_text(topic.updated_at)),
        )

    @staticmethod
    def _row_to_topic(row: aiosqlite.Row) -> ForumTopic:
        return ForumTopic(
            chat_id=row["chat_id"],
            thread_id=row["thread_id"],
            name=row["name"],
            closed=bool(row["closed"]),
            updated_at=ISO_TIMES.decode(row["updated_at"]),
        )

    async def get_topic(self, chat_id: int, thread_id: int) -> ForumTopic | None:
        row = await self._read_one(
            "SELECT * FROM telegram_topics WHERE chat_id = ? AND thread_id = ?", (chat_id, thread_id)
        )
        return self._row_to_topic(row) if row else None

    async def forget_topic(self, chat_id: int, thread_id: int) -> bool:
        deleted = await self._execute(
            "DELETE FROM telegram_topics WHERE chat_id = ? AND thread_id = ?", (chat_id, thread_id)
        )
        return deleted > 0

    async def list_topics(self, chat_ids: Collection[int]) -> list[ForumTopic]:
        wanted = sorted(set(chat_ids))
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        rows = await self._read_all(
            f"SELECT * FROM telegram_topics WHERE chat_id IN ({marks}) ORDER BY chat_id, name, thread_id", wanted
        )
        return [self._row_to_topic(row) for row in rows]

    # -- images ----------------------------------------------------------------------------
    async def put_image(self, data: bytes) -> str:
        blob_id = hashlib.sha256(data).hexdigest()
        await self._execute(
            "INSERT OR IGNORE INTO blobs (blob_id, data, size, created_at) VALUES (?, ?, ?, ?)",
            (blob_id, data, len(data), iso_text(utc_now())),
        )
        return blob_id

    async def load_image(self, blob_id: str) -> bytes | None:
        row = await self._read_one("SELECT data, size FROM blobs WHERE blob_id = ?", (blob_id,))
        if row is None:
            return None
        if row["data"] or not row["size"]:
            return bytes(row["data"])
        return b"".join([chunk async for chunk in self.media_chunks(blob_id)])

    async def set_image_file_id(self, blob_id: str, file_id: str) -> None:
        await self._execute("UPDATE blobs SET telegram_file_id = ? WHERE blob_id = ?", (file_id, blob_id))

    async def image_file_id(self, blob_id: str) -> str | None:
        row = await self._read_one("SELECT telegram_file_id FROM blobs WHERE blob_id = ?", (blob_id,))
        return row["telegram_file_id"] if row else None

    async def purge_orphan_images(self, created_before: datetime) -> int:
        purged = await self._execute(
            "DELETE FROM blobs WHERE created_at < ? AND blob_id NOT IN ("
            " SELECT json_extract(image.value, '$.blob_id') FROM posts,"
            " json_each(posts.doc, '$.images') AS image"
            " UNION SELECT json_extract(image.value, '$.blob_id') FROM posters,"
            " json_each(posters.doc, '$.images') AS image)",
            (iso_text(created_before),),
        )
        # The chunks of the media just deleted, and of uploads cut off before they were finished.
        await self._execute(
            "DELETE FROM blob_chunks WHERE created_at < ? AND blob_id NOT IN (SELECT blob_id FROM blobs)",
            (iso_text(created_before),),
        )
        return purged

    async def put_media(self, source: BinaryIO) -> str:
        chunk = await asyncio.to_thread(source.read, MEDIA_CHUNK)
        following = await asyncio.to_thread(source.read, MEDIA_CHUNK) if chunk else b""
        if not following:
            return await self.put_image(chunk)
        # Written under a name of its own until the whole has been read and its hash is known.
        partial, now = f"partial-{secrets.token_hex(8)}", iso_text(utc_now())
        digest, size, seq = hashlib.sha256(), 0, 0
        try:
            while chunk:
                digest.update(chunk)
                await self._execute(
                    "INSERT INTO blob_chunks (blob_id, seq, data, created_at) VALUES (?, ?, ?, ?)",
                    (partial, seq, chunk, now),
                )
                size, seq = size + len(chunk), seq + 1
                chunk, following = following, (await asyncio.to_thread(source.read, MEDIA_CHUNK) if following else b"")
            blob_id = digest.hexdigest()
            async with self._transaction() as db:
                async with db.execute("SELECT 1 FROM blobs WHERE blob_id = ?", (blob_id,)) as cursor:
                    stored_before = await cursor.fetchone() is not None
                if stored_before:
                    await db.execute("DELETE FROM blob_chunks WHERE blob_id = ?", (partial,))
                else:
                    await db.execute("UPDATE blob_chunks SET blob_id = ? WHERE blob_id = ?", (blob_id, partial))
                    await db.execute(
                        "INSERT INTO blobs (blob_id, data, size, created_at) VALUES (?, x'', ?, ?)",
                        (blob_id, size, now),
                    )
        except Exception:
            # Best effort: what is left is purged with the orphans.
            with suppress(Exception):
                await self._execute("DELETE FROM blob_chunks WHERE blob_id = ?", (partial,))
            raise
        return blob_id

    async def media_chunks(self, blob_id: str) -> AsyncIterator[bytes]:
        row = await self._read_one("SELECT length(data) AS stored, size FROM blobs WHERE blob_id = ?", (blob_id,))
        if row is None:
            return
        if row["stored"] or not row["size"]:
            whole = await self._read_one("SELECT data FROM blobs WHERE blob_id = ?", (blob_id,))
            if whole is not None:
                yield bytes(whole["data"])
            return
        seq = 0
        while True:
            part = await self._read_one("SELECT data FROM blob_chunks WHERE blob_id = ? AND seq = ?", (blob_id, seq))
            if part is None:
                return
            yield bytes(part["data"])
            seq += 1

    # -- posters ---------------------------------------------------------------------------
    async def save_poster(self, poster: Poster) -> Poster:
        await self._execute(
            "INSERT INTO posters (poster_id, user_id, name, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (poster_id) DO UPDATE SET name = excluded.name, doc = excluded.doc "
            "WHERE posters.user_id = excluded.user_id",
            (
                poster.poster_id,
                poster.user_id,
                poster.name,
                json.dumps(poster_to_doc(poster, ISO_TIMES)),
            ),
        )
        return poster

    async def list_posters(self, user_id: int) -> list[Poster]:
        rows = await self._read_all(
            "SELECT poster_id, doc FROM posters WHERE user_id = ? ORDER BY name, poster_id",
            (user_id,),
        )
        return [poster_from_doc(row["poster_id"], json.loads(row["doc"]), ISO_TIMES) for row in rows]

    async def get_poster(self, user_id: int, poster_id: str) -> Poster | None:
        row = await self._read_one(
            "SELECT poster_id, doc FROM posters WHERE user_id = ? AND poster_id = ?",
            (user_id, poster_id),
        )
        return poster_from_doc(row["poster_id"], json.loads(row["doc"]), ISO_TIMES) if row else None

    async def delete_poster(self, user_id: int, poster_id: str) -> bool:
        changed = await self._execute("DELETE FROM posters WHERE user_id = ? AND poster_id = ?", (user_id, poster_id))
        return changed == 1

    # -- posts -----------------------------------------------------------------------------
    async def create_post(self, post: Post) -> Post:
        await self._execute(f"INSERT INTO posts {POST_INSERT}", _post_row(post))
        return post

    async def get_post(self, user_id: int, post_id: str) -> Post | None:
        row = await self._read_one(f"{POST_SELECT} WHERE post_id = ? AND user_id = ?", (post_id, user_id))
        return _row_to_post(row) if row else None

    async def load_post(self, post_id: str) -> Post | None:
        row = await self._read_one(f"{POST_SELECT} WHERE post_id = ?", (post_id,))
        return _row_to_post(row) if row else None

    async def list_posts(self, user_id: int, view: PostView, page: int = 0, per_page: int = 5) -> PostPage:
        statuses = UPCOMING if view is PostView.UPCOMING else HISTORY
        order = "ASC" if view is PostView.UPCOMING else "DESC"
        # Upcoming posts lie after a long finished history in (user_id, scheduled_time) order;
        # the status index reaches them directly. History reads backwards from the latest.
        index = "INDEXED BY posts_user_status" if view is PostView.UPCOMING else "INDEXED BY posts_user"
        rows = await self._read_all(
            f"{POST_SELECT} {index} WHERE user_id = ? AND status IN ({_placeholders(statuses)}) "
            f"ORDER BY scheduled_time {order}, post_id {order} LIMIT ? OFFSET ?",
            (user_id, *statuses, per_page + 1, max(page, 0) * per_page),
        )
        posts = [_row_to_post(row) for row in rows[:per_page]]
        return PostPage(posts=posts, page=max(page, 0), has_next=len(rows) > per_page)

    async def cancel_post(self, user_id: int, post_id: str) -> Post | None:
        row = await self._fetchone(
            f"UPDATE posts SET status = ? WHERE post_id = ? AND user_id = ? AND status = ? {self._RETURNING}",
            (PostStatus.CANCELLED.value, post_id, user_id, PostStatus.SCHEDULED.value),
        )
        return _row_to_post(row) if row else None

    async def reschedule_post(self, user_id: int, post_id: str, scheduled_time: datetime) -> Post | None:
        row = await self._fetchone(
            f"UPDATE posts SET scheduled_time = ? WHERE post_id = ? AND user_id = ? AND status = ? {self._RETURNING}",
            (iso_text(scheduled_time), post_id, user_id, PostStatus.SCHEDULED.value),
        )
        return _row_to_post(row) if row else None

    async def update_caption(
        self, user_id: int, post_id: str, caption: str, entities: Sequence[Entity] = ()
    ) -> Post | None:
        row = await self._fetchone(
            f"UPDATE posts SET doc = json_set(doc, '$.main_caption', ?, '$.caption_entities', json(?)) "
            f"WHERE post_id = ? AND user_id = ? AND status = ? {self._RETURNING}",
            (caption, json.dumps(list(entities)), post_id, user_id, PostStatus.SCHEDULED.value),
        )
        return _row_to_post(row) if row else None

    async def confirm_delivery(self, user_id: int, post_id: str, target_id: str, now: datetime) -> Post | None:
        async with self._transaction() as db:
            async with db.execute(
                f"{POST_SELECT} WHERE post_id = ? AND user_id = ? AND status = 'publishing'", (post_id, user_id)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            post = confirmed_by_hand(_row_to_post(row), target_id, now)
            if post is None:
                return None
            finished = post.status.is_final
            await db.execute(
                "UPDATE posts SET status = ?, doc = ?, worker_id = CASE WHEN ? THEN NULL ELSE worker_id END, "
                "lease_until = CASE WHEN ? THEN NULL ELSE lease_until END, "
                "report_due_at = CASE WHEN ? THEN ? ELSE report_due_at END, "
                "report_holder = CASE WHEN ? THEN NULL ELSE report_holder END WHERE post_id = ?",
                (
                    post.status.value,
                    json.dumps(_post_doc_without_columns(post)),
                    finished,
                    finished,
                    finished,
                    iso_text(now),
                    finished,
                    post_id,
                ),
            )
            return post

    async def scheduled_posts(
        self, until: datetime, limit: int = 1000, after: datetime | None = None
    ) -> list[tuple[str, datetime]]:
        since = iso_text(after) if after is not None else ""
        rows = await self._read_all(
            "SELECT * FROM (SELECT post_id, scheduled_time AS due FROM posts WHERE status = 'scheduled' "
            "AND scheduled_time > ? AND scheduled_time <= ? ORDER BY scheduled_time LIMIT ?) UNION ALL "
            "SELECT * FROM (SELECT post_id, lease_until AS due FROM posts WHERE status = 'publishing' "
            "AND lease_until > ? AND lease_until <= ? AND worker_id IS NULL ORDER BY lease_until LIMIT ?) "
            "ORDER BY due LIMIT ?",
            (since, iso_text(until), limit, since, iso_text(until), limit, limit),
        )
        return [(row["post_id"], ISO_TIMES.decode(row["due"])) for row in rows]

    # -- publication -----------------------------------------------------------------------
    _RETURNING = "RETURNING " + POST_SELECT.removeprefix("SELECT ").removesuffix(" FROM posts")
    _CLAIM = (
        "UPDATE posts SET status = 'publishing', worker_id = ?, lease_until = ?, claimed_at = ?, "
        "attempts = attempts + 1 WHERE "
    )
    _CLAIMABLE = "((status = 'scheduled' AND scheduled_time <= ?) OR (status = 'publishing' AND lease_until < ?))"

    async def claim_due_posts(
        self, worker_id: str, now: datetime, lease: timedelta, limit: int = 50, exclude: Collection[str] = ()
    ) -> list[Post]:
        now_text = iso_text(now)
        skip = f"AND post_id NOT IN ({_placeholders(exclude)}) " if exclude else ""
        # One statement: SQLite runs it under its write lock, so no two workers see the same row.
        # Each branch reads its index in order and stops at `limit` (posts_due, posts_lease), so
        # only 2 × limit rows are merged and sorted, however many posts are due.
        rows = await self._fetchall(
            f"{self._CLAIM} post_id IN (SELECT post_id FROM ("
            f"SELECT * FROM (SELECT post_id, scheduled_time FROM posts WHERE status = 'scheduled' "
            f"AND scheduled_time <= ? {skip}ORDER BY scheduled_time LIMIT ?) UNION ALL "
            f"SELECT * FROM (SELECT post_id, scheduled_time FROM posts WHERE status = 'publishing' "
            f"AND lease_until < ? {skip}ORDER BY lease_until LIMIT ?)) ORDER BY scheduled_time LIMIT ?) "
            f"{self._RETURNING}",
            (
                worker_id,
                iso_text(now + lease),
                now_text,
                now_text,
                *exclude,
                limit,
                now_text,
                *exclude,
                limit,
                limit,
            ),
        )
        posts = [_row_to_post(row) for row in rows]
        posts.sort(key=lambda post: post.scheduled_time)
        return posts

    async def count_due_posts(self, now: datetime) -> int:
        now_text = iso_text(now)
        row = await self._read_one(
            "SELECT (SELECT COUNT(*) FROM posts WHERE status = 'scheduled' AND scheduled_time <= ?) + "
            "(SELECT COUNT(*) FROM posts WHERE status = 'publishing' AND lease_until < ?) AS due",
            (now_text, now_text),
        )
        return int(row["due"]) if row else 0

    async def ping(self, timeout: float) -> None:
        # A connection of its own, so that the probe waits behind no write of this store: it
        # fails when the file is gone or unreadable, or when another program has held the write
        # lock for `timeout` seconds (Herald could write nothing either).
        def probe() -> None:
            connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=rw", uri=True, timeout=timeout)
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
            finally:
                connection.close()

        await asyncio.wait_for(asyncio.to_thread(probe), timeout + 1)

    async def claim_post(self, post_id: str, worker_id: str, now: datetime, lease: timedelta) -> Post | None:
        now_text = iso_text(now)
        row = await self._fetchone(
            f"{self._CLAIM} post_id = ? AND {self._CLAIMABLE} {self._RETURNING}",
            (worker_id, iso_text(now + lease), now_text, post_id, now_text, now_text),
        )
        return _row_to_post(row) if row else None

    async def renew_lease(self, post_id: str, worker_id: str, now: datetime, lease: timedelta) -> bool:
        changed = await self._group_write(
            "UPDATE posts SET lease_until = ? WHERE post_id = ? AND worker_id = ? AND status = 'publishing'",
            (iso_text(now + lease), post_id, worker_id),
        )
        return changed == 1

    async def record_delivery(self, post_id: str, worker_id: str, delivery: Delivery) -> bool:
        changed = await self._group_write(
            "UPDATE posts SET doc = json_set(doc, '$.deliveries.\"' || ? || '\"', json(?)) "
            "WHERE post_id = ? AND worker_id = ? AND status = 'publishing'",
            (
                delivery.target_id,
                json.dumps(delivery_to_doc(delivery, ISO_TIMES)),
                post_id,
                worker_id,
            ),
        )
        return changed == 1

    async def finish_post(self, post: Post, worker_id: str, now: datetime) -> Post | None:
        finished = finished_post(post, worker_id, now)
        if finished is None:
            return None
        status, done = finished
        # One UPDATE fenced by the claim: a worker that lost the post changes nothing. The report
        # is due at once (a delay notice being sent meanwhile no longer holds it).
        changed = await self._group_write(
            "UPDATE posts SET status = ?, worker_id = NULL, lease_until = NULL, claimed_at = NULL, "
            "report_due_at = ?, report_holder = NULL, "
            "doc = json_set(doc, '$.deliveries', json(?), '$.result', json(?), '$.published_at', ?) "
            "WHERE post_id = ? AND worker_id = ? AND status = 'publishing'",
            (
                status.value,
                iso_text(now),
                _deliveries_json(post),
                json.dumps(done.result),
                iso_text(now),
                post.post_id,
                worker_id,
            ),
        )
        return done if changed == 1 else None

    async def release_post(
        self, post: Post, worker_id: str, until: datetime, report_due_at: datetime | None = None
    ) -> bool:
        changed = await self._group_write(
            "UPDATE posts SET worker_id = NULL, lease_until = ?, claimed_at = NULL, "
            "report_due_at = COALESCE(report_due_at, ?), "
            "doc = json_set(doc, '$.deliveries', json(?)) "
            "WHERE post_id = ? AND worker_id = ? AND status = 'publishing'",
            (
                iso_text(until),
                iso_text(report_due_at) if report_due_at else None,
                _deliveries_json(post),
                post.post_id,
                worker_id,
            ),
        )
        return changed == 1

    async def expire_claims(self, worker_id: str, now: datetime) -> int:
        prefix = f"{worker_id}/"
        async with self._transaction() as db:
            async with db.execute(
                "UPDATE posts SET lease_until = ? WHERE status = 'publishing' AND worker_id IS NOT NULL "
                "AND substr(worker_id, 1, ?) = ?",
                (iso_text(now - timedelta(milliseconds=1)), len(prefix), prefix),
            ) as cursor:
                expired = cursor.rowcount
            async with db.execute(
                "UPDATE posts SET report_due_at = ?, report_holder = NULL WHERE report_due_at IS NOT NULL "
                "AND report_holder IS NOT NULL AND substr(report_holder, 1, ?) = ?",
                (iso_text(now), len(prefix), prefix),
            ) as cursor:
                expired += cursor.rowcount
            async with db.execute(
                "UPDATE follow_ups SET lease_until = ? WHERE status = 'pending' AND holder IS NOT NULL "
                "AND substr(holder, 1, ?) = ?",
                (iso_text(now - timedelta(milliseconds=1)), len(prefix), prefix),
            ) as cursor:
                expired += cursor.rowcount
            async with db.execute(
                "UPDATE follow_ups SET report_due_at = ?, report_holder = NULL WHERE report_due_at IS NOT NULL "
                "AND report_holder IS NOT NULL AND substr(report_holder, 1, ?) = ?",
                (iso_text(now), len(prefix), prefix),
            ) as cursor:
                return expired + cursor.rowcount

    async def retry_failed(self, user_id: int, post_id: str, now: datetime) -> Post | None:
        async with self._transaction() as db:
            async with db.execute(
                f"{POST_SELECT} WHERE post_id = ? AND user_id = ? AND status IN (?, ?)",
                (post_id, user_id, PostStatus.FAILED.value, PostStatus.PARTIAL.value),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            post = retried_post(_row_to_post(row), now)
            await db.execute(
                "UPDATE posts SET status = ?, scheduled_time = ?, notified_at = NULL, report_due_at = NULL, "
                "report_holder = NULL, doc = ? WHERE post_id = ?",
                (post.status.value, iso_text(now), json.dumps(_post_doc_without_columns(post)), post_id),
            )
            return post

    async def begin_revision(self, user_id: int, post_id: str, seen: int) -> Post | None:
        row = await self._fetchone(
            "UPDATE posts SET doc = json_set(doc, '$.revision', ?) WHERE post_id = ? AND user_id = ? "
            "AND status IN (?, ?) AND COALESCE(json_extract(doc, '$.revision'), 0) = ? " + self._RETURNING,
            (seen + 1, post_id, user_id, *(status.value for status in REVISABLE_STATUSES), seen),
        )
        return _row_to_post(row) if row else None

    async def save_revision(self, user_id: int, post_id: str, revision: int, revised: Revised) -> Post | None:
        async with self._transaction() as db:
            async with db.execute(f"{POST_SELECT} WHERE post_id = ? AND user_id = ?", (post_id, user_id)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            post = _row_to_post(row)
            if post.revision != revision:
                return None
            post = revised_post(post, revised)
            await db.execute(
                "UPDATE posts SET doc = ? WHERE post_id = ?", (json.dumps(_post_doc_without_columns(post)), post_id)
            )
            return post

    async def claim_reports(self, holder: str, now: datetime, lease: timedelta, limit: int = 100) -> list[Post]:
        rows = await self._fetchall(
            f"UPDATE posts SET report_holder = ?, report_due_at = ? WHERE post_id IN (SELECT post_id FROM posts "
            f"WHERE report_due_at <= ? ORDER BY report_due_at LIMIT ?) AND report_due_at <= ? {self._RETURNING}",
            (holder, iso_text(now + lease), iso_text(now), limit, iso_text(now)),
        )
        return [_row_to_post(row) for row in rows]

    async def mark_reported(self, post_ids: Collection[str], holder: str, now: datetime) -> int:
        if not post_ids:
            return 0
        return await self._execute(
            f"UPDATE posts SET notified_at = CASE WHEN status = 'publishing' THEN notified_at ELSE ? END, "
            f"doc = CASE WHEN status = 'publishing' THEN json_set(doc, '$.delay_noticed_at', ?) ELSE doc END, "
            f"report_due_at = NULL, report_holder = NULL "
            f"WHERE post_id IN ({_placeholders(post_ids)}) AND report_holder = ?",
            (iso_text(now), iso_text(now), *post_ids, holder),
        )

    async def postpone_reports(self, post_ids: Collection[str], holder: str, until: datetime) -> int:
        if not post_ids:
            return 0
        return await self._execute(
            f"UPDATE posts SET report_due_at = ?, report_holder = NULL "
            f"WHERE post_id IN ({_placeholders(post_ids)}) AND report_holder = ?",
            (iso_text(until), *post_ids, holder),
        )

    # -- follow-up actions -----------------------------------------------------------------
    _FOLLOW_UP_RETURNING = "RETURNING " + ", ".join(FOLLOW_UP_FIELDS)

    async def add_follow_ups(self, actions: Sequence[FollowUp]) -> int:
        added = 0
        async with self._transaction() as db:
            for action in actions:
                doc = follow_up_to_doc(action, ISO_TIMES)
                doc["message_ids"] = json.dumps(doc["message_ids"])
                async with db.execute(
                    f"INSERT INTO follow_ups ({', '.join(FOLLOW_UP_FIELDS)}) "
                    f"VALUES ({_placeholders(FOLLOW_UP_FIELDS)}) ON CONFLICT (action_id) DO NOTHING",
                    tuple(doc[name] for name in FOLLOW_UP_FIELDS),
                ) as cursor:
                    added += cursor.rowcount
        return added

    async def follow_ups_of(self, post_id: str) -> list[FollowUp]:
        rows = await self._read_all(
            f"SELECT {', '.join(FOLLOW_UP_FIELDS)} FROM follow_ups WHERE post_id = ? ORDER BY due_at, action_id",
            (post_id,),
        )
        return [_row_to_follow_up(row) for row in rows]

    async def claim_follow_ups(self, holder: str, now: datetime, lease: timedelta, limit: int = 50) -> list[FollowUp]:
        now_text = iso_text(now)
        # One statement under SQLite's write lock: no two workers take the same action.
        rows = await self._fetchall(
            f"UPDATE follow_ups SET holder = ?, lease_until = ?, claimed_at = ?, attempts = attempts + 1 "
            f"WHERE action_id IN (SELECT action_id FROM follow_ups WHERE status = 'pending' AND due_at <= ? "
            f"AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at LIMIT ?) "
            f"AND status = 'pending' AND (lease_until IS NULL OR lease_until < ?) {self._FOLLOW_UP_RETURNING}",
            (holder, iso_text(now + lease), now_text, now_text, now_text, limit, now_text),
        )
        actions = [_row_to_follow_up(row) for row in rows]
        actions.sort(key=lambda action: action.due_at)
        return actions

    async def settle_follow_up(self, action: FollowUp, holder: str) -> bool:
        changed = await self._execute(
            "UPDATE follow_ups SET status = ?, holder = NULL, lease_until = NULL, claimed_at = NULL, done_at = ?, "
            "error_message = ?, report_due_at = ?, report_holder = NULL "
            "WHERE action_id = ? AND holder = ? AND status = 'pending'",
            (
                action.status.value,
                iso_text(action.done_at) if action.done_at else None,
                action.error_message,
                iso_text(action.report_due_at) if action.report_due_at else None,
                action.action_id,
                holder,
            ),
        )
        return changed == 1

    async def release_follow_up(self, action_id: str, holder: str, until: datetime, error: str | None) -> bool:
        changed = await self._execute(
            "UPDATE follow_ups SET holder = NULL, lease_until = ?, claimed_at = NULL, "
            "error_message = ? WHERE action_id = ? AND holder = ? AND status = 'pending'",
            (iso_text(until), error, action_id, holder),
        )
        return changed == 1

    async def claim_follow_up_reports(
        self, holder: str, now: datetime, lease: timedelta, limit: int = 100
    ) -> list[FollowUp]:
        rows = await self._fetchall(
            f"UPDATE follow_ups SET report_holder = ?, report_due_at = ? WHERE action_id IN (SELECT action_id "
            f"FROM follow_ups WHERE report_due_at <= ? ORDER BY report_due_at LIMIT ?) AND report_due_at <= ? "
            f"{self._FOLLOW_UP_RETURNING}",
            (holder, iso_text(now + lease), iso_text(now), limit, iso_text(now)),
        )
        return [_row_to_follow_up(row) for row in rows]

    async def mark_follow_ups_reported(self, action_ids: Collection[str], holder: str, now: datetime) -> int:
        if not action_ids:
            return 0
        return await self._execute(
            f"UPDATE follow_ups SET notified_at = ?, report_due_at = NULL, report_holder = NULL "
            f"WHERE action_id IN ({_placeholders(action_ids)}) AND report_holder = ?",
            (iso_text(now), *action_ids, holder),
        )

    async def postpone_follow_up_reports(self, action_ids: Collection[str], holder: str, until: datetime) -> int:
        if not action_ids:
            return 0
        return await self._execute(
            f"UPDATE follow_ups SET report_due_at = ?, report_holder = NULL "
            f"WHERE action_id IN ({_placeholders(action_ids)}) AND report_holder = ?",
            (iso_text(until), *action_ids, holder),
        )

    # -- the user's delivery defaults -------------------------------------------------------
    async def delivery_defaults(self, user_id: int) -> DeliveryOptions:
        row = await self._read_one("SELECT doc FROM delivery_defaults WHERE user_id = ?", (user_id,))
        return options_from_doc(json.loads(row["doc"])) if row else DeliveryOptions()

    async def set_delivery_defaults(self, user_id: int, options: DeliveryOptions) -> None:
        await self._execute(
            "INSERT INTO delivery_defaults (user_id, doc) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc",
            (user_id, json.dumps(options_to_doc(options))),
        )

    # -- persistence -----------------------------------------------------------------------
    async def load_state(self, namespace: str) -> dict[str, Any]:
        rows = await self._read_all("SELECT key, value FROM state WHERE namespace = ?", (namespace,))
        return {row["key"]: json.loads(row["value"]) for row in rows}

    async def save_state(self, namespace: str, key: str, value: Any) -> None:
        if value is None:
            await self._execute("DELETE FROM state WHERE namespace = ? AND key = ?", (namespace, key))
            return
        await self._execute(
            "INSERT INTO state (namespace, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
            (namespace, key, json.dumps(value)),
        )

    # -- recurring series ------------------------------------------------------------------
    @staticmethod
    def _series_row(series: Series) -> tuple[Any, ...]:
        """(user_id, status, next_time, pending, holder, lease_until, version, doc) of a series."""
        return (
            series.user_id,
            series.status.value,
            iso_text(series.next_time) if series.next_time else None,
            int(series.pending is not None),
            series.claim.holder if series.claim else None,
            iso_text(series.claim.lease_until) if series.claim else None,
            series.version,
            json.dumps(series_to_doc(series, ISO_TIMES)),
        )

    @staticmethod
    def _row_to_series(row: aiosqlite.Row) -> Series:
        doc = json.loads(row["doc"])
        # Settling a pending occurrence and ending a dead worker's claim change the columns and
        # the document together; the version lives in its column alone.
        doc["version"] = row["version"]
        return series_from_doc(doc, ISO_TIMES)

    async def create_series(self, series: Series) -> Series:
        await self._execute(
            "INSERT INTO series (series_id, user_id, status, next_time, pending, holder, lease_until, version, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (series.series_id, *self._series_row(series)),
        )
        return series

    async def get_series(self, user_id: int, series_id: str) -> Series | None:
        row = await self._read_one("SELECT * FROM series WHERE series_id = ? AND user_id = ?", (series_id, user_id))
        return self._row_to_series(row) if row else None

    async def load_series(self, series_id: str) -> Series | None:
        row = await self._read_one("SELECT * FROM series WHERE series_id = ?", (series_id,))
        return self._row_to_series(row) if row else None

    async def list_series(self, user_id: int) -> list[Series]:
        rows = await self._read_all(
            "SELECT * FROM series WHERE user_id = ? AND status IN ('active', 'paused') "
            "ORDER BY status, next_time, series_id",
            (user_id,),
        )
        return [self._row_to_series(row) for row in rows]

    async def save_series(self, series: Series) -> bool:
        changed = await self._group_write(
            "UPDATE series SET user_id = ?, status = ?, next_time = ?, pending = ?, holder = ?, lease_until = ?, "
            "version = ?, doc = ? WHERE series_id = ? AND version = ?",
            (*self._series_row(series), series.series_id, series.version - 1),
        )
        return changed == 1

    async def due_series(self, now: datetime, limit: int = 500) -> list[Series]:
        rows = await self._read_all(
            "SELECT * FROM series WHERE status = 'active' AND pending = 0 AND next_time <= ? "
            "ORDER BY next_time LIMIT ?",
            (iso_text(now), limit),
        )
        return [self._row_to_series(row) for row in rows]

    async def abandoned_series(self, now: datetime, limit: int = 500) -> list[Series]:
        rows = await self._read_all(
            "SELECT * FROM series WHERE pending = 1 AND lease_until < ? ORDER BY lease_until LIMIT ?",
            (iso_text(now), limit),
        )
        return [self._row_to_series(row) for row in rows]

    async def upcoming_series(self, until: datetime, after: datetime, limit: int = 1000) -> list[tuple[str, datetime]]:
        rows = await self._read_all(
            "SELECT series_id, next_time FROM series WHERE status = 'active' AND pending = 0 "
            "AND next_time > ? AND next_time <= ? ORDER BY next_time LIMIT ?",
            (iso_text(after), iso_text(until), limit),
        )
        return [(row["series_id"], ISO_TIMES.decode(row["next_time"])) for row in rows]

    async def settle_series(self, series_id: str, holder: str) -> bool:
        changed = await self._group_write(
            "UPDATE series SET pending = 0, holder = NULL, lease_until = NULL, version = version + 1, "
            "doc = json_set(doc, '$.pending', json('null'), '$.claim', json('null')) "
            "WHERE series_id = ? AND pending = 1 AND holder = ?",
            (series_id, holder),
        )
        return changed == 1

    async def expire_series_claims(self, worker_id: str, now: datetime) -> int:
        prefix = f"{worker_id}/"
        ended = iso_text(now - timedelta(milliseconds=1))
        return await self._execute(
            "UPDATE series SET lease_until = ?, doc = json_set(doc, '$.claim.lease_until', ?) "
            "WHERE pending = 1 AND holder IS NOT NULL AND substr(holder, 1, ?) = ?",
            (ended, ended, len(prefix), prefix),
        )

    async def add_post_if_absent(self, post: Post) -> bool:
        return await self._group_write(f"INSERT OR IGNORE INTO posts {POST_INSERT}", _post_row(post)) == 1

    # -- the posting schedule and its queue --------------------------------------------------
    async def queue_slots(self, user_id: int) -> list[Slot]:
        row = await self._read_one("SELECT slots FROM queue_slots WHERE user_id = ?", (user_id,))
        return sorted(slot_from_doc(doc) for doc in json.loads(row["slots"])) if row else []

    async def set_queue_slots(self, user_id: int, slots: Sequence[Slot]) -> None:
        await self._execute(
            "INSERT INTO queue_slots (user_id, slots) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET slots = excluded.slots",
            (user_id, json.dumps([slot_to_doc(slot) for slot in sorted(set(slots))])),
        )

    async def queued_posts(self, user_id: int, limit: int = 500) -> list[Post]:
        rows = await self._read_all(
            f"{POST_SELECT} INDEXED BY posts_user_status WHERE user_id = ? AND status = ? "
            "AND json_extract(doc, '$.queued') = 1 ORDER BY scheduled_time, post_id LIMIT ?",
            (user_id, PostStatus.SCHEDULED.value, limit),
        )
        return [_row_to_post(row) for row in rows]

    async def leave_queue(self, user_id: int, post_id: str) -> bool:
        changed = await self._execute(
            "UPDATE posts SET doc = json_set(doc, '$.queued', json('false')) WHERE post_id = ? AND user_id = ?",
            (post_id, user_id),
        )
        return changed == 1
