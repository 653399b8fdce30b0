"""Each platform is one module that connects (checks what the user gave, lists its targets) beside
publishing; the registry builds them all; the HTTP platforms share one set of plumbing.

Facebook against the fake Graph API and webhooks against a signature-checking receiver, over real
HTTP with `requests`."""

from __future__ import annotations

import ast
import asyncio
import json
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot

from config import load_settings
from publishers.base import Connection, Outcome, Provider, Sending
from publishers.facebook import FacebookPagePublisher
from publishers.facebook_groups import HandPostingPublisher
from publishers.http import AT_ONCE, Fate, HttpProvider, LostWords, Unreachable
from publishers.registry import PLATFORMS, Wiring, build_publishers, provider
from publishers.telegram import TelegramPublisher
from publishers.webhook import WebhookPublisher, read_credential, verify
from storage.models import Account, DeliveryStatus, ErrorKind, Platform, Post, Target, TelegramChat, new_post
from storage.sqlite import SQLiteStore
from tests.e2e.herald_process import closed_port
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.webhook_receiver import WebhookReceiver

USER_ID = 31337
USER_TOKEN = "EAAUSER-connect-5e2a91c0"
SECRET = "whsec-connect-7d41b2e9a0"
PUBLISHERS = Path(__file__).resolve().parents[2] / "publishers"


async def no_prompt(post: Post, target: Target) -> int:
    raise AssertionError("nothing is handed to anyone in these tests")


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as fake:
        yield fake


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver(SECRET) as started:
        yield started


# -- the registry -------------------------------------------------------------------------------


async def test_every_platform_is_registered_and_built_as_itself(sqlite_store: SQLiteStore) -> None:
    settings = load_settings(_env_file=None, facebook_graph_url="http://127.0.0.1:9/v21.0")
    wiring = Wiring(Bot("123:abc"), sqlite_store, settings, no_prompt)

    built = build_publishers(wiring)

    assert set(PLATFORMS) == set(Platform) == set(built)
    assert all(publisher.platform is platform for platform, publisher in built.items())
    expected = {
        Platform.TELEGRAM: TelegramPublisher,
        Platform.FACEBOOK_PAGE: FacebookPagePublisher,
        Platform.FACEBOOK_GROUPS: HandPostingPublisher,
        Platform.WEBHOOK: WebhookPublisher,
    }
    for platform, kind in expected.items():
        one = provider(platform, wiring)
        assert isinstance(one, kind) and isinstance(one, Provider) and isinstance(built[platform], kind)
        one.close()
    facebook = built[Platform.FACEBOOK_PAGE]
    assert isinstance(facebook, FacebookPagePublisher) and facebook.graph_url == settings.facebook_graph_url


