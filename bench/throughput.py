"""Throughput: N posts all due now, pushed through claim → publish (no-op) → record → finish.

Herald: `Publication.sweep()` with a recording no-op publisher and a no-op report, on its real
store. Beside it, in the same run: the seed's loop (`run_once`: read all due posts, publish one
after another, update each status) and APScheduler (one date job per post, all due, persistent job
store). Each design runs `--repeat` times, interleaved, on a fresh database each time; medians.

    python -m bench.throughput [--quick] [--posts 10000] [--repeat 3] [--stores sqlite,mongo] [--profile]
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.baselines import ApsBaseline, Recorder, SeedScheduler, SeedTable, job_id, seed_document, seed_documents
from bench.common import (
    ROOT,
    arguments,
    database,
    herald_post,
    listed,
    log,
    machine,
    median,
    opened_herald_store,
    spread,
    table,
    update_results,
)
from bench.herald_parts import RecordingPublisher

DESIGNS = ("herald", "seed", "apscheduler")
PROFILES = ROOT / "bench" / "profiles"


def bot_concurrency() -> int:
    """Posts the bot publishes at once (PUBLISH_CONCURRENCY's default): the sweep runs as in the bot."""
    from config import Settings

    default = Settings.model_fields["publish_concurrency"].default
    assert isinstance(default, int)
    return default


async def run_herald(kind: str, count: int, profile: bool, latency: float = 0.0) -> dict[str, Any]:
    from scheduler.engine import Publication
    from storage.models import Platform, PostStatus

    with database(kind) as db:
        async with opened_herald_store(db) as store:
            times = spread(count, datetime.now(UTC) - timedelta(seconds=10), 5)
            started = time.perf_counter()
            for number, when in enumerate(times):
                await store.create_post(herald_post(when, number))
            setup = time.perf_counter() - started
            publisher = RecordingPublisher(latency)
            publication = Publication(store, {Platform.TELEGRAM: publisher}, concurrency=bot_concurrency())
            profiler = None
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="enabled")
                profiler.start()
            started = time.perf_counter()
            handled = await publication.sweep()
            elapsed = time.perf_counter() - started
            if profiler is not None:
                profiler.stop()
                PROFILES.mkdir(exist_ok=True)
                path = PROFILES / f"throughput-herald-{kind}.txt"
                path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
                (PROFILES / f"throughput-herald-{kind}.html").write_text(profiler.output_html())
                log(f"profile written to {path}")
            left = await store.scheduled_posts(until=datetime.now(UTC) + timedelta(days=1), limit=10)
            sample = await store.load_post(next(iter(publisher.called))) if publisher.called else None
            ok = (
                handled == count
                and len(publisher.called) == count
                and not left
                and sample is not None
                and sample.status is PostStatus.PUBLISHED
            )
    return {"elapsed": elapsed, "setup": setup, "done": len(publisher.called), "ok": ok}


def run_seed(kind: str, count: int, latency: float = 0.0) -> dict[str, Any]:
    with database(kind) as db:
        recorder = Recorder(latency=latency)
        seed = SeedScheduler(db, recorder)
        seed.table.create()
        times = spread(count, datetime.now(UTC) - timedelta(seconds=10), 5)
        started = time.perf_counter()
        seed.table.insert_many(seed_document(f"s{n:06d}", when, n) for n, when in enumerate(times))
        setup = time.perf_counter() - started
        started = time.perf_counter()
        handled = seed.run_once()
        elapsed = time.perf_counter() - started
        ok = handled == count and seed.table.count("published") == count
        seed.table.close()
    return {"elapsed": elapsed, "setup": setup, "done": len(recorder.called), "ok": ok}


def run_aps(kind: str, count: int, latency: float = 0.0) -> dict[str, Any]:
    with database(kind) as db:
        recorder = Recorder(expected=count, latency=latency)
        table_ = SeedTable(db)
        table_.create()
        times = spread(count, datetime.now(UTC) - timedelta(seconds=10), 5)
        ids = [job_id(n) for n in range(count)]
        table_.insert_many(seed_documents(ids, times))
        table_.close()
        aps = ApsBaseline(db, recorder)
        started = time.perf_counter()
        aps.start()
        aps.add_jobs(zip(ids, times, strict=True))
        setup = time.perf_counter() - started
        started = time.perf_counter()
        aps.resume()
        finished = recorder.all_done.wait(timeout=max(600, count / 5))
        elapsed = time.perf_counter() - started
        aps.stop()
        checker = SeedTable(db)
        ok = finished and checker.count("published") == count
        checker.close()
    return {"elapsed": elapsed, "setup": setup, "done": len(recorder.called), "ok": ok}


