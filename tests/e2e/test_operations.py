"""Running Herald for real: webhook mode against the fake Bot API, /healthz and /metrics, the
settings of both refused in one line, and JSON log lines naming the post."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import running_bot
from config import Settings
from scheduler.jobs import SCHEDULER_KEY
from storage import build_store
from storage.models import PostStatus
from telegram_webhook import SECRET_FILE_NAME
from tests.conftest import opened
from tests.e2e.conftest import ALICE, Person, bot_running, bot_settings, eventually
from tests.e2e.herald_process import ROOT, closed_port, herald_env, run_until_exit, start_herald
from tests.e2e.steps import add_channels, channel_targets, store_post
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.local_server import stop_process
from tests.fakes.mongo_standin import SERVER_SCRIPT, free_port

PUBLIC = "https://herald.example"
HOOK_URL = f"{PUBLIC}/telegram/updates"
SHOP, TEAM = -1003000000001, -1003000000002
CHANNELS = {SHOP: "Shop news", TEAM: "Team chat"}
WELCOME = "What would you like to do?"


def webhook_settings(api: FakeBotAPI, url: str, key: str, data: Path, **more: Any) -> tuple[Settings, int]:
    """Settings of webhook mode on a free port, and that port, routed by the fake's "proxy"."""
    port = closed_port()
    api.route_webhook(PUBLIC, f"http://127.0.0.1:{port}")
    settings = bot_settings(api, url, key, telegram_webhook_url=HOOK_URL, webhook_port=port, data_dir=data, **more)
    return settings, port