def test_no_publisher_imports_the_chat() -> None:
    imported: dict[str, list[str]] = {}
    for path in sorted(PUBLISHERS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.setdefault(path.name, []).append(node.module)
            elif isinstance(node, ast.Import):
                imported.setdefault(path.name, []).extend(alias.name for alias in node.names)
    assert "registry.py" in imported and "publishers.base" in imported["webhook.py"]  # the right files were read
    chat = {
        name: [module for module in modules if module.split(".")[0] in ("handlers", "scheduler")]
        for name, modules in imported.items()
    }
    assert {name: modules for name, modules in chat.items() if modules} == {}


# -- Telegram: the bot itself, in the chats it and the user administer ------------------------------


async def test_telegram_offers_the_chats_the_bot_and_the_user_both_administer(sqlite_store) -> None:
    async with FakeBotAPI() as api:
        api.add_user(USER_ID, "Owner", "owner")
        shop, club, gone = -1005000000001, -1005000000002, -1005000000003
        api.add_chat(shop, "channel", "Shop news", "shopnews")
        api.set_member(shop, USER_ID, "administrator")
        api.add_chat(club, "supergroup", "Club")
        api.set_member(club, USER_ID, "member")
        api.add_chat(gone, "group", "Gone")
        api.set_member(gone, api.bot_user["id"], "kicked")
        api.set_member(gone, USER_ID, "administrator")
        await sqlite_store.upsert_chat(TelegramChat(shop, "Shop news", "channel", True, username="shopnews"))
        await sqlite_store.upsert_chat(TelegramChat(club, "Club", "supergroup", True))
        await sqlite_store.upsert_chat(TelegramChat(gone, "Gone", "group", True))
        async with Bot(api.token, base_url=api.base_url) as bot:
            telegram = TelegramPublisher(bot, sqlite_store)
            found = await telegram.connect(USER_ID)
            again = await telegram.refresh(Account("telegram", USER_ID, Platform.TELEGRAM, "Telegram"), "")

    expected = [("tg-1005000000001", "Shop news", str(shop), "channel", "https://t.me/shopnews", Platform.TELEGRAM)]
    assert [(t.target_id, t.name, t.address, t.kind, t.url, t.platform) for t in found.targets] == expected
    assert [t.target_id for t in again.targets] == ["tg-1005000000001"]
    assert found.targets[0].account_id == "telegram" and found.credential == ""
    # The bot was removed without Herald hearing of it: the chat is no longer offered to anyone.
    assert sorted(chat.chat_id for chat in await sqlite_store.list_chats(admin_only=True)) == sorted([shop, club])


# -- Facebook Pages: a token, its Pages ------------------------------------------------------------


async def test_a_user_token_connects_its_pages_as_targets(sqlite_store, graph) -> None:
    graph.add_user_token(USER_TOKEN, [("4001", "Bakery", "EAAPAGE-4001"), ("4002", "Cafe", "EAAPAGE-4002")])
    facebook = FacebookPagePublisher(sqlite_store, graph.url, timeout=2.0)
    try:
        found = await facebook.connect(USER_ID, [f"  {USER_TOKEN}\n"])
    finally:
        facebook.close()

    assert found.refused is None and found.warning is None
    assert found.credential == USER_TOKEN
    assert [(t.target_id, t.name, t.address, t.url, t.platform, t.kind) for t in found.targets] == [
        ("fb4001", "Bakery", "4001", "https://www.facebook.com/4001", Platform.FACEBOOK_PAGE, ""),
        ("fb4002", "Cafe", "4002", "https://www.facebook.com/4002", Platform.FACEBOOK_PAGE, ""),
    ]
    assert "EAAPAGE" not in repr(found) and USER_TOKEN not in repr(found)


async def test_a_refused_token_is_a_reason_and_no_targets(sqlite_store, graph) -> None:
    graph.add_user_token(USER_TOKEN, [("4001", "Bakery", "EAAPAGE-4001")])
    graph.revoke(USER_TOKEN, subcode=463)
    facebook = FacebookPagePublisher(sqlite_store, graph.url, timeout=2.0)
    try:
        found = await facebook.connect(USER_ID, [USER_TOKEN])
        unknown = await facebook.connect(USER_ID, ["not-a-token"])
    finally:
        facebook.close()

    assert found.targets == [] and found.refused is not None
    assert "expired" in found.refused and USER_TOKEN not in found.refused
    assert unknown.targets == [] and unknown.refused and "not-a-token" not in unknown.refused


async def test_a_token_managing_no_page_connects_nothing_without_a_refusal(sqlite_store, graph) -> None:
    graph.add_user_token(USER_TOKEN, [])
    facebook = FacebookPagePublisher(sqlite_store, graph.url, timeout=2.0)
    try:
        found = await facebook.connect(USER_ID, [USER_TOKEN])
    finally:
        facebook.close()
    assert (found.targets, found.refused) == ([], None)


async def test_an_unreachable_graph_refuses_with_a_reason_to_try_again(sqlite_store) -> None:
    facebook = FacebookPagePublisher(sqlite_store, f"http://127.0.0.1:{closed_port()}/v21.0", timeout=2.0)
    try:
        found = await facebook.connect(USER_ID, [USER_TOKEN])
    finally:
        facebook.close()
    assert found.refused is not None and "could not reach Facebook" in found.refused


async def test_refreshing_lists_the_pages_the_token_gives_now(sqlite_store, graph) -> None:
    graph.add_user_token(USER_TOKEN, [("4001", "Bakery", "EAAPAGE-4001")])
    facebook = FacebookPagePublisher(sqlite_store, graph.url, timeout=2.0)
    try:
        first = await facebook.connect(USER_ID, [USER_TOKEN])
        account = await sqlite_store.add_account(USER_ID, Platform.FACEBOOK_PAGE, "FB", USER_TOKEN, first.targets)
        graph.add_user_token(USER_TOKEN, [("4001", "Bakery", "EAAPAGE-4001"), ("4003", "Deli", "EAAPAGE-4003")])
        again = await facebook.refresh(account, USER_TOKEN)
    finally:
        facebook.close()
    assert [t.address for t in account.targets] == ["4001"]
    assert [(t.address, t.platform) for t in again.targets] == [
        ("4001", Platform.FACEBOOK_PAGE),
        ("4003", Platform.FACEBOOK_PAGE),
    ]


# -- webhooks: a URL, a secret, a signed ping ------------------------------------------------------


def test_a_webhook_address_and_secret_are_checked_before_anything_is_sent(sqlite_store) -> None:
    webhook = WebhookPublisher(sqlite_store)
    try:
        assert webhook.check([]) is None
        assert webhook.check(["https://hooks.example/x"]) is None
        assert webhook.check(["https://hooks.example/x", "s" * 16]) is None
        assert "https://" in (webhook.check(["http://hooks.example/x"]) or "")
        assert "not a valid URL" in (webhook.check(["hooks"]) or "")
        assert "16 characters" in (webhook.check(["https://hooks.example/x", "s" * 15]) or "")
        # The address is the first thing wrong, whatever the secret.
        assert "https://" in (webhook.check(["ftp://hooks.example/x", "short"]) or "")
    finally:
        webhook.close()


async def test_a_webhook_connects_as_its_host_after_a_signed_ping(sqlite_store, receiver) -> None:
    webhook = WebhookPublisher(sqlite_store, timeout=2.0)
    try:
        found = await webhook.connect(USER_ID, [receiver.url, SECRET])
    finally:
        webhook.close()

    assert found.refused is None and found.warning is None
    [target] = found.targets
    assert (target.name, target.address, target.url) == ("127.0.0.1", "127.0.0.1", None)
    assert target.platform is Platform.WEBHOOK
    assert target.target_id.startswith("wh")
    assert read_credential(found.credential, target) == (receiver.url, SECRET)
    [ping] = receiver.requests
    assert ping.json["type"] == "ping" and verify(SECRET, ping.body, ping.header("X-Herald-Signature"))
    assert receiver.url not in repr(found) and SECRET not in repr(found)


async def test_a_refused_ping_is_a_warning_and_the_webhook_still_connects(sqlite_store, receiver) -> None:
    receiver.respond_next(503, "warming up")
    webhook = WebhookPublisher(sqlite_store, timeout=2.0)
    try:
        found = await webhook.connect(USER_ID, [receiver.url, SECRET])
        unreachable = await webhook.connect(USER_ID, [f"http://127.0.0.1:{closed_port()}/hook", SECRET])
    finally:
        webhook.close()
    assert found.refused is None and len(found.targets) == 1
    assert found.warning is not None and "503" in found.warning and "warming up" in found.warning
    assert unreachable.refused is None and len(unreachable.targets) == 1
    assert unreachable.warning == "the connection was refused or the host could not be found"


async def test_a_webhook_with_a_bad_address_or_secret_is_refused_unsent(sqlite_store, receiver) -> None:
    webhook = WebhookPublisher(sqlite_store, timeout=2.0)
    try:
        short = await webhook.connect(USER_ID, [receiver.url, "short"])
        plain = await webhook.connect(USER_ID, [receiver.url.replace("127.0.0.1", "hooks.example"), SECRET])
        missing = await webhook.connect(USER_ID, [receiver.url])
    finally:
        webhook.close()
    assert [c.refused is not None and c.targets == [] for c in (short, plain, missing)] == [True, True, True]
    assert receiver.requests == []


# -- Facebook groups, by hand: one group per answer ------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "name", "url"),
    [
        ("Book club https://www.facebook.com/groups/bookclub", "Book club", "https://www.facebook.com/groups/bookclub"),
        ("https://www.facebook.com/groups/runners/", "runners", "https://www.facebook.com/groups/runners/"),
        ("Neighbours of Elm Street", "Neighbours of Elm Street", None),
        ("Chess — https://fb.test/g/chess", "Chess", "https://fb.test/g/chess"),
        ("  —  ", "Facebook group", None),
        ("x" * 80, "x" * 64, None),
    ],
)
async def test_each_answer_is_one_group(sqlite_store, answer: str, name: str, url: str | None) -> None:
    groups = HandPostingPublisher(Bot("123:abc"), sqlite_store, no_prompt)
    found = await groups.connect(USER_ID, [answer, "Second group"])
    first, second = found.targets
    assert (first.name, first.url, first.address, first.platform) == (name, url, url or name, Platform.FACEBOOK_GROUPS)
    assert second.name == "Second group" and first.target_id != second.target_id
    assert (found.credential, found.refused) == ("", None)


