"""The two designs Herald's scheduler is measured against, on the same databases.

1. `SeedScheduler` — the seed's design (seeds/000_…txt): a thread wakes every `interval` seconds,
   reads *all* due posts (`get_due_posts`), publishes them one after another, and writes each
   post's status (`update_post_status`). Its own `scheduled_posts` table (SQLite, same pragmas as
   Herald's store: WAL, synchronous=NORMAL) or collection (MongoDB, sync pymongo as the seed).
2. `ApsBaseline` — one APScheduler 3 date job per post in a persistent job store
   (SQLAlchemyJobStore on the SQLite file, MongoDBJobStore with the sync client on MongoDB), a
   BackgroundScheduler with its default thread pool (10); each job reads its post from the same
   `scheduled_posts`, publishes it and writes its status.

Both publish through a `Recorder`, which only notes when it was called."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, MongoClient

from bench.common import Database

SEED_DATABASE = "bench_seed"  # MongoDB: a database of its own, next to Herald's
SEED_TABLE = "scheduled_posts"


@dataclass
class Recorder:
    """A publisher that only records when it was first called for each post (wall clock)."""

    called: dict[str, float] = field(default_factory=dict)
    calls: int = 0
    finished: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    all_done: threading.Event = field(default_factory=threading.Event)
    expected: int = 0
    latency: float = 0.0  # seconds each call takes, as a request to a platform would

    def publish(self, post_id: str, group: str) -> dict[str, Any]:
        now = time.time()
        with self.lock:
            self.calls += 1
            self.called.setdefault(post_id, now)
        if self.latency:
            time.sleep(self.latency)
        return {"group": group, "success": True, "post_id": "1"}

    def finish(self) -> None:
        with self.lock:
            self.finished += 1
            if self.expected and self.finished >= self.expected:
                self.all_done.set()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def seed_document(post_id: str, when: datetime, number: int) -> dict[str, Any]:
    """A post with the seed's schema (no images, one group), as `save_scheduled_post` stores it."""
    return {
        "post_id": post_id,
        "user_id": "700001",
        "group_ids": ["-1009000000001"],
        "main_caption": f"Bench post {number}",
        "cookies": "",
        "scheduled_time": when,
        "poster_name": None,
        "account_name": "Bench account",
        "groups": ["Bench channel"],
        "images": [],
        "status": "scheduled",
        "result": None,
        "created_at": datetime.now(UTC),
        "published_at": None,
    }


def seed_documents(ids: list[str], times: list[datetime]) -> list[dict[str, Any]]:
    return [seed_document(post_id, when, n) for n, (post_id, when) in enumerate(zip(ids, times, strict=True))]


