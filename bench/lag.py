"""Lag: N posts scheduled at times spread over S seconds; lag = publisher call time − scheduled time.

Herald runs its real scheduling path: bot.py's `build_application` (worker mode, against an idle
in-process fake Bot API for getMe), i.e. the Application's JobQueue with `scheduler.jobs` wiring
— a sweep every SCHEDULER_INTERVAL (30 s, the default) that plans a one-off job at each post's
exact time for posts within the horizon, and `Publication.publish_now` in each job — with only the
Telegram publisher replaced by one that records when it was called, and the owner's report
skipped. The posts are stored before the bot starts, so the jobs are rebuilt from the database
by the first sweep, as after a restart.

Beside it, in the same run and on the same kind of database: the seed's loop (wake every
`--seed-interval` seconds, default 1 — the seed ships 30 — read all due posts, publish one after
another, update each status) and APScheduler (one date job per post in a persistent job store).

    python -m bench.lag [--quick] [--posts 1000,10000] [--spread 60] [--stores sqlite,mongo]
                        [--designs herald,seed,apscheduler] [--seed-interval 1] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.baselines import ApsBaseline, Recorder, SeedScheduler, SeedTable, job_id, seed_document, seed_documents
from bench.common import (
    ROOT,
    Database,
    arguments,
    database,
    listed,
    log,
    machine,
    percentile,
    spread,
    table,
    update_results,
)
from bench.herald_parts import RecordingPublisher, create_posts, herald_application, herald_settings

DESIGNS = ("herald", "herald-restart", "seed", "seed:30", "apscheduler")
# Designs run once only (SQLite, smallest count): they show a behaviour, not a scaling.
ONCE = ("herald-restart", "seed:30")
PROFILES = ROOT / "bench" / "profiles"
# Seconds per stored item, to start the spread after the setup (re-measured if wrong).
SETUP_ESTIMATE = {
    ("herald", "sqlite"): 0.0004,
    ("herald", "mongo"): 0.003,
    ("seed", "sqlite"): 0.0001,
    ("seed", "mongo"): 0.0003,
    ("apscheduler", "sqlite"): 0.0006,
    ("apscheduler", "mongo"): 0.002,
}
LEAD = 5.0  # seconds between the end of the setup (and the start of the scheduler) and the first post


@dataclass
class LagRun:
    design: str
    kind: str
    count: int
    lags: list[float] = field(default_factory=list)
    # (seconds after the first scheduled time, lag) per published post
    pairs: list[tuple[float, float]] = field(default_factory=list)
    setup: float = 0.0
    note: str = ""

    def record(self, called_at: list[tuple[float, float | None]]) -> None:
        """Lags from (scheduled time, publisher call time or None) per post."""
        first = min((scheduled for scheduled, _ in called_at), default=0.0)
        for scheduled, called in sorted(called_at, key=lambda pair: pair[0]):
            if called is not None:
                self.lags.append(called - scheduled)
                self.pairs.append((scheduled - first, called - scheduled))

    def buckets(self, width: float) -> str:
        """p50/p99/max lag per `width` seconds of scheduled time: when the late posts were due."""
        groups: dict[int, list[float]] = {}
        for offset, value in self.pairs:
            groups.setdefault(int(offset // width), []).append(value)
        return ", ".join(
            f"{k * width:g}–{(k + 1) * width:g}s: p99 {percentile(v, 99):.2f}/max {max(v):.2f}"
            for k, v in sorted(groups.items())
        )

    @property
    def missing(self) -> int:
        return self.count - len(self.lags)


class SetupTooSlow(Exception):
    def __init__(self, per_item: float) -> None:
        super().__init__(f"setup took {per_item * 1000:.2f} ms per item")
        self.per_item = per_item


def _base(design: str, kind: str, count: int, per_item: float | None, lead: float = LEAD) -> datetime:
    estimate = per_item if per_item is not None else SETUP_ESTIMATE[(design, kind)]
    return datetime.now(UTC) + timedelta(seconds=lead + count * estimate * 1.5)


def _check_setup(base: datetime, started: float, count: int) -> float:
    setup = time.perf_counter() - started
    if (base - datetime.now(UTC)).total_seconds() < LEAD * 0.6:
        raise SetupTooSlow(setup / count)
    return setup


async def _wait(predicate: Any, deadline: float) -> None:
    while not predicate() and time.time() < deadline:
        await asyncio.sleep(0.05)


async def lag_herald(
    db: Database,
    count: int,
    seconds: float,
    per_item: float | None,
    profile: bool,
    interval: float,
    restart: bool = False,
) -> LagRun:
    """Steady state: the first post is due one SCHEDULER_INTERVAL (+5 s) after start, after the
    sweep that plans its job. `restart`: the bot (`running_bot(poll=True)`, as `python bot.py`)
    starts 5 s before the first post is due, as after a restart or downtime."""
    from storage import build_store
    from tests.fakes.bot_api import FakeBotAPI

    run = LagRun("herald (due right after start)" if restart else "herald", db.kind, count)
    api = FakeBotAPI()
    await api.start()
    settings = herald_settings(api.url, api.token, db, scheduler_interval=interval)
    store = build_store(settings)
    await store.open()
    try:
        base = _base("herald", db.kind, count, per_item, LEAD if restart else LEAD + interval)
        started = time.perf_counter()
        made = await create_posts(store, spread(count, base, seconds))
        run.setup = _check_setup(base, started, count)
        publisher = RecordingPublisher()
        profiler = None
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="disabled", interval=0.002)
            profiler.start()
        async with herald_application(settings, store, publisher, poll=restart):
            deadline = base.timestamp() + seconds + max(60.0, interval * 2)
            await _wait(lambda: len(publisher.called) >= count, deadline)
        if profiler is not None:
            profiler.stop()
            PROFILES.mkdir(exist_ok=True)
            name = f"lag-herald-{db.kind}-{count}"
            (PROFILES / f"{name}.txt").write_text(profiler.output_text(unicode=True, color=False))
            (PROFILES / f"{name}.html").write_text(profiler.output_html())
            log(f"profile written to bench/profiles/{name}.txt")
        run.record([(when.timestamp(), publisher.called.get(post_id)) for post_id, when in made.items()])
    finally:
        await store.close()
        await api.stop()
    return run


def lag_seed(db: Database, count: int, seconds: float, per_item: float | None, interval: float) -> LagRun:
    run = LagRun(f"seed ({interval:g} s loop)", db.kind, count)
    recorder = Recorder(expected=count)
    seed = SeedScheduler(db, recorder, interval=interval)
    seed.table.create()
    base = _base("seed", db.kind, count, per_item)
    times = spread(count, base, seconds)
    started = time.perf_counter()
    seed.table.insert_many(seed_document(f"s{n:06d}", when, n) for n, when in enumerate(times))
    seed.table.close()
    run.setup = _check_setup(base, started, count)
    seed.start()
    recorder.all_done.wait(timeout=max(base.timestamp() + seconds + interval + 60 - time.time(), 1))
    seed.stop()
    run.record([(when.timestamp(), recorder.called.get(f"s{n:06d}")) for n, when in enumerate(times)])
    return run


def lag_aps(db: Database, count: int, seconds: float, per_item: float | None) -> LagRun:
    run = LagRun("apscheduler", db.kind, count)
    recorder = Recorder(expected=count)
    table_ = SeedTable(db)
    table_.create()
    base = _base("apscheduler", db.kind, count, per_item)
    times = spread(count, base, seconds)
    ids = [job_id(n) for n in range(count)]
    started = time.perf_counter()
    table_.insert_many(seed_documents(ids, times))
    table_.close()
    aps = ApsBaseline(db, recorder)
    aps.start()
    aps.add_jobs(zip(ids, times, strict=True))
    run.setup = _check_setup(base, started, count)
    aps.resume()
    recorder.all_done.wait(timeout=max(base.timestamp() + seconds + 60 - time.time(), 1))
    aps.stop()
    run.record([(when.timestamp(), recorder.called.get(post_id)) for post_id, when in zip(ids, times, strict=True)])
    return run


def run_in_fresh_process(design: str, kind: str, count: int, seconds: float, args: argparse.Namespace) -> LagRun:
    """The restart case needs a cold interpreter, as `python bot.py` has: the start-up of a warm one
    (dateparser already loaded by an earlier run) is quicker than what it measures."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run.json"
        command = [
            sys.executable, "-m", "bench.lag", "--designs", design, "--posts", str(count), "--mongo-posts", str(count),
            "--spread", str(seconds), "--stores", kind, "--herald-interval", str(args.herald_interval),
            "--no-write", "--json-out", str(out),
        ]  # fmt: skip
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        data = json.loads(out.read_text())
    run = LagRun(data["design"], kind, count, note=data["note"])
    run.record([(scheduled, called) for scheduled, called in data["called"]])
    return run


