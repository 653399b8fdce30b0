"""Fixtures of the unit tests: a spy on SQLiteStore's group commit."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import pytest

from storage import sqlite as sqlite_module


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every group the store sends to its thread."""
    sizes: list[int] = []
    original = sqlite_module._write_group

    def spy(conn: sqlite3.Connection, writes: Sequence[tuple[str, tuple[Any, ...]]]) -> list[int | Exception]:
        sizes.append(len(writes))
        return original(conn, writes)

    monkeypatch.setattr(sqlite_module, "_write_group", spy)
    return sizes
