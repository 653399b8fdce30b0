"""Shared pieces of the hand-run benchmarks: the machine, percentiles, tables, RESULTS.md,
the two databases (a fresh SQLite file, a fresh CongoDB stand-in) and posts to schedule.

Run the benchmarks from the repository root with the project's venv, e.g.
``.venv/bin/python -m bench.run_all --quick``; see bench/README.md."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
STORES = ("sqlite", "mongo")
# One owner and one Telegram channel for the scheduler benchmarks' posts.
OWNER = 700_001
CHANNEL = -1_009_000_000_001


# -- the machine ---------------------------------------------------------------------------------
def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def _node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "absent"


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return {
        "CPU": _cpu_model(),
        "cores": f"{os.cpu_count()} logical ({affinity} usable)",
        "RAM": f"{_ram_gib():.1f} GiB",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": f"{platform.system()} {platform.release()}",
        "node (CongoDB)": _node_version(),
        "Herald revision": _git_revision(),
        "load average at start": load,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def machine_line(info: dict[str, str]) -> str:
    return "; ".join(f"{key}: {value}" for key, value in info.items())


# -- numbers and tables --------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100), linear between closest ranks; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def fmt(value: float | int | str | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    if value != value:  # NaN
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:.{max(digits - 1, 1)}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table that also reads well in a terminal."""
    cells = [[str(h) for h in headers]] + [[c if isinstance(c, str) else fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# -- RESULTS.md ----------------------------------------------------------------------------------
RESULTS_HEADER = """# Herald benchmarks — results

Written by the scripts in `bench/` (see `bench/README.md`); each section is replaced when its
script runs again, and names the machine, the date and the command it came from. Machines are
shared and noisy: compare the ratios inside one section (one run), not absolute numbers across
sections or machines. Numbers on the MongoDB stand-in (CongoDB, an in-memory TypeScript emulator
of the wire protocol) say nothing about a real MongoDB: only Herald-versus-baseline on the same
stand-in in the same run means anything.
"""


def update_results(section: str, title: str, body: str, info: dict[str, str]) -> None:
    """Replaces (or appends) one section of bench/RESULTS.md, naming the command that ran."""
    command = command_line()
    start, end = f"<!-- bench:{section}:start -->", f"<!-- bench:{section}:end -->"
    block = "\n".join(
        [
            start,
            f"## {title}",
            "",
            f"Command: `{command}`  ",
            f"Machine: {machine_line(info)}",
            "",
            body.strip(),
            end,
        ]
    )
    text = RESULTS.read_text() if RESULTS.exists() else RESULTS_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def listed(option: str) -> list[str]:
    """The items of a comma-separated option (`--stores sqlite,mongo`): an argparse `type`."""
    return [item for item in option.split(",") if item]


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's command line, its docstring as the help: with --stores (a list) and --no-write,
    which every benchmark takes; it adds its own options."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=listed, default=",".join(STORES), help="comma-separated: sqlite, mongo")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    return parser


def command_line() -> str:
    args = " ".join(sys.argv[1:])
    module = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else "?"
    return f"python -m bench.{module} {args}".strip()


# -- databases -----------------------------------------------------------------------------------
@dataclass
class Database:
    """Where one benchmark run keeps its data: a fresh SQLite folder or a fresh CongoDB."""

    kind: str  # "sqlite" or "mongo"
    folder: Path
    mongo_url: str | None = None  # without a database name
    # The key of the credentials stored there: every Herald process on this database gets it.
    key: str = field(default_factory=lambda: Fernet.generate_key().decode())

    def herald_url(self, name: str = "herald") -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / (name + '.db')}"
        assert self.mongo_url is not None
        return f"{self.mongo_url}/{name}"

    def sqlite_path(self, name: str) -> Path:
        return self.folder / f"{name}.db"


@contextlib.contextmanager
def database(kind: str) -> Iterator[Database]:
    """A fresh database of `kind` for one run, removed afterwards (CongoDB: a new server)."""
    with tempfile.TemporaryDirectory(prefix=f"herald-bench-{kind}-") as folder:
        if kind == "sqlite":
            yield Database(kind, Path(folder))
            return
        from tests.fakes.mongo_standin import mongo_server

        with mongo_server() as url:
            yield Database(kind, Path(folder), url)


@contextlib.asynccontextmanager
async def opened_herald_store(db: Database) -> AsyncIterator[Any]:
    """A Herald Store on `db`, built as bot.py builds it, open for the block."""
    from config import load_settings
    from storage import build_store

    settings = load_settings(
        telegram_bot_token="1:bench", database_url=db.herald_url(), encryption_key=db.key, _env_file=None
    )
    store = build_store(settings)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


# -- posts ---------------------------------------------------------------------------------------
def spread(count: int, start: datetime, seconds: float) -> list[datetime]:
    """`count` times evenly spread over `seconds` from `start` (millisecond precision)."""
    from datetime import timedelta

    from storage.models import to_millis

    step = seconds / max(count, 1)
    return [to_millis(start + timedelta(seconds=i * step)) for i in range(count)]


def telegram_post(
    owner: int, channels: Mapping[int, str], caption: str, when: datetime, images: list[Any] | None = None
) -> Any:
    """A post of `owner`'s to Telegram channels (id → title), as the New post conversation would store it."""
    from storage.models import Account, Platform, Target, new_post

    account = Account("telegram", owner, Platform.TELEGRAM, "Telegram (this bot)")
    targets = [Target(f"tg{chat_id}", title, str(chat_id), "channel") for chat_id, title in channels.items()]
    return new_post(
        user_id=owner, account=account, targets=targets, main_caption=caption, scheduled_time=when, images=images
    )


def herald_post(when: datetime, number: int, owner: int = OWNER, chat_id: int = CHANNEL) -> Any:
    """A text post to one Telegram channel, as the New post conversation would store it."""
    return telegram_post(owner, {chat_id: "Bench channel"}, f"Bench post {number}", when)


def wall() -> float:
    return time.time()


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
