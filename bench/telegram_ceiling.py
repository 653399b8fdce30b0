"""Telegram ceiling: P album posts to C channels through the fake Bot API with `enforce_limits=True`
(Telegram's limits as the fake applies them: 30 messages/s per bot, 20 messages/min per group or
channel, 1/s per private chat — sliding windows; every photo of an album counts as a message).

The real `python bot.py` (own process) with Herald's real settings: TELEGRAM_MESSAGES_PER_SECOND=30,
TELEGRAM_GROUP_MESSAGES_PER_MINUTE=20, SCHEDULER_INTERVAL=30, CLAIM_LEASE=60. The posts (album of
`--photos` photos each; post i goes to channel i mod C) are stored before the bot starts, all due
at the same moment T0 a few seconds after start (as a campaign at 09:00 would be).

The ceiling is computed, not assumed: the fewest seconds in which the same albums can reach the
same channels under the fake's exact windows (a greedy schedule, simulated), so achieved ÷ ceiling
is the share of Telegram's capacity Herald used. Owners' reports go to private chats and share
the 30/s budget; they are counted apart.

    python -m bench.telegram_ceiling [--quick] [--posts 600] [--channels 30] [--photos 2]
                                     [--owners per-channel|one] [--stores sqlite,mongo] [--budget 300]
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bench.common import (
    ROOT,
    arguments,
    database,
    listed,
    log,
    machine,
    opened_herald_store,
    table,
    telegram_post,
    update_results,
)
from bench.herald_parts import bot_env, bot_process
from bench.timed_api import TimedBotAPI

FIRST_CHANNEL = -1_003_000_000_001
FIRST_OWNER = 610_001
START_AFTER = 35.0  # seconds from the bot's start to T0 (after its first sweep at 30 s)


def ideal_seconds(
    albums_per_channel: list[int],
    photos: int,
    per_bot: int = 30,
    bot_window: float = 1.0,
    per_chat: int = 20,
    chat_window: float = 60.0,
    step: float = 0.01,
    reports: int = 0,
) -> float:
    """Time from T0 to the last album, sending each album as soon as the fake's windows allow
    (round robin over channels); the fake lets an album into an empty window whatever its size.
    `reports`: messages to other chats (the owner's report) that each album also costs in the
    per-bot window."""
    remaining = list(albums_per_channel)
    sent_bot: list[float] = []
    sent_chat: list[list[float]] = [[] for _ in remaining]
    t, last, turn = 0.0, 0.0, 0
    channels = len(remaining)
    while any(remaining):
        sent_bot = [s for s in sent_bot if s > t - bot_window]
        for offset in range(channels):
            c = (turn + offset) % channels
            if not remaining[c]:
                continue
            window = sent_chat[c] = [s for s in sent_chat[c] if s > t - chat_window]
            if sent_bot and len(sent_bot) + photos + reports > per_bot:
                break
            if window and len(window) + photos > per_chat:
                continue
            sent_bot.extend([t] * (photos + reports))
            window.extend([t] * photos)
            remaining[c] -= 1
            last = t
        turn += 1
        t = round(t + step, 6)
    return last


@dataclass
class CeilingRun:
    kind: str
    owners: str
    posts: int
    channels: int
    photos: int
    t0: float = 0.0
    first: float = 0.0
    last: float = 0.0
    channel_messages: int = 0
    report_messages: int = 0
    rate_limited: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    finished_in_budget: bool = False
    ideal: float = 0.0  # with the owners' reports in the per-bot window
    ideal_channels_only: float = 0.0
    notes: list[str] = field(default_factory=list)
    limited: dict[tuple[str, int], int] = field(default_factory=dict)
    bot_log: str = ""


async def measure(kind: str, posts: int, channels: int, photos: int, owners_mode: str, budget: float) -> CeilingRun:
    from storage.models import Image, utc_now
    from tests.fakes.bot_api import jpeg_bytes

    run = CeilingRun(kind, owners_mode, posts, channels, photos)
    channel_ids = [FIRST_CHANNEL - n for n in range(channels)]
    owners = [FIRST_OWNER + n for n in range(channels)] if owners_mode == "per-channel" else [FIRST_OWNER]
    with database(kind) as db:
        async with TimedBotAPI(enforce_limits=True) as api, opened_herald_store(db) as store:
            for owner in owners:
                api.add_user(owner, f"Owner {owner}")
            for n, chat_id in enumerate(channel_ids):
                api.add_chat(chat_id, "channel", f"Channel {n + 1}")
                api.set_member(chat_id, owners[n % len(owners)], "administrator")
            images = [
                Image(name=f"p{n}.jpg", blob_id=await store.put_image(jpeg_bytes(320, 240, tag=bytes([n]))))
                for n in range(photos)
            ]
            env = bot_env(
                api,
                db,
                TELEGRAM_MESSAGES_PER_SECOND="30",
                TELEGRAM_GROUP_MESSAGES_PER_MINUTE="20",
                SCHEDULER_INTERVAL="30",
            )
            async with bot_process(env, log_path=db.folder / "bot.log"):
                await api.wait_for(lambda: api.calls_of("getUpdates"), timeout=60, what="bot polling")
                # Due after the bot's first sweep (≈ SCHEDULER_INTERVAL after start), which plans the
                # exact-time jobs of posts stored behind its back — see the lag benchmark's restart row.
                t0 = utc_now() + timedelta(seconds=START_AFTER)
                ids: list[str] = []
                for number in range(posts):
                    chat_id = channel_ids[number % channels]
                    owner = owners[(number % channels) % len(owners)]
                    album = [Image(i.name, i.blob_id, caption=f"photo {j}") for j, i in enumerate(images)]
                    channel = {chat_id: f"Channel {number % channels + 1}"}
                    post = telegram_post(owner, channel, f"Album {number}", t0, album)
                    ids.append((await store.create_post(post)).post_id)
                run.t0 = t0.timestamp()
                deadline = run.t0 + budget
                while time.time() < deadline:
                    await asyncio.sleep(2.0)
                    finals = 0
                    for post_id in ids:
                        stored = await store.load_post(post_id)
                        if stored is not None and stored.status.is_final:
                            finals += 1
                    if finals == len(ids):
                        run.finished_in_budget = True
                        break
                await asyncio.sleep(1.0)
            for post_id in ids:
                final = await store.load_post(post_id)
                if final is None:
                    continue
                run.statuses[final.status.value] += 1
                for delivery in final.deliveries.values():
                    if delivery.status.value != "sent":
                        run.errors[f"{delivery.status.value} {delivery.error_code}"] += 1
        # monotonic stamps of the fake → wall clock
        offset = time.time() - time.monotonic()
        stamps = sorted(item.at + offset for chat_id in channel_ids for item in api.shown.get(chat_id, []))
        run.channel_messages = len(stamps)
        run.first, run.last = (stamps[0], stamps[-1]) if stamps else (0.0, 0.0)
        run.report_messages = sum(len(api.shown.get(owner, [])) for owner in owners)
        run.rate_limited = api.rate_limited
        run.limited = dict(api.limited)
        run.bot_log = db.folder.name
        kept = ROOT / "bench" / "logs"
        kept.mkdir(exist_ok=True)
        (kept / f"ceiling-{kind}-{owners_mode}.log").write_text((db.folder / "bot.log").read_text(errors="replace"))
        log_text = (db.folder / "bot.log").read_text(errors="replace")
        for marker in ("Traceback", "Rate limit hit", "could not report"):
            if marker in log_text:
                run.notes.append(f"bot log: {log_text.count(marker)}× {marker!r}")
    per_channel = [len(range(n, posts, channels)) for n in range(channels)]
    run.ideal = ideal_seconds(per_channel, photos, reports=1)
    run.ideal_channels_only = ideal_seconds(per_channel, photos)
    return run


def _limited(run: CeilingRun) -> str:
    return ", ".join(f"{kind}×{count}: {n}" for (kind, count), n in sorted(run.limited.items())) or "—"


def main(argv: list[str] | None = None) -> list[CeilingRun]:
    parser = arguments(__doc__)
    parser.add_argument("--quick", action="store_true", help="120 posts to 30 channels")
    parser.add_argument("--posts", type=int, default=None)
    parser.add_argument("--channels", type=int, default=30)
    parser.add_argument("--photos", type=int, default=2)
    parser.add_argument("--owners", type=listed, default="per-channel", help="per-channel, one, or both (a,b)")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds after T0 before giving up")
    args = parser.parse_args(argv)
    posts = args.posts or (120 if args.quick else 600)
    info = machine()
    runs: list[CeilingRun] = []
    for kind in args.stores:
        for owners in args.owners:
            log(f"ceiling: {posts} albums of {args.photos} to {args.channels} channels, owners {owners}, on {kind}")
            run = asyncio.run(measure(kind, posts, args.channels, args.photos, owners, args.budget))
            runs.append(run)
            log(
                f"  {run.channel_messages} channel messages, {run.rate_limited} 429s {run.limited}, "
                f"{dict(run.statuses)} {run.notes}"
            )
    rows: list[list[Any]] = []
    for run in runs:
        expected = run.posts * run.photos
        took = run.last - run.t0 if run.channel_messages else float("nan")
        achieved = run.channel_messages / took if took and took > 0 else float("nan")
        ceiling_rate = expected / run.ideal if run.ideal else float("nan")
        rows.append(
            [
                run.kind,
                run.owners,
                f"{run.posts}×{run.photos} → {run.channels} ch",
                f"{run.channel_messages}/{expected}",
                took,
                f"{run.ideal:.0f} ({run.ideal_channels_only:.0f})",
                achieved,
                ceiling_rate,
                f"{100 * achieved / ceiling_rate:.0f} %" if ceiling_rate == ceiling_rate else "—",
                f"{100 * achieved / 30:.0f} %",
                f"{run.rate_limited} ({_limited(run)})",
                ", ".join(f"{k} {v}" for k, v in sorted(run.statuses.items())),
                ", ".join(f"{k}: {v}" for k, v in run.errors.most_common(3)) or "—",
                f"{run.report_messages}/{run.posts}",
            ]
        )
    headers = [
        "store", "owners", "load", "channel msgs", "seconds from T0", "ceiling s (albums only)", "achieved msg/s",
        "ceiling msg/s", "of ceiling", "of 30/s", "429s (chat type×msgs: n)", "posts", "not sent", "reports",
    ]  # fmt: skip
    text = table(headers, rows)
    print(text)
    notes = "\n".join(f"- {run.kind}/{run.owners}: {'; '.join(run.notes)}" for run in runs if run.notes)
    body = (
        "Real `python bot.py` with Herald's real limits (30/s, 20/min per group) against the fake Bot API with "
        "`enforce_limits=True`. All posts due at T0, which falls after the bot's first sweep. *ceiling s* = "
        "fewest seconds from T0 in which the same albums and one report per post fit through the fake's "
        "windows (simulated greedy schedule; in brackets without the reports, which share the 30/s); "
        "*ceiling msg/s* = channel messages ÷ ceiling s; *achieved msg/s* = channel "
        "messages ÷ (last channel message − T0). *429s* = answers 429 given by the fake (`api.rate_limited`). "
        "*not sent* = deliveries that did not end `sent`, by status and error code. *reports* = messages "
        "in the owners' private chats.\n\n" + text + (f"\n\n{notes}" if notes else "")
    )
    if not args.no_write:
        title = "Telegram ceiling: albums to channels under Telegram's limits"
        update_results("ceiling", title, body, info)
    return runs


if __name__ == "__main__":
    main()
