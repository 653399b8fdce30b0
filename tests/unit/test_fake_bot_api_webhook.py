"""The fake Bot API's webhooks, through the real python-telegram-bot: setWebhook refuses what
Telegram refuses, getUpdates is refused while a webhook is set, updates are POSTed with the secret
and kept until the receiver takes them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, Conflict

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.local_server import serve_locally

ALICE = 42
PUBLIC = "https://bot.example"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.add_user(ALICE, "Alice")
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


class Receiver:
    """The bot's side of a webhook: records each POST; answers `status` (200 unless changed)."""

    def __init__(self) -> None:
        self.received: list[tuple[str | None, dict[str, object]]] = []
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=self.status)


@pytest.fixture
async def receiver(api: FakeBotAPI) -> AsyncIterator[Receiver]:
    receiving = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiving.handle)
    runner, url = await serve_locally(app)
    api.route_webhook(PUBLIC, url)
    try:
        yield receiving
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("url", "secret", "says"),
    [
        ("http://bot.example/hook", None, "An HTTPS URL must be provided"),
        ("https://bot.example:8080/hook", None, "only on ports 80, 88, 443 or 8443"),
        ("https://bot.example/hook", "has spaces in it", "secret token contains unallowed characters"),
        ("https://bot.example/hook", "x" * 257, "secret token contains unallowed characters"),
    ],
)
async def test_set_webhook_refuses_what_telegram_refuses(
    api: FakeBotAPI, bot: Bot, receiver: Receiver, url: str, secret: str | None, says: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){says}"):
        await bot.set_webhook(url, secret_token=secret)
    assert api.webhook is None and (await bot.get_webhook_info()).url == ""


async def test_updates_go_to_the_webhook_with_the_secret_and_get_updates_is_refused_meanwhile(
    api: FakeBotAPI, bot: Bot, receiver: Receiver
) -> None:
    assert await bot.set_webhook(f"{PUBLIC}/hook", secret_token="s3cret_token", allowed_updates=["message"])
    info = await bot.get_webhook_info()
    assert info.url == f"{PUBLIC}/hook" and info.allowed_updates == ("message",)
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()

    api.send_text(ALICE, "hello")
    await api.wait_for(lambda: receiver.received)
    secret, update = receiver.received[0]
    assert secret == "s3cret_token"
    assert update["message"]["text"] == "hello"  # type: ignore[index]
    await api.wait_for(lambda: api.pending_updates() == 0)


async def test_an_update_the_receiver_refuses_is_kept_and_sent_again(
    api: FakeBotAPI, bot: Bot, receiver: Receiver
) -> None:
    receiver.status = 500
    await bot.set_webhook(f"{PUBLIC}/hook")
    api.send_text(ALICE, "again")
    await api.wait_for(lambda: len(receiver.received) >= 2)
    assert api.pending_updates() == 1
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1 and "500" in str(info.last_error_message)
    receiver.status = 200
    await api.wait_for(lambda: api.pending_updates() == 0)
    first, last = receiver.received[0][1], receiver.received[-1][1]
    assert first["update_id"] == last["update_id"]


async def test_delete_webhook_lets_get_updates_have_what_waited(api: FakeBotAPI, bot: Bot, receiver: Receiver) -> None:
    receiver.status = 502
    await bot.set_webhook(f"{PUBLIC}/hook")
    api.send_text(ALICE, "kept")
    await api.wait_for(lambda: receiver.received)
    assert await bot.delete_webhook()
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.text == "kept"


async def test_post_to_webhook_sends_the_given_secret_header_or_none(
    api: FakeBotAPI, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(f"{PUBLIC}/hook", secret_token="right")
    update = api.new_update("message", {"message_id": 1, "text": "hi"})
    assert await api.post_to_webhook(update, secret="wrong") == 200
    assert await api.post_to_webhook(update, secret=None) == 200
    assert [secret for secret, _ in receiver.received] == ["wrong", None]
    assert json.dumps(receiver.received[0][1]) == json.dumps(update)
    await asyncio.sleep(0)
