"""Targets say their platform, in each store; the ones stored before they did (no `platform`
field, the chat-type string `kind` doubling as the platform's tag) still load, their platform read
from that string."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from pymongo import MongoClient

from storage.base import Store
from storage.models import Platform, Target, new_post, utc_now
from storage.sqlite import SQLiteStore

USER = 5150
# One target of each sort, as Herald makes them now.
TARGETS = [
    Target("tg-1001", "Shop news", "-1001", "channel", platform=Platform.TELEGRAM),
    Target("tg-1002", "Neighbours", "-1002", "supergroup", platform=Platform.TELEGRAM),
    Target("fb2001", "Bakery Page", "2001", url="https://www.facebook.com/2001", platform=Platform.FACEBOOK_PAGE),
    Target("fbg1", "Book club", "https://fb.test/g/1", url="https://fb.test/g/1", platform=Platform.FACEBOOK_GROUPS),
    Target("wh1", "hooks.example", "hooks.example", platform=Platform.WEBHOOK),
]
# The `kind` each was stored with before targets named their platform.
OLD_KINDS = {"tg-1001": "channel", "tg-1002": "supergroup", "fb2001": "facebook_page",
             "fbg1": "facebook_group", "wh1": "webhook"}  # fmt: skip


def as_stored_before(target: dict[str, Any]) -> dict[str, Any]:
    """A target document as an earlier Herald wrote it."""
    old = {key: value for key, value in target.items() if key != "platform"}
    old["kind"] = OLD_KINDS[target["target_id"]]
    return old


def rewrite_targets(store: Store, request: pytest.FixtureRequest, change: Callable[[dict[str, Any]], Any]) -> None:
    """Applies `change` to every stored target document (of accounts and posts), in the
    database itself, behind the store's back."""
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as connection:
            for account_id, targets in connection.execute("SELECT account_id, targets FROM accounts").fetchall():
                changed = [change(target) for target in json.loads(targets)]
                connection.execute(
                    "UPDATE accounts SET targets = ? WHERE account_id = ?", (json.dumps(changed), account_id)
                )
            for post_id, doc in connection.execute("SELECT post_id, doc FROM posts").fetchall():
                post = json.loads(doc)
                post["targets"] = [change(target) for target in post["targets"]]
                connection.execute("UPDATE posts SET doc = ? WHERE post_id = ?", (json.dumps(post), post_id))
        return
    client: MongoClient[dict[str, Any]] = MongoClient(request.getfixturevalue("mongo_url"))
    try:
        db = client.get_default_database()
        for collection in (db.accounts, db.scheduled_posts):
            for doc in collection.find():
                changed = [change(target) for target in doc["targets"]]
                collection.update_one({"_id": doc["_id"]}, {"$set": {"targets": changed}})
    finally:
        client.close()


def stored_targets(store: Store, request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """Every target document as it is in the database."""
    seen: list[dict[str, Any]] = []

    def keep(target: dict[str, Any]) -> dict[str, Any]:
        seen.append(dict(target))
        return target

    rewrite_targets(store, request, keep)
    return seen


async def add_account_and_post(store: Store) -> str:
    account = await store.add_account(USER, Platform.WEBHOOK, "Everything", "secret", TARGETS)
    post = new_post(
        user_id=USER,
        account=account,
        targets=account.targets,
        main_caption="hello",
        scheduled_time=utc_now() + timedelta(hours=1),
    )
    await store.create_post(post)
    return post.post_id


def platforms(targets: list[Target]) -> dict[str, tuple[Platform, str]]:
    return {target.target_id: (target.platform, target.kind) for target in targets}


EXPECTED = {
    "tg-1001": (Platform.TELEGRAM, "channel"),
    "tg-1002": (Platform.TELEGRAM, "supergroup"),
    "fb2001": (Platform.FACEBOOK_PAGE, ""),
    "fbg1": (Platform.FACEBOOK_GROUPS, ""),
    "wh1": (Platform.WEBHOOK, ""),
}


async def test_each_target_keeps_its_platform(store: Store, request: pytest.FixtureRequest) -> None:
    post_id = await add_account_and_post(store)

    [account] = await store.list_accounts(USER)
    post = await store.get_post(USER, post_id)

    assert post is not None
    assert platforms(account.targets) == EXPECTED
    assert platforms(post.targets) == EXPECTED
    assert {doc["target_id"]: doc["platform"] for doc in stored_targets(store, request)} == {
        target_id: platform.value for target_id, (platform, _) in EXPECTED.items()
    }


async def test_targets_stored_before_they_named_their_platform_get_it_from_their_kind(
    store: Store, request: pytest.FixtureRequest
) -> None:
    post_id = await add_account_and_post(store)
    rewrite_targets(store, request, as_stored_before)
    assert all("platform" not in doc for doc in stored_targets(store, request))  # the old shape, truly

    [account] = await store.list_accounts(USER)
    post = await store.get_post(USER, post_id)

    assert post is not None
    assert platforms(account.targets) == EXPECTED
    assert platforms(post.targets) == EXPECTED
    # Written again (a refresh), the account's copies are stored in the new shape; the post's stay.
    await store.set_account_targets(USER, account.account_id, account.targets)
    docs = stored_targets(store, request)
    renewed = {doc["target_id"]: doc["platform"] for doc in docs if "platform" in doc}
    assert len(docs) == 2 * len(TARGETS) and len(renewed) == len(TARGETS)
    assert renewed == {target_id: platform.value for target_id, (platform, _) in EXPECTED.items()}
