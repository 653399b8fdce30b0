"""Renaming an account, in each store: only its owner can, the name is kept exactly as given (HTML,
emoji and all: escaping is the chat's business), and nothing else about the account changes."""

from __future__ import annotations

from storage.base import Store
from tests.contract.helpers import add_account, schedule

ALICE, BOB = 1001, 2002


async def test_the_owner_renames_an_account_and_everything_else_stays(store: Store) -> None:
    account = await add_account(store, ALICE, credential="hook-secret")
    await store.mark_account_needs_reconnect(account.account_id)

    assert await store.rename_account(ALICE, account.account_id, "Team chat <b>🚀</b> & co")

    [renamed] = await store.list_accounts(ALICE)
    assert renamed.name == "Team chat <b>🚀</b> & co"
    assert (renamed.account_id, renamed.platform, renamed.targets) == (
        account.account_id,
        account.platform,
        account.targets,
    )
    assert renamed.needs_reconnect and renamed.created_at == account.created_at
    assert await store.account_credential(account.account_id) == "hook-secret"
    loaded = await store.get_account(ALICE, account.account_id)
    assert loaded is not None and loaded.name == "Team chat <b>🚀</b> & co"


async def test_another_user_cannot_rename_an_account(store: Store) -> None:
    account = await add_account(store, ALICE)

    assert not await store.rename_account(BOB, account.account_id, "Bob's now")

    loaded = await store.get_account(ALICE, account.account_id)
    assert loaded is not None and loaded.name == account.name == "Shop hooks"
    assert await store.list_accounts(BOB) == []


async def test_renaming_an_account_that_is_gone_changes_nothing(store: Store) -> None:
    account = await add_account(store, ALICE)
    other = await add_account(store, ALICE)
    assert await store.remove_account(ALICE, account.account_id) == 0

    assert not await store.rename_account(ALICE, account.account_id, "Ghost")
    assert not await store.rename_account(ALICE, "no-such-account", "Ghost")

    assert [(a.account_id, a.name) for a in await store.list_accounts(ALICE)] == [(other.account_id, "Shop hooks")]


async def test_renaming_to_the_same_name_succeeds(store: Store) -> None:
    account = await add_account(store, ALICE)

    assert await store.rename_account(ALICE, account.account_id, account.name)
    assert await store.rename_account(ALICE, account.account_id, account.name)

    loaded = await store.get_account(ALICE, account.account_id)
    assert loaded is not None and loaded.name == account.name


async def test_a_rename_leaves_the_other_accounts_and_posts_alone(store: Store) -> None:
    first = await add_account(store, ALICE)
    second = await add_account(store, ALICE)
    bobs = await add_account(store, BOB)
    post = await schedule(store, ALICE, first)

    assert await store.rename_account(ALICE, first.account_id, "Renamed")

    # (Two accounts made in the same millisecond may list in either order.)
    names = {a.account_id: a.name for a in await store.list_accounts(ALICE)}
    assert names == {first.account_id: "Renamed", second.account_id: "Shop hooks"}
    assert [a.name for a in await store.list_accounts(BOB)] == ["Shop hooks"] and bobs.name == "Shop hooks"
    # A post keeps the name its account had when it was scheduled (the seed's `account_name`).
    stored = await store.get_post(ALICE, post.post_id)
    assert stored is not None and stored.account_name == post.account_name == "Shop hooks"
