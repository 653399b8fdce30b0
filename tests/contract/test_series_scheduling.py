"""Occurrences of recurring series made into posts and published, in each store: exactly once
when two workers (in one process or two) make them, when a worker dies between committing an
occurrence and writing its post, and after downtime (MAX_LATENESS counted per occurrence, the
earlier missed ones told of, never published in a burst); and a series pauses itself after three
failed occurrences in a row."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from publishers.base import Outcome, Publisher, Sending, untracked
from scheduler.engine import MISSED_MESSAGE, Publication
from scheduler.series import Recurrences
from storage.base import Store
from storage.crypto import CredentialCipher
from storage.models import DeliveryStatus, Platform, Post, PostStatus, Target, new_post
from storage.mongo import MongoStore
from storage.recurrence import Frequency, Rule
from storage.series import (
    PausedBy,
    Series,
    SeriesStatus,
    committed,
    new_series,
    occurrence_post_id,
)
from storage.sqlite import SQLiteStore
from tests.conftest import opened
from tests.contract.helpers import add_account

ROOT = Path(__file__).resolve().parents[2]
LEASE = timedelta(seconds=30)
LATE = timedelta(hours=24)
DAILY_AT_NINE = Rule(Frequency.DAILY, time(9), "UTC")
# The simulated days: 09:00:30 UTC on each, 30 s after the daily occurrence.
DAY0 = datetime(2031, 5, 5, tzinfo=UTC)


def day(number: int, at: time = time(9, 0, 30)) -> datetime:
    return datetime.combine(DAY0.date() + timedelta(days=number), at, tzinfo=UTC)


class Recorder(Publisher):
    """Records each call; answers sent, or failed for the captions in `failing`."""

    platform = Platform.TELEGRAM

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.calls: list[tuple[str, str]] = []
        self.failing = failing

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        await sending()
        self.calls.append((post.post_id, target.target_id))
        if post.main_caption in self.failing:
            return Outcome.permanent("403", "the bot is not an administrator there")
        return Outcome.sent(message_id="1")


@dataclass
class Worker:
    """One worker's publication and recurrences on a simulated clock."""

    store: Store
    name: str
    recorder: Recorder = field(default_factory=Recorder)
    now: datetime = DAY0
    lateness: timedelta = LATE

    def __post_init__(self) -> None:
        self.publication = Publication(
            self.store,
            {Platform.TELEGRAM: self.recorder},
            worker_id=self.name,
            lease=LEASE,
            max_lateness=self.lateness,
            clock=lambda: self.now,
        )
        self.recurrences = Recurrences(
            self.store, self.publication, lease=LEASE, max_lateness=self.lateness, clock=lambda: self.now
        )

    async def run(self, now: datetime) -> list[Post]:
        """Makes what is due at `now`, publishes what is due, waits until that is done."""
        self.now = now
        made = await self.recurrences.make_due(now)
        await self.publication.sweep(now)
        await asyncio.sleep(0)
        while self.publication.busy:
            await asyncio.sleep(0.005)
        return made


async def daily_series(
    store: Store, user_id: int, created: datetime, caption: str = "Daily news", count: int | None = None
) -> Series:
    """A series of `user_id`'s, every day at 09:00 UTC (`count` times), made at `created`."""
    account = await add_account(store, user_id)
    template = new_post(
        user_id=user_id, account=account, targets=account.targets, main_caption=caption, scheduled_time=created
    )
    rule = replace(DAILY_AT_NINE, count=count)
    return await store.create_series(new_series(user_id, rule, template, created))


async def occurrence_posts(store: Store, series: Series, numbers: range) -> list[Post | None]:
    return [await store.load_post(occurrence_post_id(series.series_id, n)) for n in numbers]


