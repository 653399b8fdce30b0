"""A separate process that claims due posts with several concurrent tasks, for the race tests.

Usage: python -m tests.contract.claimer sqlite|mongo LOCATION KEY WORKER_PREFIX TASKS [LIMIT [WHAT]]
LIMIT: posts per claim (default 2). WHAT: "posts" (the default) or "follow_ups" (the follow-up
actions of published posts, claimed the same way). Each claim has a token of its own, as the engine's do.
Prints "ready", waits for a line on stdin, claims until nothing is due, then prints one JSON
object: worker id → the post ids it claimed."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from datetime import timedelta
from pathlib import Path

from storage.base import Store
from storage.crypto import CredentialCipher
from storage.models import utc_now
from storage.mongo import MongoStore
from storage.sqlite import SQLiteStore

LEASE = timedelta(minutes=10)


async def claim_until_empty(store: Store, worker_id: str, limit: int = 2) -> list[str]:
    claimed: list[str] = []
    for number in itertools.count(1):
        posts = await store.claim_due_posts(f"{worker_id}/{number}", utc_now(), LEASE, limit=limit)
        if not posts:
            return claimed
        assert len(posts) <= limit
        claimed.extend(post.post_id for post in posts)
        # A worker publishes between claims; without this pause one process can win every race.
        await asyncio.sleep(0.005)
    raise AssertionError("unreachable")


async def claim_follow_ups_until_empty(store: Store, worker_id: str, limit: int = 2) -> list[str]:
    claimed: list[str] = []
    for number in itertools.count(1):
        actions = await store.claim_follow_ups(f"{worker_id}/a{number}", utc_now(), LEASE, limit=limit)
        if not actions:
            return claimed
        assert len(actions) <= limit
        claimed.extend(action.action_id for action in actions)
        await asyncio.sleep(0.005)
    raise AssertionError("unreachable")


async def main(kind: str, location: str, key: str, prefix: str, tasks: int, limit: int, what: str = "posts") -> None:
    cipher = CredentialCipher(key)
    store: Store = SQLiteStore(Path(location), cipher) if kind == "sqlite" else MongoStore(location, cipher)
    await store.open()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    workers = [f"{prefix}-{n}" for n in range(tasks)]
    claim = claim_follow_ups_until_empty if what == "follow_ups" else claim_until_empty
    results = await asyncio.gather(*(claim(store, worker, limit) for worker in workers))
    await store.close()
    print(json.dumps(dict(zip(workers, results, strict=True))), flush=True)


if __name__ == "__main__":
    kind, location, key, prefix, tasks = sys.argv[1:6]
    limit = int(sys.argv[6]) if len(sys.argv) > 6 else 2
    what = sys.argv[7] if len(sys.argv) > 7 else "posts"
    asyncio.run(main(kind, location, key, prefix, int(tasks), limit, what))