# -- the seed's data access, on each database --------------------------------------------------
class SeedTable:
    """`save_scheduled_post`, `get_due_posts`, `get_post`, `update_post_status` of the seed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._local = threading.local()
        self._client: MongoClient[dict[str, Any]] | None = None

    # connections: one sqlite3 connection per thread; one thread-safe MongoClient
    def _sqlite(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.db.sqlite_path("seed"), isolation_level=None, timeout=60)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA busy_timeout = 60000")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            self._local.connection = connection
        return connection

    def _collection(self) -> Any:
        if self._client is None:
            self._client = MongoClient(self.db.mongo_url, tz_aware=True, tzinfo=UTC)
        return self._client[SEED_DATABASE][SEED_TABLE]

    def create(self) -> None:
        if self.db.kind == "sqlite":
            self._sqlite().executescript(
                f"""CREATE TABLE IF NOT EXISTS {SEED_TABLE} (
                    post_id TEXT PRIMARY KEY, user_id TEXT, group_ids TEXT, main_caption TEXT,
                    cookies TEXT, scheduled_time TEXT, poster_name TEXT, account_name TEXT,
                    groups TEXT, images TEXT, status TEXT, result TEXT, created_at TEXT,
                    published_at TEXT);
                CREATE INDEX IF NOT EXISTS seed_due ON {SEED_TABLE} (status, scheduled_time);"""
            )
        else:
            self._collection().create_index([("status", ASCENDING), ("scheduled_time", ASCENDING)])
            self._collection().create_index([("post_id", ASCENDING)])

    def insert_many(self, documents: Iterable[dict[str, Any]]) -> None:
        """Setup only: stores posts in bulk (the seed's `save_scheduled_post`, batched)."""
        docs = list(documents)
        if self.db.kind == "mongo":
            for start in range(0, len(docs), 1000):
                self._collection().insert_many(docs[start : start + 1000], ordered=False)
            return
        rows = [
            (
                d["post_id"], d["user_id"], json.dumps(d["group_ids"]), d["main_caption"], d["cookies"],
                iso(d["scheduled_time"]), d["poster_name"], d["account_name"], json.dumps(d["groups"]),
                json.dumps(d["images"]), d["status"], None, iso(d["created_at"]), None,
            )
            for d in docs
        ]  # fmt: skip
        connection = self._sqlite()
        connection.execute("BEGIN")
        connection.executemany(f"INSERT INTO {SEED_TABLE} VALUES ({','.join('?' * 14)})", rows)
        connection.execute("COMMIT")

    def _from_row(self, row: sqlite3.Row) -> dict[str, Any]:
        doc = dict(row)
        for key in ("group_ids", "groups", "images"):
            doc[key] = json.loads(doc[key])
        return doc

    def get_due_posts(self, now: datetime) -> list[dict[str, Any]]:
        if self.db.kind == "mongo":
            return list(self._collection().find({"status": "scheduled", "scheduled_time": {"$lte": now}}))
        rows = self._sqlite().execute(
            f"SELECT * FROM {SEED_TABLE} WHERE status = 'scheduled' AND scheduled_time <= ?", (iso(now),)
        )
        return [self._from_row(row) for row in rows]

    def get_post(self, post_id: str) -> dict[str, Any] | None:
        if self.db.kind == "mongo":
            found: dict[str, Any] | None = self._collection().find_one({"post_id": post_id})
            return found
        row = self._sqlite().execute(f"SELECT * FROM {SEED_TABLE} WHERE post_id = ?", (post_id,)).fetchone()
        return self._from_row(row) if row else None

    def update_post_status(self, post_id: str, status: str, result: dict[str, Any] | None = None) -> None:
        now = datetime.now(UTC)
        if self.db.kind == "mongo":
            update: dict[str, Any] = {"status": status}
            if result:
                update.update(result=result, published_at=now)
            self._collection().update_one({"post_id": post_id}, {"$set": update})
            return
        self._sqlite().execute(
            f"UPDATE {SEED_TABLE} SET status = ?, result = ?, published_at = ? WHERE post_id = ?",
            (status, json.dumps(result) if result else None, iso(now) if result else None, post_id),
        )

    def count(self, status: str) -> int:
        if self.db.kind == "mongo":
            return int(self._collection().count_documents({"status": status}))
        row = self._sqlite().execute(f"SELECT COUNT(*) FROM {SEED_TABLE} WHERE status = ?", (status,)).fetchone()
        return int(row[0])

    def close(self) -> None:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
        if self._client is not None:
            self._client.close()
            self._client = None


def publish_seed_post(table: SeedTable, post: dict[str, Any], recorder: Recorder) -> None:
    """The seed's publication of one post: every group in turn, then one status update."""
    results = [recorder.publish(post["post_id"], group) for group in post["group_ids"]]
    sent = sum(1 for r in results if r["success"])
    status = "published" if sent == len(results) else "failed" if sent == 0 else "partial"
    table.update_post_status(post["post_id"], status, {"results": results})
    recorder.finish()


# -- 1. the seed's loop --------------------------------------------------------------------------
class SeedScheduler:
    """A thread: every `interval` seconds, read all due posts and publish them one after another."""

    def __init__(self, db: Database, recorder: Recorder, interval: float = 30.0) -> None:
        self.table = SeedTable(db)
        self.recorder = recorder
        self.interval = interval
        self.ticks = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        due = self.table.get_due_posts(datetime.now(UTC))
        for post in due:
            publish_seed_post(self.table, post, self.recorder)
        self.ticks += 1
        return len(due)

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                self.run_once()
                self._stop.wait(max(self.interval - (time.monotonic() - started), 0))
        finally:
            self.table.close()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="seed-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)


# -- 2. APScheduler, one date job per post -------------------------------------------------------
# The job function is found by reference ("bench.baselines:aps_publish") from the persistent
# job store, so what it needs lives at module level.
_APS: dict[str, Any] = {}


def aps_publish(post_id: str) -> None:
    table: SeedTable = _APS["table"]
    recorder: Recorder = _APS["recorder"]
    post = table.get_post(post_id)
    if post is None or post["status"] != "scheduled":
        return
    publish_seed_post(table, post, recorder)


def job_id(number: int) -> str:
    """Job (and post) ids of the APScheduler baseline: 24 hex digits, see `stand_in_mongodb_jobstore`."""
    return f"{number:024x}"


def stand_in_mongodb_jobstore(client: MongoClient[dict[str, Any]]) -> Any:
    """APScheduler's MongoDBJobStore, adapted to a gap of the CongoDB stand-in.

    MongoDBJobStore keeps each job under `_id = job.id`, a string. CongoDB accepts only ObjectIds
    as `_id`: `insert_one({"_id": "a000001", …})` fails with a write error that pymongo raises as
    DuplicateKeyError (code 11000, "input must be a 24 character hex string, 12 byte Uint8Array, or
    an integer") — so every `add_job` raised ConflictingIdError — and a 24-hex-digit string is
    silently stored as an ObjectId, after which `find_one("<hex>")`, `update_one({"_id": "<hex>"})`
    and `delete_one({"_id": "<hex>"})` match nothing (JobLookupError on remove after a run).
    Here job ids are 24 hex digits and every lookup by id asks for the ObjectId. Against a real
    MongoDB the stock MongoDBJobStore works as is."""
    import pickle

    from apscheduler.jobstores.base import JobLookupError
    from apscheduler.jobstores.mongodb import MongoDBJobStore
    from apscheduler.util import datetime_to_utc_timestamp
    from bson import Binary, ObjectId

    class StandInMongoDBJobStore(MongoDBJobStore):  # type: ignore[misc]
        def lookup_job(self, job_id: str) -> Any:
            document = self.collection.find_one({"_id": ObjectId(job_id)}, ["job_state"])
            return self._reconstitute_job(document["job_state"]) if document else None

        def add_job(self, job: Any) -> None:
            self.collection.insert_one(
                {
                    "_id": ObjectId(job.id),
                    "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
                    "job_state": Binary(pickle.dumps(job.__getstate__(), self.pickle_protocol)),
                }
            )

        def update_job(self, job: Any) -> None:
            changes = {
                "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
                "job_state": Binary(pickle.dumps(job.__getstate__(), self.pickle_protocol)),
            }
            result = self.collection.update_one({"_id": ObjectId(job.id)}, {"$set": changes})
            if result and result.matched_count == 0:
                raise JobLookupError(job.id)

        def remove_job(self, job_id: str) -> None:
            result = self.collection.delete_one({"_id": ObjectId(job_id)})
            if result and result.deleted_count == 0:
                raise JobLookupError(job_id)

    return StandInMongoDBJobStore(database="bench_aps", collection="jobs", client=client)


class ApsBaseline:
    """A BackgroundScheduler with a persistent job store on `db` and one date job per post."""

    def __init__(self, db: Database, recorder: Recorder, *, paused: bool = True) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.db = db
        self.table = SeedTable(db)
        _APS.update(table=self.table, recorder=recorder)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": self._jobstore()},
            # Run every job however late (the default grace of 1 s would silently skip late ones).
            job_defaults={"misfire_grace_time": None, "coalesce": False},
            timezone=UTC,
        )
        self._paused = paused

    def _jobstore(self) -> Any:
        if self.db.kind == "sqlite":
            from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
            from sqlalchemy import create_engine, event

            engine = create_engine(f"sqlite:///{self.db.sqlite_path('seed')}", connect_args={"timeout": 60})

            @event.listens_for(engine, "connect")
            def _pragmas(connection: Any, _: Any) -> None:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")

            return SQLAlchemyJobStore(engine=engine)
        return stand_in_mongodb_jobstore(MongoClient(self.db.mongo_url))

    def start(self) -> None:
        self.scheduler.start(paused=self._paused)

    def add_jobs(self, items: Iterable[tuple[str, datetime]]) -> None:
        for post_id, when in items:
            self.scheduler.add_job(
                "bench.baselines:aps_publish", "date", run_date=when, args=[post_id], id=post_id,
                replace_existing=False,
            )  # fmt: skip

    def resume(self) -> None:
        self.scheduler.resume()

    def stop(self) -> None:
        import logging

        # The scheduler thread may be between two job store calls when the store closes: quiet.
        logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
        self.scheduler.pause()
        time.sleep(0.2)
        self.scheduler.shutdown(wait=True)
        self.table.close()