# -- one process --------------------------------------------------------------------------------
async def test_a_due_occurrence_becomes_a_post_published_at_once_and_the_series_moves_on(store: Store) -> None:
    series = await daily_series(store, 1001, day(0, time(8)))
    worker = Worker(store, "w1")
    made = await worker.run(day(0))
    assert [post.post_id for post in made] == [occurrence_post_id(series.series_id, 0)]
    post = await store.load_post(made[0].post_id)
    assert post is not None and post.status is PostStatus.PUBLISHED
    assert post.scheduled_time == day(0, time(9)) and post.main_caption == "Daily news"
    assert post.occurrence is not None and post.occurrence.number == 0 and post.occurrence.missed_before == 0
    assert Counter(worker.recorder.calls) == {(post.post_id, t.target_id): 1 for t in post.targets}
    assert post.report_due_at is not None  # its report, like any post's
    moved = await store.load_series(series.series_id)
    assert moved is not None and moved.pending is None and moved.claim is None
    assert moved.next_number == 1 and moved.made == 1 and moved.next_time == day(1, time(9))
    # Nothing more is due the same day; the next day's occurrence comes the next day.
    assert await worker.run(day(0, time(12))) == []
    assert len(await worker.run(day(1))) == 1


async def test_after_three_days_down_the_latest_occurrence_goes_out_and_tells_of_the_missed_ones(
    store: Store,
) -> None:
    series = await daily_series(store, 1001, day(-4, time(8)))
    worker = Worker(store, "w1")
    made = await worker.run(day(0, time(10)))  # an hour after today's occurrence
    assert len(made) == 1
    post = await store.load_post(made[0].post_id)
    assert post is not None and post.status is PostStatus.PUBLISHED
    assert post.scheduled_time == day(0, time(9))
    assert post.occurrence is not None
    assert (post.occurrence.missed_before, post.occurrence.missed_since) == (4, day(-4, time(9)))
    # One publication only: never the same post in a burst.
    assert len(worker.recorder.calls) == len(post.targets)
    after = await store.load_series(series.series_id)
    assert after is not None and after.made == 5 and after.next_time == day(1, time(9))


async def test_an_occurrence_later_than_max_lateness_is_made_as_missed_and_the_series_goes_on(store: Store) -> None:
    series = await daily_series(store, 1001, day(-1, time(8)))
    worker = Worker(store, "w1", lateness=timedelta(hours=1))
    # Back 90 min after yesterday's occurrence: past MAX_LATENESS (1 h here), made as missed.
    made = await worker.run(day(-1, time(10, 30)))
    assert len(made) == 1 and worker.recorder.calls == []
    post = await store.load_post(made[0].post_id)
    assert post is not None and post.status is PostStatus.FAILED and post.report_due_at is not None
    assert {d.status for d in post.deliveries.values()} == {DeliveryStatus.MISSED}
    assert {d.error_message for d in post.deliveries.values()} == {MISSED_MESSAGE}
    await worker.run(day(0))
    today = await store.load_post(occurrence_post_id(series.series_id, 1))
    assert today is not None and today.status is PostStatus.PUBLISHED


async def test_a_series_of_three_times_ends_after_its_third_even_across_downtime(store: Store) -> None:
    series = await daily_series(store, 1001, day(-5, time(8)), count=3)
    worker = Worker(store, "w1")
    made = await worker.run(day(0))
    assert len(made) == 1 and made[0].occurrence is not None and made[0].occurrence.missed_before == 2
    ended = await store.load_series(series.series_id)
    assert ended is not None and ended.status is SeriesStatus.ENDED and ended.next_time is None and ended.made == 3
    assert await worker.run(day(1)) == []


async def test_two_workers_making_the_same_due_series_make_each_occurrence_once(store: Store) -> None:
    many = [await daily_series(store, 1001, day(0, time(8)), caption=f"n{n}") for n in range(40)]
    first, second = Worker(store, "w1"), Worker(store, "w2")
    for number in range(3):
        made = await asyncio.gather(first.run(day(number)), second.run(day(number)))
        assert len(made[0]) + len(made[1]) == len(many)
    calls = Counter(first.recorder.calls + second.recorder.calls)
    assert len(calls) == len(many) * 3 * 2 and set(calls.values()) == {1}
    for series in many:
        posts = await occurrence_posts(store, series, range(3))
        assert all(post is not None and post.status is PostStatus.PUBLISHED for post in posts)


