"""Fixtures shared by every test: the MongoDB stand-in and a Store of each kind."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography.fernet import Fernet

from storage.base import Store
from storage.crypto import CredentialCipher
from storage.mongo import MongoStore
from storage.sqlite import SQLiteStore
from tests.fakes.mongo_standin import mongo_server

STORE_KINDS = ["sqlite", "mongo"]
_database_numbers = itertools.count()
AnyStore = TypeVar("AnyStore", bound=Store)


@pytest.fixture(scope="session")
def mongo_base_url() -> Iterator[str]:
    """The MongoDB stand-in for the whole run; if it cannot start, every Mongo test errors."""
    with mongo_server() as url:
        yield url


@pytest.fixture
def encryption_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def mongo_url(request: pytest.FixtureRequest, mongo_base_url: str) -> str:
    """A URL naming a database of this test's own."""
    number = next(_database_numbers)
    return f"{mongo_base_url}/herald_test_{number}"


@asynccontextmanager
async def opened(store: AnyStore) -> AsyncIterator[AnyStore]:
    """`store` open for the block, and closed after it whatever happens inside."""
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def make_store(kind: str, tmp_path: Path, key: str, request: pytest.FixtureRequest) -> Store:
    cipher = CredentialCipher(key)
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "herald.db", cipher)
    url = request.getfixturevalue("mongo_url")
    return MongoStore(url, cipher)


@pytest.fixture(params=STORE_KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path, encryption_key: str) -> AsyncIterator[Store]:
    """An opened, empty Store of each kind."""
    async with opened(make_store(request.param, tmp_path, encryption_key, request)) as ready:
        yield ready


@pytest.fixture
async def sqlite_store(tmp_path: Path, encryption_key: str) -> AsyncIterator[SQLiteStore]:
    """An opened, empty SQLite store (for tests of one store kind)."""
    async with opened(SQLiteStore(tmp_path / "herald.db", CredentialCipher(encryption_key))) as ready:
        yield ready


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first: with several workers (`make test` runs two) each runs beside the
    others instead of after them."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Says how many tests ran against MongoDB, so a run shows they were not skipped."""
    outcomes: dict[str, int] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if "mongo" in getattr(report, "nodeid", "").lower() and getattr(report, "when", "call") == "call":
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
    where = "MONGODB_TEST_URL" if os.environ.get("MONGODB_TEST_URL") else "the CongoDB stand-in"
    summary = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items()) or "none ran"
    terminalreporter.write_line(f"MongoDB tests against {where}: {summary}")
