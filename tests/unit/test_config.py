"""Settings: defaults, and one clear line naming the variable for each bad value."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from config import ConfigError, load_settings
from storage import build_store


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in (
        "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "DATABASE_URL", "SCHEDULER_INTERVAL", "MAX_LATENESS",
        "ALLOWED_USER_IDS", "ENCRYPTION_KEY", "DEFAULT_TIMEZONE", "FACEBOOK_GRAPH_URL", "LOG_LEVEL",
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
    assert settings.facebook_graph_url == "https://graph.facebook.com/v21.0"
    assert settings.log_level == "INFO"


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
        ("ENCRYPTION_KEY", "not-a-key", "Fernet"),
        ("ALLOWED_USER_IDS", "12,abc", "Telegram user ids"),
        ("SCHEDULER_INTERVAL", "0", "greater than 0"),
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


def test_mongodb_needs_an_explicit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mongodb://127.0.0.1:1/herald")
    with pytest.raises(ConfigError, match=r"^ENCRYPTION_KEY: required with MongoDB"):
        build_store(load_settings())
    monkeypatch.setenv("ENCRYPTION_KEY", Fernet.generate_key().decode())
    assert type(build_store(load_settings())).__name__ == "MongoStore"
