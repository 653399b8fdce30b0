"""Herald's settings: one object read once from the environment or `.env`, then passed down."""

from __future__ import annotations

import ipaddress
import math
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from pydantic import ValidationError, ValidationInfo, ValidatorFunctionWrapHandler, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///data/herald.db"
# What a bot may download from Telegram's cloud (getFile), and move either way through a local Bot
# API server, in MB (publishers.telegram_layout keeps the same numbers).
DOWNLOAD_LIMIT_MB = 20
LOCAL_FILE_LIMIT_MB = 2000
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DAY = 86400
# (lowest, highest, unit) of every number. Each bound keeps the bot usable: a 1 ms sweep floods
# the log, a lease shorter than a slow send lets a second worker take a live claim, `inf` or
# `1e12` overflows the timers built from them.
BOUNDS: dict[str, tuple[float, float, str]] = {
    "scheduler_interval": (1, 3600, "seconds"),
    "max_lateness": (0, 30 * DAY, "seconds (30 days)"),
    "claim_lease": (10, 3600, "seconds"),
    "shutdown_grace": (0, 60, "seconds"),
    "retry_max_delay": (1, 3600, "seconds"),
    "publish_concurrency": (1, 10_000, "posts"),
    # The rate limiter lets at least one message through per window, so below 1 means 1.
    "telegram_messages_per_second": (1, 10_000, "messages per second"),
    "telegram_group_messages_per_minute": (1, 600_000, "messages per minute"),
}
# What @BotFather gives: the bot's numeric id, a colon, then a secret of letters, digits, - and _.
BOT_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
# Telegram's rules for setWebhook: an HTTPS URL on one of these ports, and a secret_token of 1–256
# of these characters (it comes back in every request's X-Telegram-Bot-Api-Secret-Token header).
WEBHOOK_PORTS = (443, 80, 88, 8443)
WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOG_FORMATS = ("text", "json")
# A host name as a listening address may be given (localhost, a container's service name).
HOST_NAME_SHAPE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def _plain(number: float) -> str:
    """A bound as a person writes it: 2592000, not 2.592e+06."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line a person can act on."""