def run_design(design: str, kind: str, count: int, seconds: float, args: argparse.Namespace) -> LagRun:
    if design == "herald-restart" and not args.json_out:
        return run_in_fresh_process(design, kind, count, seconds, args)
    per_item: float | None = None
    for _ in range(3):
        try:
            with database(kind) as db:
                if design in ("herald", "herald-restart"):
                    restart = design == "herald-restart"
                    return asyncio.run(
                        lag_herald(db, count, seconds, per_item, args.profile, args.herald_interval, restart)
                    )
                if design.startswith("seed"):
                    interval = float(design.partition(":")[2] or args.seed_interval)
                    return lag_seed(db, count, seconds, per_item, interval)
                return lag_aps(db, count, seconds, per_item)
        except SetupTooSlow as slow:
            log(f"  {slow}; again with a later start")
            per_item = slow.per_item * 1.5
    raise RuntimeError("the setup never finished before the first post")


def main(argv: list[str] | None = None) -> list[LagRun]:
    parser = arguments(__doc__)
    parser.add_argument("--quick", action="store_true", help="200 and 1,000 posts over 10 s")
    parser.add_argument("--posts", default=None, help="comma-separated counts on SQLite (default 1000,10000)")
    parser.add_argument(
        "--mongo-posts", default=None, help="counts on the MongoDB stand-in (default 1000; see RESULTS.md)"
    )
    parser.add_argument("--spread", type=float, default=None, help="seconds the times spread over (60)")
    parser.add_argument(
        "--designs",
        type=listed,
        default=",".join(DESIGNS),
        help="herald, herald-restart, seed, seed:<interval>, apscheduler",
    )
    parser.add_argument("--seed-interval", type=float, default=1.0)
    parser.add_argument("--herald-interval", type=float, default=30.0, help="Herald's SCHEDULER_INTERVAL")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of Herald's process")
    parser.add_argument("--json-out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    counts = [int(c) for c in (args.posts or ("200,1000" if args.quick else "1000,10000")).split(",")]
    mongo_counts = [int(c) for c in (args.mongo_posts or ("200" if args.quick else "1000")).split(",")]
    seconds = args.spread or (10.0 if args.quick else 60.0)
    stores, designs = args.stores, args.designs
    info = machine()
    runs: list[LagRun] = []
    for kind in stores:
        kind_counts = counts if kind == "sqlite" else mongo_counts
        for count in kind_counts:
            for design in designs:
                if design in ONCE and (kind != "sqlite" or count != kind_counts[0]):
                    continue
                log(f"lag: {design} on {kind}, {count:,} posts over {seconds:g} s")
                run = run_design(design, kind, count, seconds, args)
                runs.append(run)
                log(
                    f"  p50 {percentile(run.lags, 50):.3f} s, p99 {percentile(run.lags, 99):.3f} s, "
                    f"max {max(run.lags, default=float('nan')):.3f} s, missing {run.missing}"
                )
                log(f"  by scheduled time: {run.buckets(seconds / 12)}")
    if args.json_out:
        run = runs[0]
        called: list[tuple[float, float | None]] = [(scheduled, scheduled + lag) for scheduled, lag in run.pairs]
        called += [(0.0, None)] * run.missing
        Path(args.json_out).write_text(json.dumps({"design": run.design, "note": run.note, "called": called}))
        return runs
    rows = [
        [
            run.kind,
            run.design,
            f"{run.count:,}",
            percentile(run.lags, 50),
            percentile(run.lags, 99),
            max(run.lags, default=float("nan")),
            min(run.lags, default=float("nan")),
            run.missing,
            run.setup,
        ]
        for run in runs
    ]
    headers = [
        "store",
        "design",
        "posts",
        "p50 lag s",
        "p99 lag s",
        "max lag s",
        "min lag s",
        "not published",
        "setup s",
    ]
    text = table(headers, rows)
    print(text)
    body = (
        f"Posts spread evenly over {seconds:g} s; lag = when the publisher was called − scheduled time "
        "(wall clock, same process). Herald: `bot.running_bot(settings, poll=False)` — the Application's "
        f"JobQueue with scheduler.jobs wiring, SCHEDULER_INTERVAL={args.herald_interval:g} s — with only the "
        "Telegram publisher swapped for a recorder and the report skipped; the posts are stored before it "
        "starts, so its sweep plans their exact-time jobs; the first post is due one interval + 5 s after "
        "start, i.e. after that sweep. *herald (due right after start)*: `running_bot(poll=True)` (as "
        "`python bot.py`) started 5 s before the first post, as after a restart. Seed: its loop at the "
        "interval shown (it ships with 30 s). APScheduler: one date job per post (misfire grace disabled "
        "so late jobs still run). 'not published' = still waiting when the run gave up (end of spread + "
        "60 s). On the MongoDB stand-in only 1,000 posts: CongoDB's per-operation cost grows with the "
        "collection, and no design keeps up with 167 posts/s there — an emulator limit.\n\n" + text
    )
    late = [run for run in runs if percentile(run.lags, 99) > 1.0]
    if late:
        body += "\n\nWhen the late posts were due (p99/max lag per slice of the spread, seconds):\n\n" + "\n".join(
            f"- {run.kind}, {run.design}, {run.count:,}: {run.buckets(seconds / 6)}" for run in late
        )
    if not args.no_write:
        update_results("lag", "Lag: posts spread over a minute", body, info)
    return runs


if __name__ == "__main__":
    main()
