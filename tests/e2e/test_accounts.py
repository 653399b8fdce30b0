"""Accounts beyond Telegram, end to end: the real bot against the fake Bot API, the fake Graph API
and a webhook receiver."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from config import Settings
from publishers.telegram import chat_target
from publishers.webhook import verify
from storage import Store
from storage.models import DeliveryStatus, Platform, PostStatus, PostView, new_post, utc_now
from tests.e2e.conftest import ALICE, Person, bot_running, eventually
from tests.e2e.steps import (
    add_chat,
    choose_every_target,
    connect_facebook,
    disk,
    schedule_for,
    settings_with_graph,
    start_adding,
    store_post,
)
from tests.fakes.bot_api import FakeBotAPI, jpeg_bytes
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.webhook_receiver import WebhookReceiver

USER_TOKEN = "fb-user-token-for-tests-0001"
PAGES = [("1111", "Bakery Page", "fb-page-token-1111"), ("2222", "Cafe Page", "fb-page-token-2222")]
SHOP = -1004000000001
SECRET = "webhook-secret-of-the-tests-42"
PHOTOS = [jpeg_bytes(64 + n, 48, f"pic {n}".encode()) for n in range(3)]


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as server:
        server.add_user_token(USER_TOKEN, PAGES)
        yield server


@asynccontextmanager
async def facebook_connected(alice: Person, settings: Settings) -> AsyncIterator[Store]:
    """The bot running, once Alice has connected Facebook with the tests' user token (both PAGES);
    yields a store on its database."""
    async with bot_running(settings) as store:
        await connect_facebook(alice, USER_TOKEN, pages=2)
        yield store


async def connect_book_club(alice: Person) -> None:
    await start_adding(alice, "Facebook groups", expect="no app can publish to Facebook")
    await alice.say("Book club https://www.facebook.com/groups/bookclub", expect="Book club added (1 so far)")
    await alice.press("Done", expect="1 Facebook group saved")


def raw_database_text(database_url: str) -> str:
    """Everything stored, as text: the SQLite files' bytes or every MongoDB document."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).decode("latin-1")
    client: MongoClient[dict[str, object]] = MongoClient(database_url)
    try:
        db = client.get_default_database()
        return "".join(repr(doc) for name in db.list_collection_names() for doc in db[name].find())
    finally:
        client.close()


async def test_a_pasted_facebook_token_is_deleted_checked_and_stored_encrypted(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, database_url: str, encryption_key: str
) -> None:
    async with facebook_connected(alice, settings_with_graph(api, graph, database_url, encryption_key)) as store:
        pasted = [m for m in api.messages(ALICE) if m.get("text") == USER_TOKEN]
        assert len(pasted) == 1 and pasted[0]["deleted"], "the message with the token is still in the chat"
        assert all(USER_TOKEN not in (m.get("text") or "") for m in api.bot_messages(ALICE))

        accounts = await store.list_accounts(ALICE)
        assert [a.platform for a in accounts] == [Platform.FACEBOOK_PAGE]
        assert [(t.address, t.name) for t in accounts[0].targets] == [("1111", "Bakery Page"), ("2222", "Cafe Page")]
        assert await store.account_credential(accounts[0].account_id) == USER_TOKEN
        assert "Bakery Page" in raw_database_text(database_url)
        assert USER_TOKEN not in raw_database_text(database_url)

        listing = await alice.say("/accounts", expect="Your accounts")
        assert listing is not None and "Facebook Pages, 2 targets" in listing["text"]
        await alice.say("/new", expect="Which account")
        await alice.press("Facebook: Bakery Page +1", expect="Where should it go?")
        labels = repr(alice.last()["reply_markup"])
        assert "Bakery Page" in labels and "Cafe Page" in labels


