"""Starts CongoDB (the MongoDB wire-protocol stand-in) for the tests, or names a real MongoDB."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = ROOT / ".congodb" / "serve.mjs"


class StandInUnavailable(RuntimeError):
    """The MongoDB stand-in could not start; the tests that need it must fail, not skip."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def mongo_server() -> Iterator[str]:
    """A MongoDB URL without a database: MONGODB_TEST_URL if set, else a fresh CongoDB."""
    real = os.environ.get("MONGODB_TEST_URL")
    if real:
        yield real.rstrip("/")
        return
    if not SERVER_SCRIPT.exists():
        raise StandInUnavailable(f"{SERVER_SCRIPT} is missing: run `bash scripts/install-congodb.sh` (make test does)")
    port = free_port()
    process = subprocess.Popen(
        ["node", str(SERVER_SCRIPT), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening"):
            raise StandInUnavailable(f"CongoDB did not start: {line.strip() or process.poll()}")
        yield f"mongodb://127.0.0.1:{port}"
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
