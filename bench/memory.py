"""Memory: peak RSS of a scheduler process with N posts scheduled over the next year.

Herald's process is the real `python bot.py worker` (scheduler and publishers, no polling), with
SCHEDULER_INTERVAL=1 so that its sweep-and-plan loop runs once a second, against an idle fake Bot
API served by this process (for getMe). Baselines: the seed's loop (1 s) and an APScheduler
BackgroundScheduler whose persistent job store holds one date job per post
(bench/memory_child.py). The data is stored beforehand by this process; the measured process only
runs its loop for `--seconds`. Peak = VmHWM of the child from /proc/<pid>/status.

    python -m bench.memory [--quick] [--posts 100000] [--seconds 30] [--stores sqlite,mongo]
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.baselines import ApsBaseline, Recorder, SeedTable, job_id, seed_documents
from bench.common import (
    ROOT,
    Database,
    arguments,
    database,
    herald_post,
    listed,
    log,
    machine,
    opened_herald_store,
    spread,
    table,
    update_results,
)
from bench.herald_parts import bot_env

DESIGNS = ("herald", "herald-empty", "seed", "apscheduler")


@dataclass
class MemoryRun:
    design: str
    kind: str
    count: int
    peak_kib: int = 0
    first_kib: int = 0  # RSS 2 s after start
    last_kib: int = 0
    setup: float = 0.0
    ok: bool = True
    notes: list[str] = field(default_factory=list)


def read_status(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    except (OSError, ValueError):
        pass
    return values


async def populate_herald(db: Database, count: int) -> float:
    async with opened_herald_store(db) as store:
        started = time.perf_counter()
        times = spread(count, datetime.now(UTC) + timedelta(hours=1), 365 * 86400)
        batch = 200
        for start in range(0, count, batch):
            await asyncio.gather(
                *(
                    store.create_post(herald_post(when, start + i))
                    for i, when in enumerate(times[start : start + batch])
                )
            )
    return time.perf_counter() - started


def populate_baseline(design: str, db: Database, count: int) -> float:
    started = time.perf_counter()
    times = spread(count, datetime.now(UTC) + timedelta(hours=1), 365 * 86400)
    table_ = SeedTable(db)
    table_.create()
    ids = [job_id(n) for n in range(count)]
    table_.insert_many(seed_documents(ids, times))
    table_.close()
    if design == "apscheduler":
        aps = ApsBaseline(db, Recorder())
        aps.start()
        aps.add_jobs(zip(ids, times, strict=True))
        aps.stop()
    return time.perf_counter() - started


async def measure(args: list[str], env: dict[str, str], seconds: float, run: MemoryRun) -> None:
    process = await asyncio.create_subprocess_exec(
        *args, env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output: list[str] = []

    async def read() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            output.append(line.decode(errors="replace").rstrip())

    reader = asyncio.create_task(read())
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds and process.returncode is None:
            await asyncio.sleep(0.25)
            status = read_status(process.pid)
            if not status:
                continue
            if not run.first_kib and time.monotonic() - started >= 2:
                run.first_kib = status.get("VmRSS", 0)
            run.last_kib = status.get("VmRSS", 0)
            run.peak_kib = max(run.peak_kib, status.get("VmHWM", 0))
    finally:
        if process.returncode is None:
            status = read_status(process.pid)
            run.peak_kib = max(run.peak_kib, status.get("VmHWM", 0))
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        await reader
    if process.returncode not in (0, -signal.SIGTERM):
        run.ok = False
    problems = [line for line in output if "Traceback" in line or "ERROR" in line or "Error" in line]
    if problems:
        run.ok = False
        run.notes.append("; ".join(problems[:3]))


async def memory_herald(db: Database, count: int, seconds: float, run: MemoryRun) -> None:
    from tests.fakes.bot_api import FakeBotAPI

    if count:
        run.setup = await populate_herald(db, count)
    async with FakeBotAPI() as api:
        env = bot_env(api, db, SCHEDULER_INTERVAL="1")
        await measure([sys.executable, str(ROOT / "bot.py"), "worker"], env, seconds, run)


async def memory_baseline(design: str, db: Database, count: int, seconds: float, run: MemoryRun) -> None:
    run.setup = populate_baseline(design, db, count)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [
        sys.executable, "-m", "bench.memory_child", design, db.kind, str(db.folder), db.mongo_url or "-",
        str(seconds + 5),
    ]  # fmt: skip
    await measure(args, env, seconds, run)


def run_one(design: str, kind: str, count: int, seconds: float) -> MemoryRun:
    posts = 0 if design == "herald-empty" else count
    run = MemoryRun(design, kind, posts)
    with database(kind) as db:
        if design.startswith("herald"):
            asyncio.run(memory_herald(db, posts, seconds, run))
        else:
            asyncio.run(memory_baseline(design, db, posts, seconds, run))
    return run


def main(argv: list[str] | None = None) -> list[MemoryRun]:
    parser = arguments(__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 posts, 15 s")
    parser.add_argument("--posts", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--designs", type=listed, default=",".join(DESIGNS))
    args = parser.parse_args(argv)
    count = args.posts or (10_000 if args.quick else 100_000)
    seconds = args.seconds or (15.0 if args.quick else 30.0)
    info = machine()
    runs: list[MemoryRun] = []
    for kind in args.stores:
        for design in args.designs:
            log(f"memory: {design} on {kind}, {count:,} posts, {seconds:g} s")
            run = run_one(design, kind, count, seconds)
            runs.append(run)
            log(f"  peak {run.peak_kib / 1024:.1f} MiB (setup {run.setup:.1f} s) ok={run.ok} {' '.join(run.notes)}")
    rows: list[list[Any]] = [
        [
            run.kind,
            run.design,
            f"{run.count:,}",
            run.peak_kib / 1024,
            run.first_kib / 1024,
            run.last_kib / 1024,
            run.setup,
            "yes" if run.ok else "NO: " + " ".join(run.notes)[:120],
        ]
        for run in runs
    ]
    headers = [
        "store",
        "process",
        "posts stored",
        "peak RSS MiB",
        "RSS at 2 s MiB",
        "RSS at end MiB",
        "setup s",
        "ran clean",
    ]
    text = table(headers, rows)
    print(text)
    body = (
        f"Each process ran {seconds:g} s over a database holding the posts (times spread over the next "
        "year, from now + 1 h). herald = `python bot.py worker` with SCHEDULER_INTERVAL=1 (a sweep and a "
        "plan every second); herald-empty = the same process over an empty database (the fixed cost of "
        "its imports); seed = its loop every 1 s; apscheduler = BackgroundScheduler over a persistent "
        "job store with one date job per post. Peak = VmHWM from /proc/<pid>/status. With MongoDB the "
        "data lives in the CongoDB process, which is not counted.\n\n" + text
    )
    if not args.no_write:
        update_results("memory", "Memory: a year of scheduled posts", body, info)
    return runs


if __name__ == "__main__":
    main()
