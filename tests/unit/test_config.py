"""Settings: defaults, and one clear line naming the variable for each bad value."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from config import ConfigError, load_settings
from storage import build_store


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_URL",
        "DATABASE_URL",
        "SCHEDULER_INTERVAL",
        "MAX_LATENESS",
        "ALLOWED_USER_IDS",
        "ENCRYPTION_KEY",
        "DEFAULT_TIMEZONE",
        "DEFAULT_LANGUAGE",
        "FACEBOOK_GRAPH_URL",
        "LOG_LEVEL",
        "CLAIM_LEASE",
        "SHUTDOWN_GRACE",
        "RETRY_MAX_DELAY",
        "PUBLISH_CONCURRENCY",
        "TELEGRAM_MESSAGES_PER_SECOND",
        "TELEGRAM_GROUP_MESSAGES_PER_MINUTE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_match_the_product_table() -> None:
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.database_url == "sqlite:///data/herald.db"
    assert settings.scheduler_interval == 30
    assert settings.max_lateness == 86400
    assert settings.allowed_user_ids == frozenset()
    assert settings.default_timezone == "UTC"
    assert settings.default_language == "en"
    assert settings.facebook_graph_url == "https://graph.facebook.com/v21.0"
    assert settings.log_level == "INFO"
    assert settings.shutdown_grace == 5
    assert settings.retry_max_delay == 300
    assert settings.claim_lease == 60


def test_values_come_from_the_environment_and_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=123:abc\nDEFAULT_TIMEZONE=Europe/Berlin\n")
    monkeypatch.setenv("ALLOWED_USER_IDS", "11, 22,33")
    monkeypatch.setenv("SCHEDULER_INTERVAL", "5")
    settings = load_settings()
    assert settings.telegram_bot_token == "123:abc"
    assert settings.default_timezone == "Europe/Berlin"
    assert settings.allowed_user_ids == frozenset({11, 22, 33})
    assert settings.scheduler_interval == 5


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DATABASE_URL", "postgres://localhost/herald", "sqlite:///"),
        ("DATABASE_URL", "sqlite:///", "file path"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "IANA"),
        ("DEFAULT_LANGUAGE", "klingon", "must be one of en, ru"),
        ("ENCRYPTION_KEY", "not-a-key", "Fernet"),
        ("ALLOWED_USER_IDS", "12,abc", "Telegram user ids"),
        ("SCHEDULER_INTERVAL", "0", "between 1 and 3600 seconds, got 0"),
        ("TELEGRAM_API_URL", "localhost:8081", "http"),
        ("LOG_LEVEL", "LOUD", "INFO"),
    ],
)
def test_a_bad_value_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"{name}: ")
    assert says in message
    assert "\n" not in message


@pytest.mark.parametrize(("value", "expected"), [("ru", "ru"), ("RU", "ru"), ("ru-RU", "ru"), (" en ", "en")])
def test_the_default_language_is_one_herald_has(monkeypatch: pytest.MonkeyPatch, value: str, expected: str) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", value)
    assert load_settings().default_language == expected


def test_mongodb_needs_an_explicit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mongodb://127.0.0.1:1/herald")
    with pytest.raises(ConfigError, match=r"^ENCRYPTION_KEY: required with MongoDB"):
        build_store(load_settings())
    monkeypatch.setenv("ENCRYPTION_KEY", Fernet.generate_key().decode())
    assert type(build_store(load_settings())).__name__ == "MongoStore"


@pytest.mark.parametrize(
    ("name", "lowest", "highest"),
    [
        ("SCHEDULER_INTERVAL", "1", "3600"),
        ("CLAIM_LEASE", "10", "3600"),
        ("MAX_LATENESS", "0", "2592000"),
        ("SHUTDOWN_GRACE", "0", "60"),
        ("RETRY_MAX_DELAY", "1", "3600"),
        ("PUBLISH_CONCURRENCY", "1", "10000"),
        ("TELEGRAM_MESSAGES_PER_SECOND", "1", "10000"),
        ("TELEGRAM_GROUP_MESSAGES_PER_MINUTE", "1", "600000"),
    ],
)
def test_every_number_is_bounded_and_its_bounds_are_accepted(
    monkeypatch: pytest.MonkeyPatch, name: str, lowest: str, highest: str
) -> None:
    for edge in (lowest, highest):
        monkeypatch.setenv(name, edge)
        assert getattr(load_settings(), name.lower()) == float(edge)
    outside = [str(int(lowest) - 1), str(int(highest) + 1), "1000000000000"]
    if name != "PUBLISH_CONCURRENCY":  # a count of posts: only whole numbers are numbers of it
        outside += ["inf", "-inf", "nan", "1e12", "-0.5", str(float(lowest) - 0.001)]
    for value in outside:
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError) as raised:
            load_settings()
        message = str(raised.value)
        assert message.startswith(f"{name}: must be between {lowest} and {highest} "), message
        assert message.endswith(f", got {value}") and "\n" not in message


def test_a_sweep_every_millisecond_is_refused_with_the_usual_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEDULER_INTERVAL", "0.001")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == "SCHEDULER_INTERVAL: must be between 1 and 3600 seconds, got 0.001"


@pytest.mark.parametrize("token", ["abc", "98765", ":ABC", "123:", "123:AB C", "12a:ABC", "123:ABC/getMe"])
def test_a_malformed_token_is_refused_without_repeating_it(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("TELEGRAM_BOT_TOKEN: must look like 123456789:")
    assert token not in message


def test_a_token_shaped_as_botfather_gives_it_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "7312345678:TEST-token_with-every-kind"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", f" {token} ")
    assert load_settings().telegram_bot_token == token