async def test_a_worker_that_died_after_committing_is_taken_over_and_the_post_written_once(store: Store) -> None:
    series = await daily_series(store, 1001, day(0, time(8)))
    # The dead worker committed occurrence 0 under its claim and wrote nothing more.
    dead = committed(series, day(0), LATE, "dead/s1", LEASE)
    assert dead is not None and await store.save_series(dead)
    survivor = Worker(store, "w2")
    assert await survivor.run(day(0) + timedelta(seconds=5)) == []  # its lease still holds
    made = await survivor.run(day(0) + LEASE + timedelta(seconds=1))
    assert [post.post_id for post in made] == [occurrence_post_id(series.series_id, 0)]
    post = await store.load_post(made[0].post_id)
    assert post is not None and post.status is PostStatus.PUBLISHED
    # The "dead" worker was only slow: its late write finds the post and publishes nothing.
    stale = Worker(store, "dead")
    assert await stale.recurrences._write(dead, day(0), publish=True) is None
    assert stale.recorder.calls == [] and len(survivor.recorder.calls) == len(post.targets)
    settled = await store.load_series(series.series_id)
    assert settled is not None and settled.pending is None and settled.next_number == 1


async def test_a_series_pauses_itself_after_three_failed_occurrences_in_a_row_and_says_why(store: Store) -> None:
    series = await daily_series(store, 1001, day(0, time(8)), caption="Doomed")
    worker = Worker(store, "w1")
    worker.recorder.failing = frozenset({"Doomed"})
    posts: list[Post] = []
    for number in range(3):
        await worker.run(day(number))
        post = await store.load_post(occurrence_post_id(series.series_id, number))
        assert post is not None and post.status is PostStatus.FAILED
        posts.append(post)
        # The report path tells the series, once or several times (a report sent again).
        await worker.recurrences.record_outcomes([post])
        await worker.recurrences.record_outcomes([post])
    paused = await store.load_series(series.series_id)
    assert paused is not None and paused.status is SeriesStatus.PAUSED and paused.paused_by is PausedBy.FAILURES
    assert paused.paused_post == posts[2].post_id
    assert paused.pause_reason == "the bot is not an administrator there"
    assert await worker.run(day(3)) == []  # paused: nothing is made


async def test_a_success_between_failures_keeps_the_series_going(store: Store) -> None:
    series = await daily_series(store, 1001, day(0, time(8)), caption="Flaky")
    worker = Worker(store, "w1")
    for number, fails in enumerate([True, True, False, True, True]):
        worker.recorder.failing = frozenset({"Flaky"}) if fails else frozenset()
        await worker.run(day(number))
        post = await store.load_post(occurrence_post_id(series.series_id, number))
        assert post is not None
        await worker.recurrences.record_outcomes([post])
    going = await store.load_series(series.series_id)
    assert going is not None and going.status is SeriesStatus.ACTIVE and going.made == 5