def forged_start(api: FakeBotAPI) -> dict[str, Any]:
    """An update as Telegram would send it when Alice types /start (not queued in the fake)."""
    message = {
        "message_id": 999_001,
        "date": int(time.time()),
        "chat": {"id": ALICE, "type": "private", "first_name": "Alice"},
        "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    return api.new_update("message", message)


async def test_webhook_mode_sets_the_webhook_with_a_kept_secret_and_refuses_requests_without_it(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alice = Person(api, ALICE)
    data = tmp_path / "data"
    settings, _ = webhook_settings(api, sqlite_url, encryption_key, data)
    caplog.set_level(logging.INFO)
    async with bot_running(settings):
        [call] = api.calls_of("setWebhook")
        secret = (data / SECRET_FILE_NAME).read_text().strip()
        assert stat.S_IMODE((data / SECRET_FILE_NAME).stat().st_mode) == 0o600
        assert call.params["url"] == HOOK_URL and call.params["secret_token"] == secret
        assert "chat_member" in call.params["allowed_updates"] and "callback_query" in call.params["allowed_updates"]
        assert not call.params.get("drop_pending_updates")
        assert api.calls_of("getUpdates") == [] and api.calls_of("deleteWebhook") == []

        # Telegram delivers what Alice types to the webhook, with the secret: she is answered.
        await alice.say("/start", expect=WELCOME)
        assert api.webhook is not None and set(api.webhook.answers) == {200}

        # The same update without the secret, or with a wrong one, is refused and not handled.
        before = alice.count()
        assert await api.post_to_webhook(forged_start(api), secret=None) == 403
        assert await api.post_to_webhook(forged_start(api), secret="not-" + secret) == 403
        assert await api.post_to_webhook(forged_start(api), secret=secret[:-1]) == 403
        await asyncio.sleep(0.5)
        assert alice.count() == before
        answered = alice.snapshot()
        assert await api.post_to_webhook(forged_start(api), secret=secret) == 200
        await alice.expect(WELCOME, since=answered)

    refusals = [r.getMessage() for r in caplog.records if "webhook request" in r.getMessage()]
    assert refusals == [refusals[0]] and "refused 1 webhook request" in refusals[0], refusals
    assert secret not in caplog.text

    # A restart keeps the secret, so the URL Telegram knows stays good.
    async with bot_running(settings):
        assert [c.params["secret_token"] for c in api.calls_of("setWebhook")] == [secret, secret]


async def test_polling_again_deletes_the_webhook_and_gets_what_waited(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str, tmp_path: Path
) -> None:
    alice = Person(api, ALICE)
    settings, _ = webhook_settings(
        api, sqlite_url, encryption_key, tmp_path / "data", telegram_webhook_secret="A-given_secret-42"
    )
    async with bot_running(settings):
        await alice.say("/start", expect=WELCOME)
        assert api.calls_of("setWebhook")[-1].params["secret_token"] == "A-given_secret-42"
    # While no process runs, the fake keeps what Alice typed; getUpdates is refused meanwhile.
    api.send_text(ALICE, "/help")
    async with aiohttp.ClientSession() as session, session.post(f"{api.base_url}{api.token}/getUpdates") as answer:
        refused = await answer.json()
    assert answer.status == 409 and "webhook is active" in refused["description"]

    polling = bot_settings(api, sqlite_url, encryption_key, data_dir=tmp_path / "data")
    before = alice.snapshot()
    async with bot_running(polling):
        await alice.expect("How Herald works", since=before)
        assert api.webhook is None
        [deleted] = api.calls_of("deleteWebhook")
        assert not deleted.params.get("drop_pending_updates")
        assert api.calls_of("getUpdates")


async def test_a_worker_never_polls_nor_sets_a_webhook(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str, tmp_path: Path
) -> None:
    settings, port = webhook_settings(api, sqlite_url, encryption_key, tmp_path / "data")
    add_channels(api, CHANNELS)
    async with running_bot(settings, poll=False) as worker, opened(build_store(settings)) as store:
        await store_post(store, "From the worker", channel_targets({SHOP: "Shop news"}), timedelta(0))
        await eventually(lambda: api.bot_messages(SHOP))
        assert worker.updater is not None and not worker.updater.running
    touched = {"getUpdates", "setWebhook", "deleteWebhook", "setMyCommands"} & {c.method for c in api.calls}
    assert touched == set()
    with pytest.raises(aiohttp.ClientConnectionError):  # nothing listens on the webhook's port
        async with aiohttp.ClientSession() as session, session.post(f"http://127.0.0.1:{port}/telegram/updates"):
            pass


# -- /healthz and /metrics ----------------------------------------------------------------------


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, await answer.text()


def healthy(url: str) -> Callable[[], Awaitable[bool]]:
    """A check for `eventually`: /healthz answers 200."""

    async def answers_200() -> bool:
        return (await get(url))[0] == 200

    return answers_200


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics page, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def container_health_check(port: int) -> int:
    """The exit status of the image's HEALTHCHECK (scripts/healthcheck.py) against this port."""
    check = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "scripts" / "healthcheck.py"), env=herald_env(METRICS_PORT=str(port)),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await check.wait()


async def test_healthz_turns_503_while_sqlite_is_locked_and_back_when_it_is_free(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str, tmp_path: Path
) -> None:
    port = closed_port()
    settings = bot_settings(api, sqlite_url, encryption_key, metrics_port=port)
    healthz = f"http://127.0.0.1:{port}/healthz"
    assert await container_health_check(port) == 1  # nothing listens yet
    async with running_bot(settings, poll=False) as application:
        assert await get(healthz) == (200, '{"status": "ok"}')
        assert await container_health_check(port) == 0
        # Another program holds the write lock: Herald can write nothing, and says so.
        locker = sqlite3.connect(settings.sqlite_path, timeout=0)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            status, body = await get(healthz)
            assert status == 503
            assert json.loads(body)["status"] == "unhealthy"
            assert "database did not answer" in json.loads(body)["reason"] and "locked" in body
            assert await container_health_check(port) == 1
        finally:
            locker.rollback()
            locker.close()
        # The sweeps waited behind the lock too: healthy again once one has ended.
        await eventually(healthy(healthz), timeout=10)
        assert await get(healthz) == (200, '{"status": "ok"}')
        # Sweeps that stopped ending (a stuck scheduler) are unhealthy too.
        scheduler = application.bot_data[SCHEDULER_KEY]
        scheduler.last_sweep_ended -= 10 * settings.scheduler_interval
        status, body = await get(healthz)
        assert status == 503 and "the last sweep ended" in json.loads(body)["reason"]
        await eventually(healthy(healthz), timeout=10)  # the next sweep ends


@contextmanager
def congodb_of_our_own() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A CongoDB process for this test alone (it is paused and resumed), and its URL."""
    port = free_port()
    process = subprocess.Popen(
        ["node", str(SERVER_SCRIPT), str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().startswith("listening")
        yield f"mongodb://127.0.0.1:{port}/herald_health", process
    finally:
        process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait()


@pytest.mark.mongo
async def test_healthz_turns_503_while_mongodb_does_not_answer_and_back_when_it_does(
    api: FakeBotAPI, encryption_key: str, tmp_path: Path
) -> None:
    port = closed_port()
    with congodb_of_our_own() as (url, server):
        settings = bot_settings(api, url, encryption_key, metrics_port=port)
        healthz = f"http://127.0.0.1:{port}/healthz"
        async with running_bot(settings, poll=False):
            assert (await get(healthz))[0] == 200
            server.send_signal(signal.SIGSTOP)  # the server stops answering, its connections open
            try:
                status, body = await get(healthz)
                assert status == 503 and "database did not answer" in json.loads(body)["reason"]
            finally:
                server.send_signal(signal.SIGCONT)

            await eventually(healthy(healthz), timeout=20)


async def test_metrics_count_a_published_a_failed_and_a_missed_post_and_a_429(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    port = closed_port()
    add_channels(api, CHANNELS)
    alice = Person(api, ALICE)
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    async with bot_running(bot_settings(api, sqlite_url, encryption_key, metrics_port=port)) as store:
        status, page = await get(metrics_url)
        assert status == 200
        before = samples(page)
        api.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=SHOP)
        api.fail_next("sendMessage", error_code=400, description="Bad Request: chat not found", chat_id=TEAM)
        published = await store_post(store, "Out", channel_targets({SHOP: "Shop news"}), timedelta(0))
        failed = await store_post(store, "Lost", channel_targets({TEAM: "Team chat"}), timedelta(0))
        # Due two days ago, past MAX_LATENESS (a day): missed while the bot was offline, never tried.
        missed = await store_post(store, "Too late", channel_targets({TEAM: "Team chat"}), -timedelta(days=2))
        for post in (published, failed, missed):
            await alice.expect(f"#{post.short_id}", timeout=15)
        assert (await store.load_post(published.post_id)).status is PostStatus.PUBLISHED  # type: ignore[union-attr]
        assert (await store.load_post(failed.post_id)).status is PostStatus.FAILED  # type: ignore[union-attr]
        after = samples((await get(metrics_url))[1])
        sweeps = ("herald_sweep_duration_seconds_count", ())
        # A report goes out inside a sweep: that sweep is counted once it ends, a moment later.
        async with asyncio.timeout(10):
            while after.get(sweeps, 0.0) <= before.get(sweeps, 0.0):
                await asyncio.sleep(0.2)
                after = samples((await get(metrics_url))[1])

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("herald_posts_finished_total", status="published") == 1
    assert grew("herald_posts_finished_total", status="failed") == 2
    assert grew("herald_posts_finished_total", status="partial") == 0
    assert grew("herald_deliveries_total", platform="telegram", outcome="sent") == 1
    assert grew("herald_deliveries_total", platform="telegram", outcome="failed") == 1
    assert grew("herald_deliveries_total", platform="telegram", outcome="missed") == 1
    assert grew("herald_deliveries_total", platform="telegram", outcome="retry") == 0  # the 429 was the limiter's
    assert grew("herald_telegram_rate_limited_total") == 1
    assert grew("herald_publication_lag_seconds_count") == 1
    assert grew("herald_publication_lag_seconds_bucket", le="+Inf") == 1
    assert grew("herald_publication_lag_seconds_bucket", le="0.1") == 0  # it waited out the 429's second
    assert grew("herald_sweep_duration_seconds_count") >= 1
    assert ("herald_queue_depth", ()) in after and ("herald_claims_taken_over_total", ()) in after


# -- settings refused, and JSON logs --------------------------------------------------------------

BAD_SETTINGS = {
    "webhook over plain http": ({"TELEGRAM_WEBHOOK_URL": "http://herald.example/hook"}, "TELEGRAM_WEBHOOK_URL"),
    "webhook on a port Telegram refuses": (
        {"TELEGRAM_WEBHOOK_URL": "https://herald.example:8080/hook"},
        "TELEGRAM_WEBHOOK_URL",
    ),
    "secret with a character Telegram refuses": ({"TELEGRAM_WEBHOOK_SECRET": "pa55:word!"}, "TELEGRAM_WEBHOOK_SECRET"),
    "webhook port out of range": ({"WEBHOOK_PORT": "70000"}, "WEBHOOK_PORT"),
    "webhook path without a slash": ({"WEBHOOK_PATH": "hook"}, "WEBHOOK_PATH"),
    "listen address with a space": ({"WEBHOOK_LISTEN": "0.0.0.0 1"}, "WEBHOOK_LISTEN"),
    "metrics port not a number": ({"METRICS_PORT": "ninety"}, "METRICS_PORT"),
    "metrics on the webhook's port": (
        {"TELEGRAM_WEBHOOK_URL": "https://herald.example/hook", "WEBHOOK_PORT": "9000", "METRICS_PORT": "9000"},
        "METRICS_PORT",
    ),
    "metrics host not a host": ({"METRICS_PORT": "9000", "METRICS_HOST": "local host"}, "METRICS_HOST"),
    "log format unknown": ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
}


@pytest.mark.parametrize(("values", "variable"), BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
async def test_a_bad_webhook_metrics_or_log_setting_is_one_line_and_exit_2(
    api: FakeBotAPI, tmp_path: Path, values: dict[str, str], variable: str
) -> None:
    env = herald_env(
        TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url, DATABASE_URL=f"sqlite:///{tmp_path}/herald.db", **values
    )
    exited = await run_until_exit(env, tmp_path, timeout=15)
    lines = exited.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Configuration error: {variable}: "), exited.stderr
    assert exited.status == 2
    assert "pa55:word!" not in exited.stderr


async def test_a_metrics_port_in_use_is_one_line_and_exit_2(api: FakeBotAPI, tmp_path: Path) -> None:
    taken = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = taken.sockets[0].getsockname()[1]
    try:
        env = herald_env(
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_URL=api.url,
            DATABASE_URL=f"sqlite:///{tmp_path}/herald.db",
            METRICS_PORT=str(port),
        )
        exited = await run_until_exit(env, tmp_path, timeout=20)
    finally:
        taken.close()
    assert exited.stderr.strip().splitlines()[-1] == (
        f"Start-up failed: METRICS_PORT: cannot listen on 127.0.0.1:{port} (Address already in use)"
    )
    assert exited.status == 2


async def test_a_webhook_url_telegram_cannot_reach_is_one_line_and_exit_2(api: FakeBotAPI, tmp_path: Path) -> None:
    env = herald_env(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.url,
        DATABASE_URL=f"sqlite:///{tmp_path}/herald.db",
        TELEGRAM_WEBHOOK_URL="https://nowhere.example/hook",
        WEBHOOK_PORT=str(closed_port()),
    )
    exited = await run_until_exit(env, tmp_path, timeout=20)
    last = exited.stderr.strip().splitlines()[-1]
    assert last.startswith("Start-up failed: TELEGRAM_WEBHOOK_URL: setWebhook failed ("), exited.stderr
    assert "failed to resolve host" in last.lower() and "Traceback" not in exited.stderr
    assert exited.status == 2
    assert api.webhook is None and api.calls_of("setWebhook")


@asynccontextmanager
async def herald_running(env: dict[str, str], cwd: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await start_herald(env, cwd)
    try:
        yield process
    finally:
        await stop_process(process)


async def test_json_log_lines_parse_and_name_the_post_and_target(
    api: FakeBotAPI, tmp_path: Path, encryption_key: str
) -> None:
    add_channels(api, CHANNELS)
    url = f"sqlite:///{tmp_path}/herald.db"
    env = herald_env(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.url,
        DATABASE_URL=url,
        ENCRYPTION_KEY=encryption_key,
        SCHEDULER_INTERVAL="1",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    # Telegram is down for the first try: the engine logs the retry, naming post and target.
    api.fail_next("sendMessage", error_code=502, description="Bad Gateway", chat_id=SHOP)
    async with herald_running(env, tmp_path) as process:
        settings = bot_settings(api, url, encryption_key)
        async with opened(build_store(settings)) as store:
            post = await store_post(store, "Logged", channel_targets({SHOP: "Shop news"}), timedelta(0))
            await eventually(lambda: api.bot_messages(SHOP), timeout=20)
    assert process.returncode == 0
    assert process.stderr is not None
    lines = (await process.stderr.read()).decode().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    assert all(record["time"].endswith("+00:00") for record in records)
    retried = [r for r in records if r.get("post_id") == post.post_id and "trying again" in r["message"]]
    assert retried and retried[0]["target_id"] == f"tg{SHOP}" and retried[0]["logger"] == "scheduler.engine"
    assert any(r["message"].startswith("Herald is running") for r in records)
    assert api.token not in "\n".join(lines)
