"""scheduler/workers.py with real processes: a worker holding its lock file is alive, one killed
is found dead exactly once however many look, one still joining is never taken for dead, and a
folder that cannot be used costs only the fast takeover."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scheduler.workers import SUFFIX, WorkerRegistry

ROOT = Path(__file__).resolve().parents[2]

# Joins the registry in argv[1] as each worker named after it, says so, and lives on. With
# SLOW_LOCK set, each flock waits first: a joining worker's file exists for a while before its
# lock is taken, as when the machine is busy.
HOLDER = """
import fcntl, os, sys, time
from pathlib import Path
from scheduler.workers import WorkerRegistry

if os.environ.get("SLOW_LOCK"):
    real_flock = fcntl.flock
    def slow_flock(fd, operation):
        time.sleep(float(os.environ["SLOW_LOCK"]))
        return real_flock(fd, operation)
    fcntl.flock = slow_flock
registries = []
for name in sys.argv[2:]:
    registry = WorkerRegistry(Path(sys.argv[1]))
    assert registry.join(name), name
    registries.append(registry)
print("joined", flush=True)
time.sleep(600)
"""

# Waits for a line on stdin, then says which workers of the registry in argv[1] it found dead.
CHECKER = """
import json, sys
from pathlib import Path
from scheduler.workers import WorkerRegistry

registry = WorkerRegistry(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps(registry.dead()), flush=True)
"""


def python(code: str, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@contextmanager
def workers(folder: Path, names: list[str], **env: str) -> Iterator[subprocess.Popen[str]]:
    """A process registered as each of `names` (once it has said "joined"), killed at the end."""
    process = python(HOLDER, str(folder), *names, **env)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def joined(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "joined"


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def lock_files(folder: Path) -> set[str]:
    return {path.name.removesuffix(SUFFIX) for path in WorkerRegistry(folder).directory.glob(f"*{SUFFIX}")}


def test_a_worker_holding_its_lock_is_alive_and_once_killed_is_found_dead_once(tmp_path: Path) -> None:
    looking = WorkerRegistry(tmp_path)
    assert looking.join("looking")
    with workers(tmp_path, ["w-alive"]) as worker:
        joined(worker)
        assert looking.dead() == []
        assert lock_files(tmp_path) == {"looking", "w-alive"}
        kill(worker)
        assert looking.dead() == ["w-alive"]
        assert looking.dead() == []
        assert lock_files(tmp_path) == {"looking"}


def test_checkers_racing_over_killed_workers_find_each_dead_exactly_once(tmp_path: Path) -> None:
    for round_ in range(3):
        names = [f"w{round_}-{n}" for n in range(40)]
        with workers(tmp_path, names) as worker:
            joined(worker)
            kill(worker)
        checkers = [python(CHECKER, str(tmp_path)) for _ in range(4)]
        try:
            for checker in checkers:
                assert checker.stdout is not None and checker.stdout.readline().strip() == "ready"
            for checker in checkers:  # released together
                assert checker.stdin is not None
                checker.stdin.write("go\n")
                checker.stdin.flush()
            found = [json.loads(checker.communicate(timeout=20)[0]) for checker in checkers]
        finally:
            for checker in checkers:
                checker.kill()
                checker.wait()
        counted = Counter(name for names_found in found for name in names_found)
        assert sorted(counted) == sorted(names) and set(counted.values()) == {1}, counted
        assert lock_files(tmp_path) == set()


def test_a_worker_still_joining_is_never_taken_for_dead(tmp_path: Path) -> None:
    looking = WorkerRegistry(tmp_path)
    names = [f"joining-{n}" for n in range(20)]
    found: list[str] = []
    # Each lock is taken 50 ms after its file is made: a checker looks all the while.
    with workers(tmp_path, names, SLOW_LOCK="0.05") as worker:
        assert worker.stdout is not None
        pipe = worker.stdout.fileno()
        os.set_blocking(pipe, False)
        output = b""
        deadline = time.monotonic() + 30
        while b"joined" not in output and worker.poll() is None and time.monotonic() < deadline:
            found += looking.dead()
            with contextlib.suppress(BlockingIOError):
                output += os.read(pipe, 100)
        assert found == [], f"taken for dead while joining: {found}"
        assert b"joined" in output
        assert lock_files(tmp_path) == set(names)
        kill(worker)
        assert sorted(looking.dead()) == sorted(names)


@pytest.mark.parametrize("unusable", ["a file", "a read-only file system"])
def test_a_folder_that_cannot_be_written_makes_join_say_so_without_raising(
    tmp_path: Path, unusable: str, caplog: pytest.LogCaptureFixture
) -> None:
    if unusable == "a file":
        data = tmp_path / "data"
        data.write_text("not a folder")  # where the data folder should be
        folder = data / "workers"
    else:
        folder = Path("/proc/self/herald-workers")  # refused even to root
    registry = WorkerRegistry(folder)
    with caplog.at_level(logging.WARNING, logger="scheduler.workers"):
        assert registry.join("w-1") is False
    assert [r.getMessage() for r in caplog.records if "cannot register this worker" in r.getMessage()] != []
    assert registry.dead() == []
    registry.leave()