# -- two processes -----------------------------------------------------------------------------
@asynccontextmanager
async def worker_process(kind: str, location: str, key: str, name: str, crash: bool = False) -> AsyncIterator[Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.contract.series_worker",
        kind,
        location,
        key,
        name,
        *(["crash"] if crash else []),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    assert (await asyncio.wait_for(process.stdout.readline(), 60)).strip() == b"ready"
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def step(process: Any, now: datetime) -> bytes:
    """Tells a worker process the time; its answer ("done"), or "" if it died."""
    process.stdin.write(f"{now.isoformat()}\n".encode())
    await process.stdin.drain()
    return bytes((await asyncio.wait_for(process.stdout.readline(), 120)).strip())


async def finish(process: Any) -> dict[str, Any]:
    process.stdin.write(b"\n")
    await process.stdin.drain()
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    result: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    return result


def store_at(kind: str, location: str, key: str) -> Store:
    cipher = CredentialCipher(key)
    return SQLiteStore(Path(location), cipher) if kind == "sqlite" else MongoStore(location, cipher)


async def two_processes_over_days(kind: str, location: str, key: str) -> None:
    async with opened(store_at(kind, location, key)) as store:
        fresh = [await daily_series(store, 2000 + n, day(0, time(8)), caption=f"f{n}") for n in range(16)]
        # Created before three days of downtime (its times passed while no bot ran).
        down = [await daily_series(store, 3000 + n, day(-3, time(8)), caption=f"d{n}") for n in range(8)]
        async with (
            worker_process(kind, location, key, "p1") as first,
            worker_process(kind, location, key, "p2") as second,
        ):
            for number in range(4):
                # Both processes at the same simulated moment, each day, in step.
                answers = await asyncio.gather(step(first, day(number)), step(second, day(number)))
                assert list(answers) == [b"done", b"done"]
            results = [await finish(first), await finish(second)]
        written = Counter(post_id for result in results for post_id in result["written"])
        calls = Counter(tuple(call) for result in results for call in result["calls"])
        assert set(written.values()) == {1}, "an occurrence's post was written twice"
        assert set(calls.values()) == {1}, "a target got an occurrence twice"
        # The race was real: both processes wrote posts, or one lost commits to the other.
        assert all(result["written"] for result in results) or sum(result["lost"][0] for result in results)
        for series in fresh + down:
            posts = await occurrence_posts(store, series, range(5))
            assert posts[4] is None  # nothing made ahead of its time
            made = [post for post in posts[:4] if post is not None]
            assert len(made) == 4, "an occurrence was lost"
            assert all(post.status is PostStatus.PUBLISHED for post in made)
            assert [post.scheduled_time for post in made] == [day(n, time(9)) for n in range(4)]
            assert all(calls[(post.post_id, t.target_id)] == 1 for post in made for t in post.targets)
            assert made[0].occurrence is not None
            assert made[0].occurrence.missed_before == (3 if series in down else 0)


async def a_process_dies_between_commit_and_post(kind: str, location: str, key: str) -> None:
    async with opened(store_at(kind, location, key)) as store:
        many = [await daily_series(store, 4000 + n, day(0, time(8)), caption=f"c{n}") for n in range(10)]
        async with worker_process(kind, location, key, "doomed", crash=True) as doomed:
            assert await step(doomed, day(0)) == b""  # it died after its first commit
            await doomed.wait()
            assert doomed.returncode == 9
        # Its commits went to the database together (one group commit), its posts never did.
        abandoned = [s for s in [await store.load_series(s.series_id) for s in many] if s and s.pending]
        assert abandoned
        assert [await store.load_post(occurrence_post_id(s.series_id, 0)) for s in abandoned] == [None] * len(abandoned)
        # A restarted process: the abandoned occurrences wait for their lease, then go out once.
        async with worker_process(kind, location, key, "restarted") as restarted:
            assert await step(restarted, day(0) + timedelta(seconds=5)) == b"done"
            assert [await store.load_post(occurrence_post_id(s.series_id, 0)) for s in abandoned] == [None] * len(
                abandoned
            )
            assert await step(restarted, day(0) + LEASE + timedelta(seconds=1)) == b"done"
            result = await finish(restarted)
        calls = Counter(tuple(call) for call in result["calls"])
        assert len(result["written"]) == len(many) and set(calls.values()) == {1}
        for series in many:
            (post,) = await occurrence_posts(store, series, range(1))
            assert post is not None and post.status is PostStatus.PUBLISHED
            settled = await store.load_series(series.series_id)
            assert settled is not None and settled.pending is None and settled.next_number == 1


async def test_two_processes_over_four_days_publish_each_occurrence_once_on_sqlite(
    tmp_path: Path, encryption_key: str
) -> None:
    await two_processes_over_days("sqlite", str(tmp_path / "series.db"), encryption_key)


async def test_two_processes_over_four_days_publish_each_occurrence_once_on_mongodb(
    mongo_url: str, encryption_key: str
) -> None:
    await two_processes_over_days("mongo", mongo_url, encryption_key)


async def test_an_occurrence_committed_by_a_process_that_died_is_published_once_on_sqlite(
    tmp_path: Path, encryption_key: str
) -> None:
    await a_process_dies_between_commit_and_post("sqlite", str(tmp_path / "series.db"), encryption_key)


async def test_an_occurrence_committed_by_a_process_that_died_is_published_once_on_mongodb(
    mongo_url: str, encryption_key: str
) -> None:
    await a_process_dies_between_commit_and_post("mongo", mongo_url, encryption_key)
