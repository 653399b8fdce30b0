"""What lands on disk: credentials only encrypted, MongoDB posts with the seed's field names."""

from __future__ import annotations

import stat
from pathlib import Path

from pymongo import MongoClient

from config import load_settings
from storage import build_store
from storage.crypto import KEY_FILE_NAME, CredentialCipher, load_or_create_key
from storage.models import Image, utc_now
from storage.mongo import MongoStore
from storage.sqlite import SQLiteStore
from tests.contract.helpers import add_account, schedule

PLAINTEXT = "EAAB-plaintext-page-token-4242"
SEED_FIELDS = {
    "user_id",
    "group_ids",
    "main_caption",
    "scheduled_time",
    "poster_name",
    "account_name",
    "groups",
    "images",
    "status",
    "result",
    "created_at",
    "published_at",
}


async def test_sqlite_file_holds_no_plaintext_credential(tmp_path: Path, encryption_key: str) -> None:
    store = SQLiteStore(tmp_path / "herald.db", CredentialCipher(encryption_key))
    await store.open()
    account = await add_account(store, 1001, credential=PLAINTEXT)
    assert await store.account_credential(account.account_id) == PLAINTEXT
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("herald.db*"))
    await store.close()
    raw += b"".join(path.read_bytes() for path in tmp_path.glob("herald.db*"))
    assert b"Shop hooks" in raw  # the test reads the right file
    assert PLAINTEXT.encode() not in raw


async def test_mongodb_documents_hold_no_plaintext_credential(mongo_url: str, encryption_key: str) -> None:
    store = MongoStore(mongo_url, CredentialCipher(encryption_key))
    await store.open()
    try:
        account = await add_account(store, 1001, credential=PLAINTEXT)
        assert await store.account_credential(account.account_id) == PLAINTEXT
    finally:
        await store.close()
    client: MongoClient[dict[str, object]] = MongoClient(mongo_url)
    try:
        db = client.get_default_database()
        dumped = "".join(repr(doc) for name in db.list_collection_names() for doc in db[name].find())
    finally:
        client.close()
    assert "Shop hooks" in dumped
    assert PLAINTEXT not in dumped


async def test_a_mongodb_post_carries_the_seeds_field_names(mongo_url: str, encryption_key: str) -> None:
    store = MongoStore(mongo_url, CredentialCipher(encryption_key))
    await store.open()
    try:
        account = await add_account(store, 1001)
        blob = await store.put_image(b"\xff\xd8 PIXELS-XYZ")
        post = await schedule(store, 1001, account, images=[Image(name="a.jpg", blob_id=blob, caption="A")])
    finally:
        await store.close()
    client: MongoClient[dict[str, object]] = MongoClient(mongo_url)
    try:
        doc = client.get_default_database().scheduled_posts.find_one({"post_id": post.post_id})
    finally:
        client.close()
    assert doc is not None
    assert set(doc) >= SEED_FIELDS
    assert doc["group_ids"] == [t.target_id for t in post.targets] and doc["groups"] == [t.name for t in post.targets]
    assert doc["status"] == "scheduled"
    images = doc["images"]
    assert isinstance(images, list) and images[0]["name"] == "a.jpg" and images[0]["caption"] == "A"
    # Image bytes live in GridFS, never inside the post.
    assert "data" not in images[0] and "PIXELS-XYZ" not in repr(doc)


async def test_a_post_of_the_seeds_shape_loads_its_targets_from_group_ids_and_groups(
    mongo_url: str, encryption_key: str
) -> None:
    store = MongoStore(mongo_url, CredentialCipher(encryption_key))
    await store.open()
    try:
        account = await add_account(store, 1001)
        post = await schedule(store, 1001, account)
        client: MongoClient[dict[str, object]] = MongoClient(mongo_url)
        try:  # a document written before posts kept their targets whole
            client.get_default_database().scheduled_posts.update_one(
                {"post_id": post.post_id}, {"$unset": {"targets": ""}}
            )
        finally:
            client.close()
        loaded = await store.load_post(post.post_id)
    finally:
        await store.close()
    assert loaded is not None
    assert [(t.target_id, t.name) for t in loaded.targets] == [(t.target_id, t.name) for t in post.targets]


def test_a_key_is_generated_once_with_owner_only_permissions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = load_or_create_key(data)
    path = data / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(data) == key
    CredentialCipher(key).decrypt(CredentialCipher(key).encrypt("works"))


async def test_the_default_store_is_sqlite_in_a_new_data_folder(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/fresh/herald.db", _env_file=None)
    store = build_store(settings)
    assert isinstance(store, SQLiteStore)
    await store.open()
    try:
        account = await add_account(store, 7, credential=PLAINTEXT)
        assert await store.account_credential(account.account_id) == PLAINTEXT
        assert (tmp_path / "fresh" / KEY_FILE_NAME).exists()
        journal = await store.db.execute("PRAGMA journal_mode")
        assert (await journal.fetchone())[0] == "wal"  # type: ignore[index]
        assert utc_now()
    finally:
        await store.close()
