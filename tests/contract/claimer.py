"""A separate process that claims due posts with several concurrent tasks, for the race tests.

Usage: python -m tests.contract.claimer sqlite|mongo LOCATION KEY WORKER_PREFIX TASKS
Prints "ready", waits for a line on stdin, claims until nothing is due, then prints one JSON
object: worker id → the post ids it claimed."""

from __future__ import annotations

import asyncio
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


async def claim_until_empty(store: Store, worker_id: str) -> list[str]:
    claimed: list[str] = []
    while True:
        posts = await store.claim_due_posts(worker_id, utc_now(), LEASE, limit=2)
        if not posts:
            return claimed
        claimed.extend(post.post_id for post in posts)
        # A worker publishes between claims; without this pause one process can win every race.
        await asyncio.sleep(0.005)


async def main(kind: str, location: str, key: str, prefix: str, tasks: int) -> None:
    cipher = CredentialCipher(key)
    store: Store = SQLiteStore(Path(location), cipher) if kind == "sqlite" else MongoStore(location, cipher)
    await store.open()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    workers = [f"{prefix}-{n}" for n in range(tasks)]
    results = await asyncio.gather(*(claim_until_empty(store, worker) for worker in workers))
    await store.close()
    print(json.dumps(dict(zip(workers, results, strict=True))), flush=True)


if __name__ == "__main__":
    kind, location, key, prefix, tasks = sys.argv[1:6]
    asyncio.run(main(kind, location, key, prefix, int(tasks)))