async def test_a_bad_token_is_refused_with_the_reason(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store:
        await start_adding(alice, "Facebook Page", expect="Paste a")
        refused = await alice.say("not-a-real-token", expect="That token can't be used")
        assert refused is not None and "not-a-real-token" not in refused["text"]
        assert await store.list_accounts(ALICE) == []
        await alice.say(USER_TOKEN, expect="Facebook connected")


async def test_three_photos_to_two_pages_and_a_channel(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, database_url: str, encryption_key: str
) -> None:
    add_chat(api, SHOP, "Shop news")
    async with facebook_connected(alice, settings_with_graph(api, graph, database_url, encryption_key)) as store:
        await choose_every_target(alice, 3)
        await alice.send_photos(PHOTOS, ["first", "second", "third"])
        await alice.expect("3 photos in")
        await alice.say("Fresh bread today", expect="step 4 of 5")
        await schedule_for(alice, typed="in 3 seconds")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]

        report = await alice.expect(f"Published #{post.short_id} to 3/3 targets", timeout=20)
        links = [entity.get("url", "") for entity in report.get("entities", [])]
        assert sum("facebook.com" in link for link in links) == 2, links
        for page_id, _, _ in PAGES:
            photos = graph.photos(page_id)
            assert len(photos) == 3 and not any(photo["published"] for photo in photos)
            assert [photo["caption"] for photo in photos] == ["first", "second", "third"]
            feed = graph.feed(page_id)
            assert len(feed) == 1
            assert feed[0]["message"] == "Fresh bread today"
            assert feed[0]["attached_media"] == [photo["id"] for photo in photos]
        album = api.bot_messages(SHOP)
        assert len(album) == 3 and album[0]["caption"] == "Fresh bread today\n\nfirst"
        stored = await store.get_post(ALICE, post.post_id)
        assert stored is not None and stored.status is PostStatus.PUBLISHED
        assert all(d.url for d in stored.deliveries.values())


async def make_post(store: Store, caption: str, target_ids: list[str], images: int = 0) -> str:
    """A post of Alice's to these targets (of any of her accounts), due in a second."""
    everything = {t.target_id: t for a in await store.list_accounts(ALICE) for t in a.targets}
    for chat in await store.list_chats():
        target = chat_target(chat)
        everything[target.target_id] = target
    targets = [everything[target_id] for target_id in target_ids]
    post = await store_post(store, caption, targets, timedelta(seconds=1), PHOTOS[:images])
    return post.post_id


async def test_a_revoked_page_token_fails_those_targets_and_asks_to_reconnect(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, database_url: str, encryption_key: str
) -> None:
    add_chat(api, SHOP, "Shop news")
    async with facebook_connected(alice, settings_with_graph(api, graph, database_url, encryption_key)) as store:
        graph.revoke(USER_TOKEN)
        post_id = await make_post(store, "After revocation", ["fb1111", f"tg{SHOP}"])
        report = await alice.expect(f"Partly published #{post_id[:6]}: 1/2", timeout=20)
        assert "reconnect" in report["text"].lower()
        assert api.bot_messages(SHOP)[-1]["text"] == "After revocation"
        post = await store.get_post(ALICE, post_id)
        assert post is not None and post.status is PostStatus.PARTIAL
        assert post.deliveries["fb1111"].error_code == "190"
        account = (await store.list_accounts(ALICE))[0]
        assert account.needs_reconnect
        # The user is told before the next post, not after.
        listing = await alice.say("/accounts", expect="Your accounts")
        assert listing is not None and "needs reconnecting" in listing["text"]
        await alice.say("/new", expect="Which account")
        await alice.press("Facebook: Bakery Page +1", expect="needs reconnecting")