class Settings(BaseSettings):
    """Every variable of PRODUCT.md's configuration table, validated."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = DEFAULT_DATABASE_URL
    scheduler_interval: float = 30
    max_lateness: float = DAY
    # Seconds a worker's claim on a post holds without renewal; a dead worker's posts are
    # taken over after this. Not in PRODUCT.md's table: tests shorten it.
    claim_lease: float = 60
    # Seconds in-flight sends may finish after SIGTERM or SIGINT before the process exits.
    shutdown_grace: float = 5
    # The longest wait between two tries of a retryable failure. Not in PRODUCT.md's table:
    # tests shorten it.
    retry_max_delay: float = 300
    # Posts one process publishes at once. Waiting for a channel's rate window holds a place, so
    # this is well above what the rate limits let through; it bounds memory (images) and claims.
    publish_concurrency: int = 256
    # Telegram's limits (bots FAQ); a test server may allow more.
    telegram_messages_per_second: float = 30
    telegram_group_messages_per_minute: float = 20
    allowed_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    encryption_key: str | None = None
    default_timezone: str = "UTC"
    # The language for people whose Telegram app speaks none Herald has (a catalogue in locales/).
    default_language: str = "en"
    facebook_graph_url: str = "https://graph.facebook.com/v21.0"
    log_level: str = "INFO"
    # Where Herald keeps its own files; see `data_folder`.
    data_dir: Path | None = None
    # TELEGRAM_API_URL is a local Bot API server run with --local: files up to 2,000 MB both ways
    # (the cloud's limits are 20 MB down, 50 MB up), read from its disk, which must be this machine's.
    telegram_local_mode: bool = False
    # Media URLs in an /import may name this machine or its private network (127.0.0.1, 10.x, …).
    # Off, a user cannot make Herald fetch from behind its firewall; tests turn it on.
    import_private_urls: bool = False
    # Webhook mode (issue 17): Telegram POSTs updates to this public HTTPS URL instead of being polled;
    # TLS ends at a reverse proxy that forwards to WEBHOOK_LISTEN:WEBHOOK_PORT/WEBHOOK_PATH.
    telegram_webhook_url: str | None = None
    # Checked on every request; generated into the data folder when not given (see telegram_webhook).
    telegram_webhook_secret: str | None = None
    # Loopback by default: only a reverse proxy on the same machine reaches the plain-HTTP listener.
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8080
    # The path the listener serves; None: the path of TELEGRAM_WEBHOOK_URL (a proxy passing it on).
    webhook_path: str | None = None
    # /healthz and /metrics (off unless a port is given), loopback unless told otherwise.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    log_format: str = "text"

    @field_validator("telegram_bot_token", "encryption_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("telegram_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        # The value is a secret: the message describes its shape and never repeats it.
        if value is not None and not BOT_TOKEN_SHAPE.fullmatch(value):
            raise ValueError(
                "must look like 123456789:AAH…, the bot's id, a colon and a secret, exactly as @BotFather gives it"
            )
        return value

    @field_validator(*BOUNDS, mode="wrap")
    @classmethod
    def _within_bounds(cls, value: object, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> object:
        number = handler(value)
        lowest, highest, unit = BOUNDS[str(info.field_name)]
        if not (math.isfinite(number) and lowest <= number <= highest):
            typed = value.strip() if isinstance(value, str) else repr(value)
            raise ValueError(f"must be between {_plain(lowest)} and {_plain(highest)} {unit}, got {typed}")
        return number

    @field_validator("telegram_api_url", "facebook_graph_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith("sqlite:///"):
            if not value[len("sqlite:///") :]:
                raise ValueError("sqlite:/// needs a file path, e.g. sqlite:///data/herald.db")
            return value
        if value.startswith(("mongodb://", "mongodb+srv://")):
            parsed = urlparse(value)
            if not parsed.hostname:
                raise ValueError("a mongodb:// URL needs a host, e.g. mongodb://localhost:27017/herald")
            return value
        raise ValueError("must start with sqlite:/// or mongodb://, e.g. sqlite:///data/herald.db")

    @field_validator("allowed_user_ids", mode="before")
    @classmethod
    def _user_ids(cls, value: object) -> object:
        if isinstance(value, str):
            ids = set()
            for part in value.replace(" ", "").split(","):
                if not part:
                    continue
                if not part.lstrip("-").isdigit():
                    raise ValueError(f"must be comma-separated Telegram user ids, got {part!r}")
                ids.add(int(part))
            return frozenset(ids)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("encryption_key")
    @classmethod
    def _fernet_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            Fernet(value.encode())
        except (ValueError, TypeError):
            raise ValueError(
                "must be a Fernet key (32 url-safe base64-encoded bytes); make one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from None
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        import i18n

        found = i18n.supported(value.strip())
        if found is None:
            raise ValueError(f"must be one of {', '.join(i18n.available())} (a catalogue in locales/), got {value!r}")
        return found

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"must be an IANA time zone such as Europe/Berlin, got {value!r}") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().upper()
            if value not in LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
        return value

    @field_validator("telegram_local_mode")
    @classmethod
    def _local_server(cls, value: bool, info: ValidationInfo) -> bool:
        url = str(info.data.get("telegram_api_url") or "")
        if value and urlparse(url).hostname == "api.telegram.org":
            raise ValueError(
                "needs TELEGRAM_API_URL to name your own Bot API server (started with --local), not api.telegram.org"
            )
        return value

    @field_validator("telegram_webhook_url", "telegram_webhook_secret", "webhook_path", "metrics_port", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = urlparse(value)
        if parsed.scheme != "https" or not parsed.hostname:
            raise ValueError(
                f"must be the public https:// URL Telegram posts updates to (TLS at your reverse proxy), got {value!r}"
            )
        try:
            port = parsed.port or 443
        except ValueError:
            raise ValueError(f"has a port that is not a number: {value!r}") from None
        if port not in WEBHOOK_PORTS:
            ports = ", ".join(str(p) for p in WEBHOOK_PORTS)
            raise ValueError(f"Telegram sends webhooks only to ports {ports}, got {port}")
        if parsed.query or parsed.fragment:
            raise ValueError(f"must have no query or fragment (the secret goes in a header), got {value!r}")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        # A secret: the message describes its shape and never repeats it.
        if value is not None and not WEBHOOK_SECRET_SHAPE.fullmatch(value):
            raise ValueError("must be 1 to 256 characters, each a letter, a digit, _ or - (Telegram's rule)")
        return value

    @field_validator("webhook_listen", "metrics_host")
    @classmethod
    def _listening_host(cls, value: str) -> str:
        value = value.strip()
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not HOST_NAME_SHAPE.fullmatch(value):
                raise ValueError(
                    f"must be an IP address or a host name such as 127.0.0.1 or 0.0.0.0, got {value!r}"
                ) from None
        return value

    @field_validator("webhook_port", "metrics_port", mode="wrap")
    @classmethod
    def _tcp_port(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        try:
            port = handler(value)
        except ValidationError:
            raise ValueError(f"must be a TCP port, a whole number from 1 to 65535, got {value!r}") from None
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"must be a TCP port, a whole number from 1 to 65535, got {value!r}")
        return port

    @field_validator("webhook_path")
    @classmethod
    def _webhook_path(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("/") or any(c in value for c in "?# ")):
            raise ValueError(f"must be a path starting with /, such as /telegram, got {value!r}")
        return value

    @field_validator("metrics_port")
    @classmethod
    def _metrics_apart(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("telegram_webhook_url") and value == info.data.get("webhook_port"):
            raise ValueError(f"must differ from WEBHOOK_PORT ({value}): each listener needs a port of its own")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in LOG_FORMATS:
                raise ValueError(f"must be one of {', '.join(LOG_FORMATS)}, got {value!r}")
        return value

    @property
    def webhook_listen_path(self) -> str:
        """The path the webhook listener serves: WEBHOOK_PATH, else TELEGRAM_WEBHOOK_URL's own path."""
        if self.webhook_path is not None:
            return self.webhook_path
        return urlparse(self.telegram_webhook_url or "").path or "/"

    @property
    def file_limit_mb(self) -> int:
        """The largest media file Herald takes, in MB: what a bot may download from Telegram (20 MB),
        or 2,000 MB through a local Bot API server."""
        return LOCAL_FILE_LIMIT_MB if self.telegram_local_mode else DOWNLOAD_LIMIT_MB

    @property
    def is_sqlite(self) -> bool:
        """True when the embedded SQLite store is configured."""
        return self.database_url.startswith("sqlite:///")

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file named by `DATABASE_URL` (only meaningful when `is_sqlite`)."""
        return Path(self.database_url[len("sqlite:///") :])

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """What no log line may show: the bot token, ENCRYPTION_KEY and the database's password."""
        return (
            self.telegram_bot_token,
            self.encryption_key,
            urlparse(self.database_url).password,
            self.telegram_webhook_secret,
        )

    @property
    def data_folder(self) -> Path:
        """Herald's own files (a generated key, the live workers' lock files): DATA_DIR, else the
        folder of the SQLite file, else `data`."""
        if self.data_dir is not None:
            return self.data_dir
        return self.sqlite_path.parent if self.is_sqlite else Path("data")


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; a bad value raises ConfigError naming the variable in one line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = str(item["loc"][0]).upper() if item["loc"] else "settings"
            message = str(item["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise ConfigError("; ".join(problems)) from None
