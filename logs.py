"""Logging set-up: one format on stderr, third-party loggers capped, and every secret redacted.

A redacting filter sits on the root logger's handlers, so it sees every record of every logger at
every level, after the message is formatted with its args and with the traceback text: the bot
token, each credential Herald has encrypted or decrypted (Facebook tokens, webhook URLs and
secrets, registered by `storage.crypto`), the encryption key and the database password are
replaced by `[redacted]`; so is anything shaped like a bot token, a Facebook token or an
``access_token=`` value, which may reach a log line before Herald has seen the credential.

LOG_FORMAT=json writes one JSON object per line instead (time in UTC, level, logger, message, and
the post and target being published when the line is about one: see `publishing`); the redactor
has rewritten the record before either format sees it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import quote, urlparse

REDACTED = "[redacted]"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Shorter strings are too common to replace everywhere (a 6-character password would do).
MIN_SECRET_LENGTH = 6
# The most each third-party logger may say, whatever LOG_LEVEL is: below these levels they log
# request URLs (the Bot API's carry the token), request bodies, database commands, and
# python-telegram-bot dumps every getUpdates result — what people typed, tokens they pasted
# before the bot deleted them included. Capped, LOG_LEVEL=DEBUG shows Herald's own debugging.
CAPPED_LOGGERS: dict[str, int] = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,  # logs every request URL at INFO
    "httpcore": logging.WARNING,
    "hpack": logging.WARNING,
    "h2": logging.WARNING,
    "h11": logging.WARNING,
    "urllib3": logging.WARNING,  # logs every request line (a webhook URL's path) at DEBUG
    "requests": logging.WARNING,
    "charset_normalizer": logging.WARNING,
    "apscheduler": logging.WARNING,  # a line per job run, i.e. per sweep
    "aiosqlite": logging.WARNING,  # every statement at DEBUG
    "pymongo": logging.WARNING,  # every command and its reply at DEBUG
    "asyncio": logging.WARNING,
    "aiohttp": logging.WARNING,
    "PIL": logging.WARNING,
    "tornado": logging.WARNING,  # the webhook and metrics servers: a line per request otherwise
}
# Credentials whose shape is known, for the moments before Herald has registered them.
TOKEN_SHAPES = re.compile(
    r"(?<![\w-])\d{5,}:[\w-]{30,}(?![\w-])"  # a bot token: the bot's id, a colon, 35 characters
    r"|(?<=/bot)\d+:[^/\s\"']+(?=/)"  # any token inside a Bot API URL: /bot<token>/getMe
    r"|(?<![A-Za-z0-9])EAA[A-Za-z0-9]{20,}"  # a Facebook access token
    r"|(?<=access_token=)[^&\s\"']+"  # a token in a query string or form body
    r"|(?<=Bearer )[\w.~+/=-]{16,}"  # a token in an Authorization header
)


# The post and target a task is publishing: every log line it writes meanwhile names them (JSON
# format). Context variables follow the task, so concurrent publications never mix them up.
POST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("herald_post_id", default=None)
TARGET_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("herald_target_id", default=None)


@contextmanager
def publishing(post_id: str, target_id: str | None = None) -> Iterator[None]:
    """Log lines written inside the block carry `post_id` (and `target_id`, if given)."""
    post_token = POST_ID.set(post_id)
    target_token = TARGET_ID.set(target_id)
    try:
        yield
    finally:
        TARGET_ID.reset(target_token)
        POST_ID.reset(post_token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, post_id and
    target_id when known (`extra=` or `publishing`), and the traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field, context in (("post_id", POST_ID), ("target_id", TARGET_ID)):
            value = getattr(record, field, None) or context.get()
            if value is not None:
                line[field] = str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)


class SecretRedactor(logging.Filter):
    """Replaces every registered secret, and anything shaped like a token, in each log record."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._known: frozenset[str] = frozenset()
        # Each secret under its first MIN_SECRET_LENGTH characters (longest first): a line is
        # scanned once, whatever the number of secrets (hundreds of accounts hold thousands).
        self._by_start: dict[str, tuple[str, ...]] = {}
        self._formatter = logging.Formatter()

    def add(self, secret: str | None) -> None:
        """Redacts `secret` from now on, with its URL-encoded and JSON-escaped forms; a URL's
        path and query too (urllib3 and servers log those alone), and each string of a JSON
        object (a webhook credential holds its URL and its secret)."""
        if not secret:
            return
        forms = {form for form in _forms(secret) if len(form) >= MIN_SECRET_LENGTH}
        if forms <= self._known:  # the common case: a credential decrypted again
            return
        with self._lock:
            self._known = self._known | forms
            by_start: dict[str, list[str]] = {}
            # A longer secret may contain a shorter one (a URL its path): it goes first.
            for known in sorted(self._known, key=len, reverse=True):
                by_start.setdefault(known[:MIN_SECRET_LENGTH], []).append(known)
            self._by_start = {start: tuple(secrets) for start, secrets in by_start.items()}

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by [redacted]."""
        by_start = self._by_start
        found: set[str] = set()
        for at in range(len(text) - MIN_SECRET_LENGTH + 1):
            for secret in by_start.get(text[at : at + MIN_SECRET_LENGTH], ()):
                if text.startswith(secret, at):
                    found.add(secret)
                    break
        for secret in sorted(found, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPES.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrites the record in place (message, args, traceback, stack); never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # args that do not fit the format: keep both, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


REDACTOR = SecretRedactor()


def register_secret(secret: str | None) -> None:
    """From now on, `secret` never appears in a log line (see `SecretRedactor.add`)."""
    REDACTOR.add(secret)


def redact(text: str) -> str:
    """`text` with every secret known so far replaced (for lines written without logging)."""
    return REDACTOR.redact(text)


def configure_logging(level: str, secrets: Iterable[str | None] = (), log_format: str = "text") -> None:
    """Logs to stderr at `level` through the redactor, with the third-party loggers capped, as
    text lines or (`log_format` "json") one JSON object per line."""
    for secret in secrets:
        register_secret(secret)
    logging.basicConfig(format=FORMAT)  # a handler on stderr, unless the root has one already
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        if REDACTOR not in handler.filters:
            handler.addFilter(REDACTOR)
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
    floor = logging.getLevelNamesMapping()[level]
    for name, cap in CAPPED_LOGGERS.items():
        logging.getLogger(name).setLevel(max(cap, floor))
    # An exception nobody caught would go to stderr by itself, past the redactor.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(kind: type[BaseException], error: BaseException, traceback: TracebackType | None) -> None:
    logging.getLogger("herald").critical("uncaught exception", exc_info=(kind, error, traceback))


def _log_uncaught_in_thread(hook: threading.ExceptHookArgs) -> None:
    if hook.exc_type is SystemExit:
        return
    logging.getLogger("herald").critical(
        "uncaught exception in thread %s",
        hook.thread.name if hook.thread else "?",
        exc_info=(hook.exc_type, hook.exc_value or hook.exc_type(), hook.exc_traceback),
    )


def _forms(secret: str) -> set[str]:
    """The ways `secret` can be written into a log line."""
    forms = {secret, quote(secret, safe=""), quote(secret), json.dumps(secret)[1:-1]}
    try:
        decoded = json.loads(secret)
    except ValueError:
        decoded = None
    for text in _strings_in(decoded):
        forms |= _forms(text)
    parsed = urlparse(secret)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        if path.strip("/"):
            forms |= {path, quote(path, safe="/")}
        if parsed.password:
            forms.add(parsed.password)
    return forms


def _strings_in(value: object) -> list[str]:
    """Every string inside a decoded JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings_in(item)]
    return []
