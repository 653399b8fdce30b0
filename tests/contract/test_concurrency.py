"""Many workers in two processes race for the same due posts: each post is claimed exactly once."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from storage.base import Store
from storage.models import new_post, utc_now
from storage.mongo import MongoStore
from storage.sqlite import SQLiteStore
from tests.contract.helpers import add_account

ROOT = Path(__file__).resolve().parents[2]
POSTS, PROCESSES, TASKS = 500, 2, 8


async def run_claimers(kind: str, location: str, key: str, limit: int, what: str = "posts") -> dict[str, list[str]]:
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.contract.claimer",
            kind,
            location,
            key,
            f"p{n}",
            str(TASKS),
            str(limit),
            what,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for n in range(PROCESSES)
    ]
    for process in processes:
        assert process.stdout is not None
        assert (await asyncio.wait_for(process.stdout.readline(), 60)).strip() == b"ready"
    for process in processes:  # both start together
        assert process.stdin is not None
        process.stdin.write(b"go\n")
        await process.stdin.drain()
    claims: dict[str, list[str]] = {}
    for process in processes:
        output, _ = await asyncio.wait_for(process.communicate(), 240)
        assert process.returncode == 0
        claims.update(json.loads(output.decode().strip().splitlines()[-1]))
    return claims


async def race(store: Store, kind: str, location: str, key: str, limit: int) -> None:
    account = await add_account(store, 1001)
    now = utc_now()
    ids = set()
    for _ in range(POSTS):
        post = new_post(user_id=1001, account=account, targets=account.targets, main_caption="x", scheduled_time=now)
        await store.create_post(post)
        ids.add(post.post_id)

    claims = await run_claimers(kind, location, key, limit)

    counted = Counter(post_id for claimed in claims.values() for post_id in claimed)
    assert set(counted) == ids
    assert max(counted.values()) == 1, "a post was claimed twice"
    assert len(claims) == PROCESSES * TASKS
    # Both processes took part: the race was real.
    assert all(any(claims[f"p{n}-{t}"] for t in range(TASKS)) for n in range(PROCESSES))
    for post_id in list(ids)[:50]:
        stored = await store.load_post(post_id)
        assert stored is not None and stored.attempts == 1


# Claims of 2 posts, and batches of 16 whose candidates overlap between claimers (MongoDB claims
# a batch with find, update_many, find: a post must still go to one claimer only).
@pytest.mark.parametrize("limit", [2, 16])
async def test_500_posts_claimed_once_each_on_sqlite(tmp_path: Path, encryption_key: str, limit: int) -> None:
    from storage.crypto import CredentialCipher

    path = tmp_path / "race.db"
    store = SQLiteStore(path, CredentialCipher(encryption_key))
    await store.open()
    try:
        await race(store, "sqlite", str(path), encryption_key, limit)
    finally:
        await store.close()


@pytest.mark.parametrize("limit", [2, 16])
async def test_500_posts_claimed_once_each_on_mongodb(mongo_url: str, encryption_key: str, limit: int) -> None:
    from storage.crypto import CredentialCipher

    store = MongoStore(mongo_url, CredentialCipher(encryption_key))
    await store.open()
    try:
        await race(store, "mongo", mongo_url, encryption_key, limit)
    finally:
        await store.close()


async def test_claimers_sharing_one_store_take_each_post_once_in_batches(store: Store) -> None:
    """Many tasks of one process claim batches of 10 at once; their candidates overlap."""
    account = await add_account(store, 1001)
    now = utc_now()
    ids = set()
    for n in range(120):
        post = new_post(
            user_id=1001, account=account, targets=account.targets[:1], main_caption=f"p{n}", scheduled_time=now
        )
        await store.create_post(post)
        ids.add(post.post_id)

    async def claimer(name: str) -> list[str]:
        taken: list[str] = []
        for number in itertools.count(1):
            posts = await store.claim_due_posts(f"{name}/{number}", utc_now(), timedelta(minutes=5), limit=10)
            if not posts:
                return taken
            assert len(posts) <= 10
            assert all(p.claim is not None and p.claim.worker_id == f"{name}/{number}" for p in posts)
            taken.extend(p.post_id for p in posts)
        return taken

    claims = await asyncio.gather(*(claimer(f"t{n}") for n in range(8)))
    counted = Counter(post_id for taken in claims for post_id in taken)
    assert set(counted) == ids and max(counted.values()) == 1
    # An empty answer means nothing was left: a claimer that lost a race looks again.
    assert await store.claim_due_posts("late/1", utc_now(), timedelta(minutes=5), limit=10) == []


async def test_many_tasks_publishing_and_reading_on_one_store_all_succeed(store: Store) -> None:
    """One process, one connection, many coroutines: reads, writes and transactions at once."""
    from datetime import timedelta

    from storage.models import Delivery, DeliveryStatus, PostView

    account = await add_account(store, 1001)
    now = utc_now()
    posts = []
    for n in range(150):
        post = new_post(
            user_id=1001, account=account, targets=account.targets[:1], main_caption=f"p{n}", scheduled_time=now
        )
        await store.create_post(post)
        posts.append(post)

    async def publish(post_id: str) -> None:
        claimed = await store.claim_post(post_id, f"w-{post_id}", now, timedelta(minutes=5))
        assert claimed is not None
        target = claimed.targets[0].target_id
        await store.record_delivery(post_id, f"w-{post_id}", Delivery(target, DeliveryStatus.SENDING, 1))
        claimed.deliveries[target] = Delivery(target, DeliveryStatus.SENT, 1, "1")
        assert await store.finish_post(claimed, f"w-{post_id}", now) is not None
        reported = await store.claim_reports(f"r-{post_id}", now, timedelta(minutes=5), limit=1)
        await store.mark_reported([post.post_id for post in reported], f"r-{post_id}", now)

    async def browse() -> None:
        for page in range(6):
            await store.list_posts(1001, PostView.HISTORY, page=page)
            await store.get_post(1001, posts[page].post_id)
            # A write that returns rows, racing the other tasks' transactions.
            await store.reschedule_post(1001, posts[-1 - page].post_id, now)

    await asyncio.gather(*(publish(post.post_id) for post in posts), *(browse() for _ in range(20)))
    finished = await store.list_posts(1001, PostView.HISTORY, per_page=200)
    assert len(finished.posts) == 150
