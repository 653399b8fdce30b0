"""Sampling another process with py-spy (`pip install py-spy`), and a plain-text summary of it.

async with pyspy_record(pid, ROOT / "bench/profiles/x"):   # writes x.txt (collapsed stacks)
    ...
print(summarize(ROOT / "bench/profiles/x.txt"))
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.common import ROOT, log
from tests.fakes.local_server import stop_process


def _py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


@asynccontextmanager
async def pyspy_record(pid: int, stem: Path, rate: int = 250) -> AsyncIterator[Path | None]:
    """Samples `pid` (idle frames left out) until the block ends; yields the collapsed-stack file."""
    tool = _py_spy()
    if tool is None:
        log("py-spy is not installed: .venv/bin/pip install py-spy")
        yield None
        return
    stem.parent.mkdir(parents=True, exist_ok=True)
    path = stem.with_suffix(".collapsed")
    process = await asyncio.create_subprocess_exec(
        tool, "record", "-p", str(pid), "-r", str(rate), "--format", "raw", "-o", str(path), "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield path
    finally:
        await stop_process(process, signal.SIGINT, grace=30)


def summarize(path: Path, top: int = 25, prefixes: tuple[str, ...] = ()) -> str:
    """Inclusive share of samples per function (file:line of its definition is not known to raw
    output, so `function (file)`), the top `top`; only frames whose file contains a prefix when given."""
    if not path.exists():
        return f"(no profile at {path})"
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in stack.split(";") if f]
        seen: set[str] = set()
        for frame in frames:
            name = _short(frame)
            if prefixes and not any(p in frame for p in prefixes):
                continue
            if name not in seen:
                inclusive[name] += count
                seen.add(name)
        if frames:
            own[_short(frames[-1])] += count
    if not total:
        return "(no samples)"
    lines = [f"{total} samples (active threads only)", "", "inclusive %  function (file)"]
    lines += [f"{100 * n / total:10.1f}  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "self %  function (file)"]
    lines += [f"{100 * n / total:6.1f}  {name}" for name, n in own.most_common(12)]
    return "\n".join(lines)


def _short(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    file, _, _line = where.rpartition(":")
    root = str(ROOT) + "/"
    if file.startswith(root):
        file = file[len(root) :]
    elif "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    return f"{name} ({file})"
