"""A separate process that makes and publishes the due occurrences of recurring series, on a
simulated clock, for the contract tests of series across processes and restarts.

Usage: python -m tests.contract.series_worker sqlite|mongo LOCATION KEY WORKER [crash]
Prints "ready"; then, for each line "<ISO time>" on stdin, sets its clock there, makes every due
occurrence (`Recurrences.make_due`), publishes what is due (`Publication.sweep`), waits for its
publications to end and prints "done". On an empty line it prints one JSON object — the post ids it
wrote, and (post id, target id) of each publisher call — and exits. With `crash`, it dies (exit 9)
right after its first occurrence is committed, before that occurrence's post is written. The JSON
also says how many commits it lost to the other process ("lost")."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from publishers.base import Outcome, Publisher, Sending, untracked
from scheduler.engine import Publication
from scheduler.series import Recurrences
from storage.base import Store
from storage.crypto import CredentialCipher
from storage.models import Platform, Post, Target
from storage.mongo import MongoStore
from storage.sqlite import SQLiteStore

LEASE = timedelta(seconds=30)
MAX_LATENESS = timedelta(hours=24)


class Recorder(Publisher):
    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        await sending()
        self.calls.append((post.post_id, target.target_id))
        await asyncio.sleep(0.001)
        return Outcome.sent(message_id=f"{post.post_id}-{target.target_id}")


def count_lost_races(store: Store) -> list[int]:
    """Counts (in the list's one item) the commits another process made first."""
    lost = [0]
    real = store.save_series

    async def save_and_count(series):  # type: ignore[no-untyped-def]
        held = await real(series)
        lost[0] += not held
        return held

    store.save_series = save_and_count  # type: ignore[method-assign]
    return lost


def crash_after_first_commit(store: Store) -> None:
    """The process dies as if killed between committing an occurrence and writing its post."""
    real = store.save_series

    async def save_then_die(series):  # type: ignore[no-untyped-def]
        held = await real(series)
        if held and series.pending is not None:
            os._exit(9)
        return held

    store.save_series = save_then_die  # type: ignore[method-assign]


async def main(kind: str, location: str, key: str, worker: str, crash: bool) -> None:
    cipher = CredentialCipher(key)
    store: Store = SQLiteStore(Path(location), cipher) if kind == "sqlite" else MongoStore(location, cipher)
    await store.open()
    if crash:
        crash_after_first_commit(store)
    now = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
    recorder = Recorder()
    publication = Publication(
        store,
        {Platform.TELEGRAM: recorder},
        worker_id=worker,
        lease=LEASE,
        max_lateness=MAX_LATENESS,
        clock=lambda: now,
    )
    # Small batches: the two processes' reads and commits interleave.
    recurrences = Recurrences(store, publication, lease=LEASE, max_lateness=MAX_LATENESS, clock=lambda: now, batch=3)
    lost = count_lost_races(store)
    written: list[str] = []
    print("ready", flush=True)
    while line := (await asyncio.to_thread(sys.stdin.readline)).strip():
        now = datetime.fromisoformat(line)
        written += [post.post_id for post in await recurrences.make_due(now)]
        await publication.sweep(now)
        await asyncio.sleep(0)  # publications started by make_due have begun
        while publication.busy:
            await asyncio.sleep(0.01)
        print("done", flush=True)
    await store.close()
    print(json.dumps({"written": written, "calls": recorder.calls, "lost": lost}), flush=True)


if __name__ == "__main__":
    kind, location, key, worker = sys.argv[1:5]
    asyncio.run(main(kind, location, key, worker, crash=sys.argv[5:] == ["crash"]))
