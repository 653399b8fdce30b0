"""Takeover after a crash: `python bot.py` killed (SIGKILL) in the middle of publishing, then
started again; the time from the restart to the first resumed publication.

Each run stores `--posts` posts, due now, to two channels each, and starts the bot on them with
PUBLISH_CONCURRENCY = posts and SCHEDULER_INTERVAL=1. The fake Bot API holds the answers to the
first channel's messages (each message is posted, its answer late), so every publication has a
request in flight when the process is killed. The same command is then started again:

* *same DATA_DIR* — it finds the dead process's lock file in DATA_DIR/workers and takes its posts
  over at once (scheduler/workers.py);
* *other DATA_DIR* — it cannot see that file, as a process on another machine could not: the
  posts are taken over when their claims' lease (CLAIM_LEASE) runs out.

Measured from spawning the new process (wall clock): its first request to the Bot API (start-up),
the first message to the second channel (the first resumed publication), and every interrupted
post final (its cut-off request unconfirmed, the second channel sent). Runs of each kind are
interleaved, each on a fresh database; medians.

    python -m bench.takeover [--runs 3] [--posts 20] [--lease 10] [--stores sqlite,mongo] [--no-write]
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.common import (
    OWNER,
    arguments,
    database,
    log,
    machine,
    median,
    opened_herald_store,
    table,
    telegram_post,
    update_results,
)
from bench.herald_parts import TEST_SERVER_LIMITS, bot_env, bot_process

FIRST_CHANNEL, SECOND_CHANNEL = -1_009_100_000_001, -1_009_100_000_002
# Longer than the kill takes to come, shorter than python-telegram-bot's read timeout (5 s): no
# request times out before the process dies.
HOLD = 4.0
DEFAULT_LEASE = 60.0  # CLAIM_LEASE's default


@dataclass
class Mode:
    name: str  # what the restarted process is given
    same_data_dir: bool
    lease: float


@dataclass
class Run:
    kind: str
    mode: Mode
    posts: int
    interrupted: int = 0
    startup: float = float("nan")
    resumed: float = float("nan")
    final: float = float("nan")
    lease_left: float = float("nan")
    twice: int = 0
    statuses: Counter[str] = field(default_factory=Counter)


def _chat(params: dict[str, Any]) -> int | None:
    try:
        return int(params.get("chat_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


async def one_run(kind: str, mode: Mode, posts: int) -> Run:
    """Kills a bot mid-publish and restarts it as `mode` says; what the restart took."""
    from storage.models import utc_now
    from tests.fakes.bot_api import FakeBotAPI

    run = Run(kind, mode, posts)
    with database(kind) as db:
        async with FakeBotAPI() as api, opened_herald_store(db) as store:
            api.add_user(OWNER, "Owner")
            channels = {FIRST_CHANNEL: "Channel 1", SECOND_CHANNEL: "Channel 2"}
            for chat_id, title in channels.items():
                api.add_chat(chat_id, "channel", title)
                api.set_member(chat_id, OWNER, "administrator")
            ids = []
            for number in range(posts):
                post = telegram_post(OWNER, channels, f"Takeover post {number}", utc_now())
                ids.append((await store.create_post(post)).post_id)

            def env(data_dir: str) -> dict[str, str]:
                return bot_env(
                    api,
                    db,
                    DATA_DIR=str(db.folder / data_dir),
                    SCHEDULER_INTERVAL="1",
                    CLAIM_LEASE=f"{mode.lease:g}",
                    PUBLISH_CONCURRENCY=str(posts),
                    **TEST_SERVER_LIMITS,
                )

            api.delay("sendMessage", HOLD, times=posts)
            async with bot_process(env("data"), log_path=db.folder / "first.log") as first:
                await api.wait_for(lambda: len(api.calls_of("sendMessage")) >= posts, timeout=60, what="all sending")
                first.send_signal(signal.SIGKILL)
                await first.wait()
            api.clear_faults()
            held = [await store.load_post(post_id) for post_id in ids]
            claims = [post.claim for post in held if post is not None and post.claim is not None]
            run.interrupted = len(claims)

            async def all_final() -> bool:
                for post_id in ids:
                    post = await store.load_post(post_id)
                    if post is None or not post.status.is_final:
                        return False
                return True

            calls_before = len(api.calls)
            spawned = time.time()
            run.lease_left = min(claim.lease_until.timestamp() for claim in claims) - spawned if claims else 0.0
            again = env("data" if mode.same_data_dir else "elsewhere")
            async with bot_process(again, log_path=db.folder / "restart.log"):
                deadline = spawned + mode.lease + 60
                while time.time() < deadline and not await all_final():
                    await asyncio.sleep(0.05)
                if time.time() < deadline:
                    run.final = time.time() - spawned
            offset = time.time() - time.monotonic()
            later = api.calls[calls_before:]
            if later:
                run.startup = later[0].at + offset - spawned
            resumed = [c.at + offset for c in later if c.method == "sendMessage" and _chat(c.params) == SECOND_CHANNEL]
            if resumed:
                run.resumed = min(resumed) - spawned
            for chat_id in (FIRST_CHANNEL, SECOND_CHANNEL):
                counted = Counter(str(m.get("text")) for m in api.bot_messages(chat_id))
                run.twice += sum(1 for n in counted.values() if n > 1)
            for post_id in ids:
                final = await store.load_post(post_id)
                for delivery in final.deliveries.values() if final else ():
                    run.statuses[delivery.status.value] += 1
    return run


def _range(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}" if values else "—"


def main(argv: list[str] | None = None) -> list[Run]:
    parser = arguments(__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--lease", type=float, default=10.0, help="CLAIM_LEASE of the short-lease runs")
    args = parser.parse_args(argv)
    info = machine()
    modes = [
        Mode("same DATA_DIR", True, DEFAULT_LEASE),
        Mode("same DATA_DIR", True, args.lease),
        Mode("other DATA_DIR", False, args.lease),
    ]
    runs: list[Run] = []
    for kind in args.stores:
        for number in range(args.runs):
            for mode in modes:
                log(f"takeover: {kind}, {mode.name}, lease {mode.lease:g} s, run {number + 1}/{args.runs}")
                run = asyncio.run(one_run(kind, mode, args.posts))
                log(
                    f"  start-up {run.startup:.2f} s, first resumed {run.resumed:.2f} s, all final {run.final:.2f} s, "
                    f"lease left {run.lease_left:.1f} s, {dict(run.statuses)}"
                )
                runs.append(run)
    rows: list[list[Any]] = []
    for kind in args.stores:
        for mode in modes:
            mine = [run for run in runs if run.kind == kind and run.mode == mode]
            resumed = [run.resumed for run in mine if run.resumed == run.resumed]
            statuses: Counter[str] = Counter()
            for run in mine:
                statuses.update(run.statuses)
            rows.append(
                [
                    kind,
                    mode.name,
                    f"{mode.lease:g}",
                    len(mine),
                    f"{sum(run.interrupted for run in mine)}/{sum(run.posts for run in mine)}",
                    median([run.startup for run in mine]),
                    median(resumed),
                    _range(resumed),
                    median([run.resumed - run.startup for run in mine if run.resumed == run.resumed]),
                    median([run.final for run in mine]),
                    median([run.lease_left for run in mine]),
                    sum(run.twice for run in mine),
                    ", ".join(f"{status} {n}" for status, n in sorted(statuses.items())),
                ]
            )
    headers = [
        "store", "restart with", "CLAIM_LEASE s", "runs", "posts cut off", "start-up s", "first resumed s",
        "range", "after start-up s", "all final s", "lease left at restart s", "sent twice", "deliveries",
    ]  # fmt: skip
    text = table(headers, rows)
    print(text)
    body = (
        f"`python bot.py` publishing {args.posts} posts (two channels each, PUBLISH_CONCURRENCY={args.posts}, "
        "SCHEDULER_INTERVAL=1) is killed with SIGKILL while every publication has its first channel's "
        "request in flight (the fake Bot API posts each message and holds its answer), then started again "
        "at once. Times from spawning the new process: *start-up* = its first Bot API request; *first "
        "resumed* = its first message to the second channel (*after start-up*: the same, less the start-up); "
        "*all final* = every interrupted post final (the cut-off request unconfirmed, the second channel "
        "sent). *same DATA_DIR*: the restart finds the dead process's lock file and takes its posts over "
        "at its first sweep (at start); *other DATA_DIR*: it cannot (as on another machine) and waits for "
        "the claims' lease; *lease left* = how much of it remained at the restart. "
        f"{args.runs} run(s) of each, interleaved, fresh database each; medians.\n\n" + text
    )
    if not args.no_write:
        update_results("takeover", "Takeover: restart after SIGKILL mid-publish", body, info)
    return runs


if __name__ == "__main__":
    main()