# -- the HTTP plumbing both share ------------------------------------------------------------------


WORDS = LostWords("bad", "{detail}: cannot be built", "unreachable ({detail})", "{target} may have it ({detail})")


@pytest.mark.parametrize(
    ("fate", "posting", "status", "code", "said"),
    [
        (Fate.INVALID, True, DeliveryStatus.FAILED, "bad", "lost: cannot be built"),
        (Fate.NOT_SENT, True, DeliveryStatus.FAILED, "network", "unreachable (lost)"),
        (Fate.MAYBE_SENT, False, DeliveryStatus.FAILED, "network", "unreachable (lost)"),
        (Fate.MAYBE_SENT, True, DeliveryStatus.UNCONFIRMED, "timeout", "Shop may have it (lost)"),
    ],
)
def test_a_lost_request_is_retried_only_when_it_cannot_have_posted(fate, posting, status, code, said) -> None:
    outcome = Unreachable("lost", fate).outcome(WORDS, "Shop", posting=posting)
    assert (outcome.status, outcome.error_code, outcome.error_message) == (status, code, said)
    expected_kind = {"bad": ErrorKind.PERMANENT, "network": ErrorKind.RETRYABLE, "timeout": ErrorKind.UNCONFIRMED}
    assert outcome.error_kind is expected_kind[code]


