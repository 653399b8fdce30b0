"""How fast /scheduled pages are with a long history: `Store.list_posts` on each store.

One user with 20,000 posts (most finished over the past year, some scheduled over the next),
next to other users' posts; the first and the tenth page of both views, timed many times.
Target: under 100 ms a page. Run by hand from the repository root:

    .venv/bin/python -m bench.history_bench            # both stores
    .venv/bin/python -m bench.history_bench --stores sqlite --posts 5000 --runs 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from storage.base import Store
from storage.crypto import CredentialCipher
from storage.models import Delivery, DeliveryStatus, Post, PostStatus, PostView, Target, new_id, utc_now
from storage.mongo import MongoStore
from storage.sqlite import SQLiteStore
from tests.fakes.mongo_standin import mongo_server

OWNER = 800_001
OTHER_USERS = range(800_002, 800_012)
PER_PAGE = 5
PAGES = (0, 9)
TARGET_MS = 100.0
FINISHED = [PostStatus.PUBLISHED] * 14 + [PostStatus.PARTIAL] * 3 + [PostStatus.FAILED, PostStatus.CANCELLED]


def sample_post(user_id: int, number: int, rng: random.Random, scheduled_share: float) -> Post:
    """A post as the bot would have stored it: three targets, finished in the past or scheduled ahead."""
    now = utc_now()
    targets = [Target(f"tg-100{n}", f"Channel {n}", f"-100{n}", "channel") for n in range(3)]
    upcoming = rng.random() < scheduled_share
    if upcoming:
        when = now + timedelta(seconds=rng.randint(3600, 365 * 86400))
        status = PostStatus.SCHEDULED
        deliveries = {t.target_id: Delivery(t.target_id) for t in targets}
    else:
        when = now - timedelta(seconds=rng.randint(60, 365 * 86400))
        status = rng.choice(FINISHED)
        sent = DeliveryStatus.SENT if status in (PostStatus.PUBLISHED, PostStatus.PARTIAL) else DeliveryStatus.FAILED
        deliveries = {t.target_id: Delivery(t.target_id, sent, 1, message_id=str(number)) for t in targets}
    return Post(
        post_id=new_id(),
        user_id=user_id,
        account_id="telegram",
        account_name="Telegram (this bot)",
        main_caption=f"Post number {number}: " + "news " * rng.randint(2, 40),
        scheduled_time=when,
        targets=targets,
        status=status,
        published_at=None if upcoming else when + timedelta(seconds=2),
        notified_at=None if upcoming else when + timedelta(seconds=3),
        deliveries=deliveries,
    )


async def fill(store: Store, posts: int, others: int, scheduled_share: float) -> float:
    """Writes the posts through the store; returns the seconds it took."""
    rng = random.Random(20_000)
    batch = [sample_post(OWNER, n, rng, scheduled_share) for n in range(posts)]
    batch += [sample_post(rng.choice(OTHER_USERS), n, rng, scheduled_share) for n in range(others)]
    rng.shuffle(batch)
    gate = asyncio.Semaphore(32)

    async def write(post: Post) -> None:
        async with gate:
            await store.create_post(post)

    started = time.perf_counter()
    for start in range(0, len(batch), 1000):
        await asyncio.gather(*(write(post) for post in batch[start : start + 1000]))
    return time.perf_counter() - started


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def time_pages(store: Store, runs: int) -> list[tuple[str, int, float, float]]:
    """(view, page, p50 ms, p95 ms) for each view and page, after a warm-up."""
    rows = []
    for view in (PostView.UPCOMING, PostView.HISTORY):
        for page in PAGES:
            found = await store.list_posts(OWNER, view, page, PER_PAGE)
            assert len(found.posts) == PER_PAGE and found.has_next, (view, page, len(found.posts))
            times = [found.posts[0].scheduled_time, found.posts[-1].scheduled_time]
            assert times == sorted(times, reverse=view is PostView.HISTORY), "out of order"
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                await store.list_posts(OWNER, view, page, PER_PAGE)
                samples.append((time.perf_counter() - started) * 1000)
            rows.append((view.value, page + 1, statistics.median(samples), percentile(samples, 0.95)))
    return rows


@asynccontextmanager
async def opened(kind: str, folder: Path) -> AsyncIterator[Store]:
    cipher = CredentialCipher(Fernet.generate_key().decode())
    if kind == "sqlite":
        store: Store = SQLiteStore(folder / "history.db", cipher)
        await store.open()
        try:
            yield store
        finally:
            await store.close()
        return
    with mongo_server() as url:
        store = MongoStore(f"{url}/history_bench", cipher)
        await store.open()
        try:
            yield store
        finally:
            await store.close()


async def main(stores: list[str], posts: int, others: int, runs: int, scheduled_share: float) -> None:
    print(
        f"list_posts: {posts:,} posts of one user ({scheduled_share:.0%} scheduled, the rest finished), "
        f"{others:,} of other users; {PER_PAGE} a page, {runs} runs per cell"
    )
    table = []
    for kind in stores:
        with tempfile.TemporaryDirectory() as folder:
            async with opened(kind, Path(folder)) as store:
                seconds = await fill(store, posts, others, scheduled_share)
                print(f"  {kind}: {posts + others:,} posts written in {seconds:.1f} s")
                table += [(kind, *row) for row in await time_pages(store, runs)]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nload average at the end (1, 5, 15 min): {load} on {os.cpu_count()} CPU(s)")
    print(f"| {'store':<6} | {'view':<8} | {'page':>4} | {'p50 ms':>7} | {'p95 ms':>7} | < {TARGET_MS:.0f} ms |")
    print(f"|{'-' * 8}|{'-' * 10}|{'-' * 6}|{'-' * 9}|{'-' * 9}|{'-' * 10}|")
    for kind, view, page, p50, p95 in table:
        verdict = "yes" if p95 < TARGET_MS else "NO"
        print(f"| {kind:<6} | {view:<8} | {page:>4} | {p50:>7.2f} | {p95:>7.2f} | {verdict:>8} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="sqlite,mongo", help="comma-separated: sqlite, mongo")
    parser.add_argument("--posts", type=int, default=20_000, help="posts of the one user")
    parser.add_argument("--others", type=int, default=5_000, help="posts of other users")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per view and page")
    parser.add_argument("--scheduled", type=float, default=0.1, help="share of the user's posts still scheduled")
    arguments = parser.parse_args()
    asyncio.run(
        main(arguments.stores.split(","), arguments.posts, arguments.others, arguments.runs, arguments.scheduled)
    )
