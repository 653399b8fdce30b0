"""Start-up failures, as an operator meets them: `python bot.py` ends within seconds with exit
status 2 and one line on stderr naming the cause and the variable to fix, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from cryptography.fernet import Fernet

from tests.e2e.herald_process import closed_port, herald_env, run_until_exit
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.local_server import serve_locally

KEY = Fernet.generate_key().decode()
# A well-formed token the fake Bot API does not know: Telegram answers such a token 401.
UNKNOWN_TOKEN = "1000000001:TEST-TOKEN-the-fake-does-not-know"


@dataclass
class Case:
    """Settings that cannot work, and what the one line must say about them."""

    settings: dict[str, str]
    variable: str
    says: str
    within: float = 8.0
    kind: str = "Start-up failed"
    secrets: list[str] = field(default_factory=list)


CASES = {
    "mongodb unreachable": Case(
        {"DATABASE_URL": "mongodb://herald:pa55word-of-db@127.0.0.1:{closed}/herald", "ENCRYPTION_KEY": KEY},
        "DATABASE_URL",
        "cannot reach MongoDB at 127.0.0.1:",
        within=12,
        secrets=["pa55word-of-db"],
    ),
    "bot api unreachable": Case({"TELEGRAM_API_URL": "http://127.0.0.1:{closed}"}, "TELEGRAM_API_URL", "cannot reach"),
    "token refused": Case(
        {"TELEGRAM_BOT_TOKEN": UNKNOWN_TOKEN},
        "TELEGRAM_BOT_TOKEN",
        "refused the token (Unauthorized)",
        secrets=[UNKNOWN_TOKEN, UNKNOWN_TOKEN.partition(":")[2]],
    ),
    "token malformed": Case(
        {"TELEGRAM_BOT_TOKEN": "abc"}, "TELEGRAM_BOT_TOKEN", "must look like", kind="Configuration error"
    ),
    "sqlite folder cannot be created": Case(
        {"DATABASE_URL": "sqlite:////proc/x/herald.db"}, "DATABASE_URL", "/proc/x/herald.db"
    ),
    "sqlite folder cannot be created, key given": Case(
        {"DATABASE_URL": "sqlite:////proc/x/herald.db", "ENCRYPTION_KEY": KEY}, "DATABASE_URL", "/proc/x/herald.db"
    ),
    # /proc/self exists and nobody, root included, may create files in it.
    "data folder read-only (key file)": Case(
        {"DATABASE_URL": "sqlite:////proc/self/herald.db"}, "DATABASE_URL", "/proc/self/herald.db"
    ),
    "data folder read-only (database file)": Case(
        {"DATABASE_URL": "sqlite:////proc/self/herald.db", "ENCRYPTION_KEY": KEY},
        "DATABASE_URL",
        "/proc/self/herald.db",
    ),
    "database file is a folder": Case(
        {"DATABASE_URL": "sqlite:///{tmp}/folder.db", "ENCRYPTION_KEY": KEY},
        "DATABASE_URL",
        "unable to open database file",
    ),
    "a sweep every millisecond": Case(
        {"SCHEDULER_INTERVAL": "0.001"},
        "SCHEDULER_INTERVAL",
        "must be between 1 and 3600 seconds, got 0.001",
        kind="Configuration error",
    ),
    "an endless lease": Case(
        {"CLAIM_LEASE": "inf"},
        "CLAIM_LEASE",
        "must be between 10 and 3600 seconds, got inf",
        kind="Configuration error",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_a_start_up_failure_is_one_line_naming_the_variable_and_exit_2(
    api: FakeBotAPI, tmp_path: Path, case: Case
) -> None:
    settings = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/data/herald.db",
    }
    (tmp_path / "folder.db").mkdir()
    closed = str(closed_port())
    for name, value in case.settings.items():
        settings[name] = value.replace("{closed}", closed).replace("{tmp}", str(tmp_path))

    exited = await run_until_exit(herald_env(**settings), tmp_path, timeout=case.within + 10)

    lines = exited.stderr.strip().splitlines()
    assert len(lines) == 1, exited.stderr
    assert lines[0].startswith(f"{case.kind}: {case.variable}: "), lines[0]
    assert case.says in lines[0]
    assert exited.status == 2
    assert exited.seconds < case.within, f"took {exited.seconds:.1f} s"
    for secret in case.secrets:
        assert secret not in exited.stderr


async def test_a_server_that_is_not_a_bot_api_is_one_line_too(tmp_path: Path) -> None:
    async def proxy_error(request: web.Request) -> web.Response:
        return web.Response(status=502, content_type="text/html", text="<html><h1>502 Bad Gateway</h1>\n</html>")

    app = web.Application()
    app.router.add_route("*", "/{anything:.*}", proxy_error)
    runner, url = await serve_locally(app)
    try:
        settings = herald_env(
            TELEGRAM_BOT_TOKEN=UNKNOWN_TOKEN, TELEGRAM_API_URL=url, DATABASE_URL=f"sqlite:///{tmp_path}/herald.db"
        )
        exited = await run_until_exit(settings, tmp_path, timeout=15)
    finally:
        await runner.cleanup()
    assert exited.stderr.strip() == (
        f"Start-up failed: TELEGRAM_API_URL: the server at {url} does not answer as a Bot API (Bad Gateway (502))"
    )
    assert exited.status == 2