class _HeldPlatform(HttpProvider):
    """Publishes nothing: each publication waits until the test lets it go."""

    platform = Platform.WEBHOOK
    log_name = "held"

    def __init__(self) -> None:
        super().__init__(timeout=1.0)
        self.running = 0
        self.most = 0
        self.go = asyncio.Event()

    async def connect(self, user_id, answers):  # type: ignore[no-untyped-def]
        return Connection([])  # never asked: these tests only publish

    def log_place(self, target: Target) -> str:
        return target.target_id

    async def _publish(self, post: Post, target: Target, sending: Sending) -> Outcome:
        self.running += 1
        self.most = max(self.most, self.running)
        await self.go.wait()
        self.running -= 1
        return Outcome.sent(message_id=target.target_id)


def _post(target: Target) -> Post:
    account = Account("acc", USER_ID, Platform.WEBHOOK, "Hooks", [target])
    return new_post(
        user_id=USER_ID,
        account=account,
        targets=[target],
        main_caption="hi",
        scheduled_time=datetime.now(UTC) + timedelta(hours=1),
    )


async def test_an_http_platform_publishes_a_few_at_once_and_logs_each_outcome(caplog) -> None:
    caplog.set_level(logging.INFO, logger=__name__)
    held = _HeldPlatform()
    targets = [Target(f"t{n}", f"T{n}", f"t{n}", platform=Platform.WEBHOOK) for n in range(AT_ONCE + 4)]
    publishing = [asyncio.create_task(held.publish(_post(target), target)) for target in targets]
    for _ in range(20):
        await asyncio.sleep(0)
    assert (held.running, held.most) == (AT_ONCE, AT_ONCE)

    held.go.set()
    outcomes = await asyncio.gather(*publishing)

    held.close()
    assert held.most == AT_ONCE and [o.message_id for o in outcomes] == [t.target_id for t in targets]
    lines = [r.getMessage() for r in caplog.records if r.name == __name__]
    assert sorted(lines) == sorted(f"held delivery to {t.target_id}: sent {t.target_id} ()" for t in targets)


async def test_a_webhook_sends_at_most_a_few_requests_at_once(sqlite_store, receiver) -> None:
    # Threads enough for every request at once: only the publisher's own limit holds them back.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=AT_ONCE + 8))
    webhook = WebhookPublisher(sqlite_store, timeout=5.0)
    target = Target("wh1", "Hooks", "127.0.0.1", platform=Platform.WEBHOOK)
    account = await sqlite_store.add_account(
        USER_ID, Platform.WEBHOOK, "Hooks", json.dumps({"url": receiver.url, "secret": SECRET}), [target]
    )
    posts = [
        await sqlite_store.create_post(
            new_post(
                user_id=USER_ID,
                account=account,
                targets=account.targets,
                main_caption=f"post {n}",
                scheduled_time=datetime.now(UTC) + timedelta(hours=1),
            )
        )
        for n in range(AT_ONCE + 4)
    ]
    receiver.delay_next(1.5, times=len(posts))
    try:
        publishing = [asyncio.create_task(webhook.publish(post, post.targets[0])) for post in posts]
        await asyncio.sleep(0.8)
        arrived_early = len(receiver.requests)
        outcomes = await asyncio.gather(*publishing)
    finally:
        webhook.close()
    assert arrived_early == AT_ONCE
    assert [o.status for o in outcomes] == [DeliveryStatus.SENT] * len(posts)
    assert len(receiver.requests) == len(posts)