def run_one(design: str, kind: str, count: int, profile: bool, latency: float = 0.0) -> dict[str, Any]:
    if design == "herald":
        return asyncio.run(run_herald(kind, count, profile, latency))
    if design == "seed":
        return run_seed(kind, count, latency)
    return run_aps(kind, count, latency)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = arguments(__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 posts (500 on MongoDB), one round")
    parser.add_argument("--posts", type=int, default=None, help="posts on SQLite (default 10,000)")
    parser.add_argument(
        "--mongo-posts", type=int, default=None, help="posts on the MongoDB stand-in (default 2,000, see below)"
    )
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--designs", type=listed, default=",".join(DESIGNS))
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of Herald's sweep")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="each publish takes this long, as a platform request would (own section of RESULTS.md)",
    )
    args = parser.parse_args(argv)
    latency = args.latency_ms / 1000
    counts = {
        "sqlite": args.posts or (1000 if args.quick else 10_000),
        "mongo": args.mongo_posts or (500 if args.quick else 2_000),
    }
    repeat = args.repeat or (1 if args.quick else 3)
    stores, designs = args.stores, args.designs
    info = machine()
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for kind in stores:
        count = counts[kind]
        for round_ in range(repeat):
            for design in designs:
                log(f"throughput: {design} on {kind}, {count:,} posts, round {round_ + 1}/{repeat}")
                outcome = run_one(design, kind, count, args.profile and round_ == 0, latency)
                log(f"  {count / outcome['elapsed']:,.0f} posts/s ({outcome['elapsed']:.2f} s; ok={outcome['ok']})")
                results.setdefault((kind, design), []).append(outcome)
    rows = []
    rates: dict[tuple[str, str], float] = {}
    for kind in stores:
        count = counts[kind]
        for design in designs:
            runs = results[(kind, design)]
            per_run = [count / r["elapsed"] for r in runs]
            rates[(kind, design)] = median(per_run)
        herald_rate = rates.get((kind, "herald"))
        for design in designs:
            runs = results[(kind, design)]
            per_run = [count / r["elapsed"] for r in runs]
            rate = rates[(kind, design)]
            ratio = f"{herald_rate / rate:.2f}×" if herald_rate and design != "herald" else "—"
            rows.append(
                [
                    kind,
                    design,
                    f"{count:,}",
                    rate,
                    f"{min(per_run):,.0f}–{max(per_run):,.0f}",
                    median([r["elapsed"] for r in runs]),
                    median([r["setup"] for r in runs]),
                    ratio,
                    "yes" if all(r["ok"] for r in runs) else "NO",
                ]
            )
    headers = [
        "store", "design", "posts", "posts/s (median)", "range", "seconds", "setup s", "Herald ÷ this", "all published",
    ]  # fmt: skip
    text = table(headers, rows)
    print(text)
    waits = (
        f"each publish takes {args.latency_ms:g} ms (a sleep standing in for the platform's answer)"
        if latency
        else "a no-op publisher"
    )
    body = (
        f"Posts all due, {repeat} round(s) per design, interleaved, fresh database each time; medians; "
        f"{waits}. Herald: `Publication.sweep()` as the bot runs it (PUBLISH_CONCURRENCY={bot_concurrency()}; "
        "per post: claim (in batches) → record `sending` → publish → finish with the outcome → mark "
        "notified, the fenced writes of concurrent posts group-committed) and a no-op report. Seed: one "
        "`run_once()` of its loop (one post after another). APScheduler: BackgroundScheduler (its default "
        "pool of 10 threads) resumed with every date job due; time until the last job wrote its status. "
        "Storing the posts/jobs (setup) is not in the rate. On the MongoDB stand-in "
        f"{counts['mongo']:,} posts instead of 10,000: CongoDB's cost per operation grows with the "
        "collection (it scans), so 10,000 posts took Herald over 15 minutes there — a property of the "
        "emulator, not of MongoDB.\n\n" + text
    )
    if not args.no_write:
        if latency:
            title = f"Throughput with a {args.latency_ms:g} ms publisher: posts all due now"
            update_results("throughput-latency", title, body, info)
        else:
            update_results("throughput", "Throughput: posts all due now", body, info)
    ok = {key: all(r["ok"] for r in runs) for key, runs in results.items()}
    return {"rates": rates, "counts": counts, "ok": ok}


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
