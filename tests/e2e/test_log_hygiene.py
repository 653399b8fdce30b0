"""LOG_LEVEL=DEBUG through a whole session: the log of `python bot.py` holds no secret.

A person connects a Facebook Page and a webhook through /accounts (pasting the token, the URL and
the secret into the chat), schedules a post with a photo to them and to a channel, and is told it
was published; then the bot is stopped. Every line it wrote to stderr is searched for each secret.
The tokens here are not shaped like Telegram's or Facebook's on purpose: they must be hidden
because Herald knows them, not because a pattern happens to match.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.e2e.conftest import ALICE, Person
from tests.e2e.herald_process import herald_env, start_herald
from tests.e2e.steps import add_chat, choose_every_target, connect_facebook, schedule_for, start_adding
from tests.fakes.bot_api import FakeBotAPI, jpeg_bytes
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.local_server import stop_process
from tests.fakes.webhook_receiver import WebhookReceiver

SHOP = -1004000000001


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """The fake Bot API with a token as long as a real one (the default is short)."""
    token = f"{7000000000 + secrets.randbelow(10**9)}:{secrets.token_urlsafe(32)[:35]}"
    async with FakeBotAPI(token=token) as server:
        server.add_user(ALICE, "Alice", "alice")
        add_chat(server, SHOP, "Shop news")
        yield server


async def test_a_debug_log_of_a_whole_session_holds_no_secret(api: FakeBotAPI, sqlite_url: str, tmp_path: Path) -> None:
    user_token, page_token = f"fbuser{secrets.token_hex(20)}", f"fbpage{secrets.token_hex(20)}"
    hook_token, hook_secret = secrets.token_hex(16), f"whsecret-{secrets.token_hex(12)}"
    key = Fernet.generate_key().decode()
    async with FakeGraphAPI() as graph, WebhookReceiver(hook_secret, path=f"/hook/{hook_token}") as receiver:
        graph.add_user_token(user_token, [("3001", "Bakery Page", page_token)])
        env = herald_env(
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_URL=api.url,
            FACEBOOK_GRAPH_URL=graph.url,
            DATABASE_URL=sqlite_url,
            ENCRYPTION_KEY=key,
            SCHEDULER_INTERVAL="1",
            # A test server's limits (as in the other e2e tests): the chat's answers come at once.
            TELEGRAM_MESSAGES_PER_SECOND="3000",
            TELEGRAM_GROUP_MESSAGES_PER_MINUTE="6000",
            LOG_LEVEL="DEBUG",
        )
        webhook_url = receiver.url
        process = await start_herald(env, tmp_path)
        assert process.stderr is not None
        log_read = asyncio.create_task(process.stderr.read())  # drained all along: a full pipe blocks
        try:
            await drive_a_whole_session(Person(api, ALICE), user_token, webhook_url, hook_secret)
            assert [m.get("caption") for m in api.bot_messages(SHOP)] == ["Fresh bread today\n\na loaf"]
            published = [str(entry.get("message")) for entry in graph.feed("3001") + graph.photos("3001")]
            delivered = [str(r.json.get("caption")) for r in receiver.requests if r.json.get("type") != "ping"]
            assert any("Fresh bread today" in text for text in published), published
            assert len(delivered) == 1 and "Fresh bread today" in delivered[0]
            assert all(r.verified for r in receiver.requests)
        finally:
            await stop_process(process)
            log = (await log_read).decode("utf-8", "replace")
    assert process.returncode == 0, log[-2000:]

    # The log tells the session (so a log that lost its lines cannot pass).
    for line in ("Herald is running (bot)", "scheduled post", "facebook delivery to page 3001: sent",
                 "webhook delivery to wh"):  # fmt: skip
        assert line in log, line
    webhook_path = f"/hook/{hook_token}"
    secrets_in_play = {
        "bot token": api.token,
        "bot token's secret part": api.token.partition(":")[2],
        "Facebook user token": user_token,
        "Facebook Page token": page_token,
        "webhook URL": webhook_url,
        "webhook URL's path": webhook_path,
        "webhook URL's token": hook_token,
        "webhook secret": hook_secret,
        "ENCRYPTION_KEY": key,
    }
    found = {name: log.count(secret) for name, secret in secrets_in_play.items() if secret in log}
    assert found == {}, f"secrets in the log: {found}"


async def drive_a_whole_session(alice: Person, user_token: str, webhook_url: str, hook_secret: str) -> None:
    """/start, a Facebook Page and a webhook added, a post with a photo scheduled to both and to a
    channel, the report read."""
    await alice.say("/start", expect="schedules posts")
    await connect_facebook(alice, user_token, pages=1)

    await start_adding(alice, "Webhook", expect="Send the webhook's")
    await alice.say(webhook_url, expect="signing secret")
    await alice.say(hook_secret, expect="a signed test delivery was accepted")
    await alice.press("Use 127.0.0.1", expect="saved")

    await choose_every_target(alice, 3)
    await alice.send_photos([jpeg_bytes(64, 48, b"loaf")], ["a loaf"])
    await alice.expect("1 photo in")
    await alice.say("Fresh bread today", expect="step 4 of 5")
    await schedule_for(alice, typed="in 2 seconds")
    await alice.expect("to 3/3 targets", timeout=30)