async def test_throttling_on_the_first_try_publishes_once_after_backoff(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    async with facebook_connected(alice, settings_with_graph(api, graph, sqlite_url, encryption_key)) as store:
        graph.fail_next("feed", 32, "Page request limit reached")
        post_id = await make_post(store, "Throttled text", ["fb2222"])
        await alice.expect(f"Published #{post_id[:6]} to 1/1", timeout=20)
        assert [entry["message"] for entry in graph.feed("2222")] == ["Throttled text"]
        post = await store.get_post(ALICE, post_id)
        assert post is not None and post.deliveries["fb2222"].attempts == 2


async def test_a_facebook_group_is_handed_to_the_user_and_confirmed(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, database_url: str, encryption_key: str
) -> None:
    async with bot_running(settings_with_graph(api, graph, database_url, encryption_key)) as store:
        await connect_book_club(alice)
        account = (await store.list_accounts(ALICE))[0]
        group = account.targets[0]
        assert (group.name, group.url) == ("Book club", "https://www.facebook.com/groups/bookclub")

        post_id = await make_post(store, "Meeting on Friday", [group.target_id], images=2)
        handed = await alice.expect(f"Time to post #{post_id[:6]}", timeout=15)
        buttons = [b for row in handed["reply_markup"]["inline_keyboard"] for b in row]
        assert {"text": "Open group", "url": "https://www.facebook.com/groups/bookclub"} in buttons
        assert any(b["text"] == "✅ I posted it" for b in buttons)
        assert any(m.get("text") == "Meeting on Friday" for m in api.bot_messages(ALICE))  # copyable caption
        assert len([m for m in api.bot_messages(ALICE) if m.get("media_group_id")]) == 2

        async def awaiting() -> bool:
            waiting = await store.get_post(ALICE, post_id)
            assert waiting is not None and waiting.status is PostStatus.PUBLISHING
            return waiting.deliveries[group.target_id].status is DeliveryStatus.AWAITING_YOU

        await eventually(awaiting)

        await alice.press("I posted it", expect="Marked as posted in Book club")
        await alice.expect(f"Published #{post_id[:6]} to 1/1", timeout=10)
        done = await store.get_post(ALICE, post_id)
        assert done is not None and done.status is PostStatus.PUBLISHED
        assert done.deliveries[group.target_id].status is DeliveryStatus.SENT


async def test_a_webhook_gets_a_signed_body_retries_5xx_and_fails_on_4xx(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str, tmp_path: Path
) -> None:
    # Like Discord's and Slack's, this URL carries a token of its own: it is a credential too.
    token = "hooktoken-" + "7f3a9c" * 6
    async with (
        WebhookReceiver(SECRET, path=f"/hook/{token}") as receiver,
        bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store,
    ):
        await start_adding(alice, "Webhook", expect="Send the webhook's")
        await alice.say(receiver.url, expect="signing secret")
        # The form is saved with user_data (within a second): the URL waits there encrypted.
        on_disk = await eventually(lambda: b"account_form" in disk(tmp_path) and disk(tmp_path))
        assert token.encode() not in on_disk
        await alice.say(SECRET, expect="a signed test delivery was accepted")
        await alice.press("Use 127.0.0.1", expect="Webhook 127.0.0.1 saved")
        assert all(SECRET not in (m.get("text") or "") or m["deleted"] for m in api.messages(ALICE))
        assert all(token not in (m.get("text") or "") or m["deleted"] for m in api.messages(ALICE))
        assert receiver.requests[-1].verified and receiver.requests[-1].json["type"] == "ping"
        target = (await store.list_accounts(ALICE))[0].targets[0]

        receiver.respond_next(500, "try again")
        post_id = await make_post(store, "Hook me", [target.target_id], images=1)
        await alice.expect(f"Published #{post_id[:6]} to 1/1", timeout=20)
        deliveries = [r for r in receiver.requests if r.json and r.json.get("post_id") == post_id]
        assert len(deliveries) == 2 and all(r.verified for r in deliveries)
        assert verify(SECRET, deliveries[-1].body, deliveries[-1].header("X-Herald-Signature"))
        body = json.loads(deliveries[-1].body)
        assert body["caption"] == "Hook me" and len(body["images"]) == 1

        receiver.respond_next(400, "caption field is required")
        refused_id = await make_post(store, "Refused", [target.target_id])
        report = await alice.expect(f"Failed #{refused_id[:6]}", timeout=20)
        assert "caption field is required" in report["text"]
        assert len([r for r in receiver.requests if r.json and r.json.get("post_id") == refused_id]) == 1
        assert all(r.path == f"/hook/{token}" for r in receiver.requests)
        on_disk = disk(tmp_path)
        assert b"Hook me" in on_disk  # the right files were read
        assert token.encode() not in on_disk and SECRET.encode() not in on_disk


async def test_removing_an_account_cancels_its_scheduled_posts_after_a_confirm(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    async with facebook_connected(alice, settings_with_graph(api, graph, sqlite_url, encryption_key)) as store:
        account = (await store.list_accounts(ALICE))[0]
        post = new_post(
            user_id=ALICE,
            account=account,
            targets=account.targets[:1],
            main_caption="Never mind",
            scheduled_time=utc_now() + timedelta(hours=2),
        )
        await store.create_post(post)
        await alice.say("/accounts", expect="Your accounts")
        await alice.press("Facebook: Bakery Page +1", expect="Bakery Page")
        await alice.press("Remove", expect="Its scheduled posts will be cancelled")
        await alice.press("Yes, remove it", expect="1 scheduled post cancelled")
        assert await store.list_accounts(ALICE) == []
        cancelled = await store.get_post(ALICE, post.post_id)
        assert cancelled is not None and cancelled.status is PostStatus.CANCELLED


async def test_refreshing_a_facebook_account_lists_its_pages_again(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    async with facebook_connected(alice, settings_with_graph(api, graph, sqlite_url, encryption_key)) as store:
        graph.add_user_token(USER_TOKEN, [*PAGES, ("3333", "Deli Page", "fb-page-token-3333")])
        await alice.say("/accounts", expect="Your accounts")
        await alice.press("Facebook: Bakery Page +1", expect="Bakery Page")

        await alice.press("Refresh targets", expect="Targets refreshed: 3 found")

        [account] = await store.list_accounts(ALICE)
        assert [(t.address, t.name, t.platform) for t in account.targets] == [
            ("1111", "Bakery Page", Platform.FACEBOOK_PAGE),
            ("2222", "Cafe Page", Platform.FACEBOOK_PAGE),
            ("3333", "Deli Page", Platform.FACEBOOK_PAGE),
        ]
        graph.revoke(USER_TOKEN)
        refused = await alice.press("Refresh targets", expect="That did not work")
        assert refused is not None and "reconnect" in refused["text"] and USER_TOKEN not in refused["text"]
        [kept] = await store.list_accounts(ALICE)
        assert kept.targets == account.targets


async def test_reconnecting_a_refused_facebook_account_takes_a_new_token(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, database_url: str, encryption_key: str
) -> None:
    renewed = "fb-user-token-renewed-0002"
    graph.add_user_token(renewed, PAGES[1:])
    async with facebook_connected(alice, settings_with_graph(api, graph, database_url, encryption_key)) as store:
        graph.revoke(USER_TOKEN)
        [account] = await store.list_accounts(ALICE)
        await store.mark_account_needs_reconnect(account.account_id)
        await alice.say("/accounts", expect="needs reconnecting")
        await alice.press("Facebook: Bakery Page +1", expect="Bakery Page")
        await alice.press("Reconnect", expect="Paste a")

        await alice.say(renewed, expect="Facebook connected: 1 Page — Cafe Page")

        [reconnected] = await store.list_accounts(ALICE)
        assert reconnected.account_id == account.account_id and not reconnected.needs_reconnect
        assert [(t.target_id, t.platform) for t in reconnected.targets] == [("fb2222", Platform.FACEBOOK_PAGE)]
        assert await store.account_credential(account.account_id) == renewed
        pasted = [m for m in api.messages(ALICE) if m.get("text") == renewed]
        assert len(pasted) == 1 and pasted[0]["deleted"]


async def test_a_group_post_for_an_owner_who_blocked_the_bot_fails_with_the_reason(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store:
        await connect_book_club(alice)
        group = (await store.list_accounts(ALICE))[0].targets[0]
        api.block_bot(ALICE)
        post_id = await make_post(store, "Meeting on Friday", [group.target_id])

        async def failed() -> Any:
            post = await store.get_post(ALICE, post_id)
            assert post is not None
            return post.deliveries[group.target_id] if post.status is PostStatus.FAILED else None

        delivery = await eventually(failed, timeout=15)
        assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, "403")
        assert delivery.error_message == "you have blocked the bot, so it could not hand you the post"
        assert all("Time to post" not in (m.get("text") or "") for m in api.bot_messages(ALICE))
