"""The settings of webhook mode, /healthz and /metrics and JSON logs, the kept webhook secret, and
the one line a flood of refused webhook requests makes."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from config import ConfigError, load_settings
from telegram_webhook import (
    REFUSALS,
    SECRET_FILE_NAME,
    RefusedRequests,
    load_or_create_secret,
    watch_refusals,
    webhook_secret,
)

TOKEN = "123456:ABCdef"


def settings(**values: object):  # type: ignore[no-untyped-def]
    return load_settings(_env_file=None, telegram_bot_token=TOKEN, **values)


def test_defaults_listen_on_loopback_and_serve_no_metrics() -> None:
    default = settings()
    assert default.telegram_webhook_url is None and default.telegram_webhook_secret is None
    assert (default.webhook_listen, default.webhook_port, default.webhook_path) == ("127.0.0.1", 8080, None)
    assert (default.metrics_port, default.metrics_host, default.log_format) == (None, "127.0.0.1", "text")


def test_the_listener_serves_the_public_urls_path_unless_told_another() -> None:
    assert settings(telegram_webhook_url="https://bot.example/tg/updates").webhook_listen_path == "/tg/updates"
    assert settings(telegram_webhook_url="https://bot.example").webhook_listen_path == "/"
    told = settings(telegram_webhook_url="https://bot.example/tg", webhook_path="/inside")
    assert told.webhook_listen_path == "/inside"


def test_the_webhook_secret_is_a_secret_and_never_echoed() -> None:
    assert "Very-secret_1" in settings(telegram_webhook_secret="Very-secret_1").secrets
    with pytest.raises(ConfigError) as refused:
        settings(telegram_webhook_secret="Very secret 1")
    assert "Very secret" not in str(refused.value) and str(refused.value).startswith("TELEGRAM_WEBHOOK_SECRET: ")


@pytest.mark.parametrize("port", ["0", "65536", "-1", "8080.5", "http"])
def test_ports_are_whole_numbers_from_1_to_65535(port: str) -> None:
    for name in ("webhook_port", "metrics_port"):
        with pytest.raises(ConfigError, match=f"^{name.upper()}: must be a TCP port"):
            settings(**{name: port})


def test_an_empty_metrics_port_means_off() -> None:
    assert settings(metrics_port="").metrics_port is None
    assert settings(metrics_port="9464").metrics_port == 9464


def test_a_generated_secret_is_kept_owner_only_and_reused(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path / "data")
    path = tmp_path / "data" / SECRET_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and first == load_or_create_secret(tmp_path / "data")
    path.chmod(0o644)
    assert load_or_create_secret(tmp_path / "data") == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    given = settings(telegram_webhook_secret="given-one", data_dir=tmp_path / "other")
    assert webhook_secret(given) == "given-one" and not (tmp_path / "other").exists()


def record(message: str, level: int = logging.DEBUG) -> logging.LogRecord:
    return logging.LogRecord("telegram.ext.Updater", level, __file__, 1, message, (), None)


def test_refused_requests_make_one_warning_per_window_with_their_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    watcher = RefusedRequests(floor=logging.INFO, every=3600)
    for _ in range(5):
        assert not watcher.filter(record(REFUSALS[0]))
    assert not watcher.filter(record(REFUSALS[1] + ": guessed-secret"))
    warnings = [r for r in caplog.records if r.name == "telegram_webhook"]
    assert len(warnings) == 1 and "refused 1 webhook request" in warnings[0].getMessage()
    assert "guessed-secret" not in caplog.text
    assert watcher.refused == 6

    every_time = RefusedRequests(floor=logging.INFO, every=0)
    every_time.filter(record(REFUSALS[0]))
    every_time.filter(record(REFUSALS[0]))
    assert len([r for r in caplog.records if r.name == "telegram_webhook"]) == 3


def test_other_lines_of_the_webhook_server_pass_only_at_the_cap() -> None:
    watcher = RefusedRequests(floor=logging.INFO)
    assert not watcher.filter(record('Webhook received data: {"text": "what a person typed"}'))
    assert watcher.filter(record("Webhook Server stopped", logging.INFO))


def test_each_listener_gets_a_fresh_watcher_that_keeps_the_cap() -> None:
    logger = logging.getLogger("telegram.ext.Updater")
    level, filters = logger.level, list(logger.filters)
    logger.setLevel(logging.WARNING)
    try:
        first = watch_refusals()
        second = watch_refusals()
        assert [f for f in logger.filters if isinstance(f, RefusedRequests)] == [second] and second is not first
        assert first.floor == second.floor == logging.WARNING
        assert logger.level == logging.DEBUG  # refusals (DEBUG lines) reach the watcher
    finally:
        logger.filters[:] = filters
        logger.setLevel(level)
