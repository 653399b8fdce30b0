"""Bot responsiveness: U simulated people go through the New post conversation at once.

The bot is the real `python bot.py` in its own process (so the simulated people and the fake
server, which run here, do not share its CPU time), polling the fake Bot API served by this
process, with TELEGRAM_MESSAGES_PER_SECOND=3000 and TELEGRAM_GROUP_MESSAGES_PER_MINUTE=6000 as in
tests/e2e (we measure the bot, not our own flood limiter) and the fake's `enforce_limits` off.
Chats as in tests/e2e/test_compose.py's add_chats: "Shop news" (channel) and "Team chat"
(supergroup), both administered by every simulated person, and "Other channel".

Each person: /new → account → Shop news → Done → No images → caption → In 1 hour → Schedule.
The answer time of a step = from the moment the update is queued at the fake server to the
moment the bot's message or edit showing the next step reaches it. Two pacings:
  * paced: each person thinks 1–3 s (uniform) before each step, starting within the first 2 s;
  * burst: no thinking time at all — a stress test of 100 people pressing at the same instant.

    python -m bench.responsiveness [--quick] [--users 100] [--stores sqlite,mongo] [--pacing paced,burst]
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    arguments,
    database,
    listed,
    log,
    machine,
    median,
    opened_herald_store,
    percentile,
    table,
    update_results,
)
from bench.herald_parts import TEST_SERVER_LIMITS, bot_env, bot_process
from bench.pyspy import pyspy_record, summarize
from bench.timed_api import Driver, TimedBotAPI, Timeout

PROFILES = ROOT / "bench" / "profiles"

SHOP, TEAM, OTHER = -1001234567890, -1001234567891, -1001234567892
FIRST_USER = 600_001
ADMIN = 599_999


@dataclass
class Run:
    kind: str
    pacing: str
    users: int
    samples: list[tuple[str, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    round: int = 1
    stored: int = 0
    seconds: float = 0.0
    bot_cpu: float = 0.0  # CPU seconds the bot process used while the people went through
    harness_cpu: float = 0.0  # … and this process (fake Bot API server and the people)


def add_chats(api: TimedBotAPI, users: list[int]) -> None:
    api.add_user(ADMIN, "Admin")
    api.add_chat(SHOP, "channel", "Shop news", username="shopnews")
    api.add_chat(TEAM, "supergroup", "Team chat")
    api.add_chat(OTHER, "channel", "Other channel")
    for user in [ADMIN, *users]:
        api.set_member(SHOP, user, "administrator")
        api.set_member(TEAM, user, "creator" if user == ADMIN else "administrator")
    api.set_member(OTHER, ADMIN, "administrator")
    for chat in (SHOP, TEAM, OTHER):
        api.bot_added_to_chat(chat, ADMIN)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def person(driver: Driver, pacing: str, rng: random.Random) -> None:
    async def think() -> None:
        if pacing == "paced":
            await asyncio.sleep(rng.uniform(1.0, 3.0))

    if pacing == "paced":
        await asyncio.sleep(rng.uniform(0.0, 2.0))
    await driver.say("/new", "Which account")
    await think()
    await driver.press("Telegram (this bot)", "Where should it go?")
    await think()
    await driver.press("Shop news", "selected")
    await think()
    await driver.press("Done (1)", "Send the photos")
    await think()
    await driver.press("No images", "Send its text")
    await think()
    await driver.say(f"Announcement from {driver.user_id}", "step 4 of 5", name="caption")
    await think()
    await driver.press("In 1 hour", "step 5 of 5")
    await think()
    await driver.press("Schedule", "Scheduled #")


async def measure(kind: str, pacing: str, users: int, profile: bool = False) -> Run:
    from storage.models import PostView

    run = Run(kind, pacing, users)
    people = list(range(FIRST_USER, FIRST_USER + users))
    with database(kind) as db:
        async with TimedBotAPI() as api:
            for user in people:
                api.add_user(user, f"Person {user}")
            add_chats(api, people)
            env = bot_env(api, db, **TEST_SERVER_LIMITS)
            async with bot_process(env, log_path=db.folder / "bot.log") as process:
                await api.wait_for(lambda: api.commands and api.pending_updates() == 0, timeout=60, what="bot ready")
                await asyncio.sleep(1.0)
                drivers = [Driver(api, user) for user in people]
                rng = random.Random(7)
                stem = PROFILES / f"responsiveness-{kind}-{pacing}-{users}"
                async with pyspy_record(process.pid, stem) if profile else nullcontext() as sampled:
                    started = time.monotonic()
                    bot_cpu, harness_cpu = process_cpu(process.pid), own_cpu()
                    outcomes = await asyncio.gather(
                        *(person(d, pacing, random.Random(rng.random())) for d in drivers), return_exceptions=True
                    )
                    run.seconds = time.monotonic() - started
                    run.bot_cpu = process_cpu(process.pid) - bot_cpu
                    run.harness_cpu = own_cpu() - harness_cpu
                if sampled is not None:
                    summary = summarize(sampled, top=40)
                    stem.with_suffix(".summary.txt").write_text(summary)
                    log(f"bot profile: {stem.with_suffix('.summary.txt')}")
                for outcome in outcomes:
                    if isinstance(outcome, Timeout | AssertionError):
                        run.failures.append(str(outcome))
                    elif isinstance(outcome, BaseException):
                        raise outcome
                for driver in drivers:
                    run.samples.extend(driver.samples)
                await asyncio.sleep(1.5)  # persistence writes conversation state every second
                if process.returncode is not None:
                    run.failures.append(f"the bot exited with {process.returncode}")
            async with opened_herald_store(db) as store:
                for user in people:
                    run.stored += len((await store.list_posts(user, PostView.UPCOMING)).posts)
            if run.failures:
                log((db.folder / "bot.log").read_text()[-3000:])
    return run


def main(argv: list[str] | None = None) -> list[Run]:
    parser = arguments(__doc__)
    parser.add_argument("--quick", action="store_true", help="20 users")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--pacing", type=listed, default="paced,burst")
    parser.add_argument("--repeat", type=int, default=None, help="rounds per store and pacing (3; quick 1)")
    parser.add_argument("--profile", action="store_true", help="py-spy the bot process (bench/profiles/)")
    args = parser.parse_args(argv)
    users = args.users or (20 if args.quick else 100)
    info = machine()
    runs: list[Run] = []
    repeat = args.repeat or (1 if args.quick else 3)
    for kind in args.stores:
        for round_ in range(repeat):
            for pacing in args.pacing:
                log(f"responsiveness: {users} people, {pacing}, on {kind}, round {round_ + 1}/{repeat}")
                run = asyncio.run(measure(kind, pacing, users, args.profile and round_ == 0))
                run.round = round_ + 1
                runs.append(run)
                times = [t for _, t in run.samples]
                log(
                    f"  p50 {percentile(times, 50) * 1000:.0f} ms, p95 {percentile(times, 95) * 1000:.0f} ms, "
                    f"{len(run.failures)} failed, {run.stored} posts stored"
                )
    rows: list[list[Any]] = []
    step_rows: list[list[Any]] = []
    for run in runs:
        times = [t for _, t in run.samples]
        rows.append(
            [
                run.kind,
                run.pacing,
                run.round,
                run.users,
                len(times),
                percentile(times, 50) * 1000,
                percentile(times, 95) * 1000,
                percentile(times, 99) * 1000,
                max(times, default=float("nan")) * 1000,
                len(times) / run.seconds if run.seconds else 0.0,
                f"{run.stored}/{run.users}",
                len(run.failures),
                f"{100 * run.bot_cpu / run.seconds:.0f} %" if run.seconds else "—",
                f"{100 * run.harness_cpu / run.seconds:.0f} %" if run.seconds else "—",
                f"{1000 * run.bot_cpu / max(len(times), 1):.1f}",
            ]
        )
        steps: dict[str, list[float]] = {}
        for name, value in run.samples:
            steps.setdefault(name if not name.startswith("Announcement") else "caption", []).append(value)
        if run.round == 1:
            for name, values in steps.items():
                step_rows.append(
                    [run.kind, run.pacing, name, percentile(values, 50) * 1000, percentile(values, 95) * 1000]
                )
    headers = [
        "store", "pacing", "round", "people", "answers", "p50 ms", "p95 ms", "p99 ms", "max ms", "updates/s",
        "posts stored", "failed people", "bot CPU", "harness CPU", "bot CPU ms/answer",
    ]  # fmt: skip
    text = table(headers, rows)
    summary_rows = []
    for kind, pacing in dict.fromkeys((run.kind, run.pacing) for run in runs):
        group = [run for run in runs if (run.kind, run.pacing) == (kind, pacing)]
        p95s = [percentile([t for _, t in run.samples], 95) * 1000 for run in group]
        p50s = [percentile([t for _, t in run.samples], 50) * 1000 for run in group]
        cpu = [1000 * run.bot_cpu / max(len(run.samples), 1) for run in group]
        summary_rows.append(
            [kind, pacing, len(group), median(p50s), median(p95s), f"{min(p95s):.0f}–{max(p95s):.0f}", median(cpu)]
        )
    summary = table(
        ["store", "pacing", "rounds", "p50 ms (median)", "p95 ms (median)", "p95 range", "bot CPU ms/answer"],
        summary_rows,
    )
    text = summary + "\n\nEach round:\n\n" + text
    steps_text = table(["store", "pacing", "step", "p50 ms", "p95 ms"], step_rows)
    print(text)
    print(steps_text)
    body = (
        "The real `python bot.py` (own process) polling the fake Bot API served by the benchmark process; "
        "enforce_limits off; TELEGRAM_MESSAGES_PER_SECOND=3000, TELEGRAM_GROUP_MESSAGES_PER_MINUTE=6000. "
        "Answer time = update queued at the fake server → the bot's message/edit showing the next step "
        "arrives there. paced = 1–3 s thinking before each step; burst = none. By step: first round only. "
        "*bot CPU* / *harness CPU* = "
        "share of one core used by the bot process / by the benchmark process (fake server and people) "
        "during the run: on a 2-core machine a busy harness competes with the bot it measures.\n\n"
        + text
        + "\n\nBy step:\n\n"
        + steps_text
    )
    if not args.no_write:
        update_results("responsiveness", "Bot responsiveness: the New post conversation", body, info)
    return runs


if __name__ == "__main__":
    main()
