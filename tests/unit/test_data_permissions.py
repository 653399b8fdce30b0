"""The data folder and the files in it are the owner's alone: the folder 0700, the database, its
-wal and -shm files and the key 0600, whether Herald creates them or finds them open to others."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import load_settings
from storage import build_store
from storage.crypto import KEY_FILE_NAME, CredentialCipher, load_or_create_key
from storage.sqlite import SQLiteStore


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems start with (group and others may read): what Herald must tighten."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def open_to_others(folder: Path) -> Path:
    """The database's path in a new folder open to others (0755), as an older Herald made it."""
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    return folder / "herald.db"


async def test_a_new_data_folder_database_and_its_wal_files_are_owner_only(
    tmp_path: Path, encryption_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    path = tmp_path / "data" / "herald.db"
    store = SQLiteStore(path, CredentialCipher(encryption_key))
    await store.open()
    try:
        await store.save_state("bot", "k", 1)
        wal, shm = path.with_name("herald.db-wal"), path.with_name("herald.db-shm")
        assert wal.exists() and shm.exists()  # the test looks at files SQLite really made
        assert mode(path.parent) == 0o700
        assert (mode(path), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    finally:
        await store.close()
    assert caplog.records == []  # created owner-only, not created open and tightened after


async def test_files_found_open_to_others_are_made_owner_only_and_the_log_says_so_once(
    tmp_path: Path, encryption_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="storage.sqlite")
    path = open_to_others(tmp_path / "data")
    earlier = sqlite3.connect(path, isolation_level=None)  # as an older Herald left them
    try:
        earlier.execute("PRAGMA journal_mode = WAL")
        earlier.execute("CREATE TABLE kept (x TEXT)")
        earlier.execute("INSERT INTO kept VALUES ('still here')")
        files = [path, path.with_name("herald.db-wal"), path.with_name("herald.db-shm")]
        assert [mode(file) for file in files] == [0o644] * 3

        store = SQLiteStore(path, CredentialCipher(encryption_key))
        await store.open()
        try:
            assert [mode(file) for file in files] == [0o600] * 3
            assert mode(path.parent) == 0o700
            assert [row["x"] for row in await store._read_all("SELECT x FROM kept")] == ["still here"]
        finally:
            await store.close()
    finally:
        earlier.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "storage.sqlite" and r.levelno == logging.INFO]
    assert len(lines) == 1
    assert "owner only" in lines[0] and all(str(file) in lines[0] for file in [*files, path.parent])

    caplog.clear()
    store = SQLiteStore(path, CredentialCipher(encryption_key))
    await store.open()
    await store.close()
    assert caplog.records == []  # nothing left to tighten, nothing said


async def test_a_folder_holding_other_files_is_left_as_it_is(tmp_path: Path, encryption_key: str) -> None:
    path = open_to_others(tmp_path / "project")
    (path.parent / "README.md").write_text("the owner's project")
    store = SQLiteStore(path, CredentialCipher(encryption_key))
    await store.open()
    try:
        await store.save_state("bot", "k", 1)
        assert mode(path) == 0o600 and mode(path.with_name("herald.db-wal")) == 0o600
    finally:
        await store.close()
    assert mode(path.parent) == 0o755
    assert mode(path.parent / "README.md") == 0o644


def test_the_key_folder_is_created_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    load_or_create_key(folder)
    assert mode(folder) == 0o700
    assert mode(folder / KEY_FILE_NAME) == 0o600


def test_a_key_file_found_open_to_others_is_made_owner_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="storage.crypto")
    key = load_or_create_key(tmp_path)
    os.chmod(tmp_path / KEY_FILE_NAME, 0o644)
    assert load_or_create_key(tmp_path) == key
    assert mode(tmp_path / KEY_FILE_NAME) == 0o600
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert str(tmp_path / KEY_FILE_NAME) in caplog.records[0].getMessage()
    assert key not in caplog.text


async def test_the_default_store_keeps_its_data_folder_owner_only(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/fresh/herald.db", _env_file=None)
    store = build_store(settings)
    await store.open()
    try:
        await store.save_state("bot", "k", 1)
    finally:
        await store.close()
    folder = tmp_path / "fresh"
    assert mode(folder) == 0o700
    assert {p.name: mode(p) for p in folder.iterdir()} == {
        KEY_FILE_NAME: 0o600,
        "herald.db": 0o600,
        # WAL files stay after the last connection closes when the WAL could not be removed;
        # whichever remain must be owner-only.
        **{p.name: 0o600 for p in folder.glob("herald.db-*")},
    }
