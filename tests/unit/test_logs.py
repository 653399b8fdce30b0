"""The log redactor and logging set-up: no secret survives into a written line, whatever carries it."""

from __future__ import annotations

import io
import json
import logging
import secrets
import sys
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from cryptography.fernet import Fernet

import logs
from logs import CAPPED_LOGGERS, REDACTED, SecretRedactor, configure_logging, redact
from storage.crypto import CredentialCipher


def random_bot_token() -> str:
    """Shaped as @BotFather's: the bot's id, a colon, 35 letters, digits, - and _."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:AA{secrets.token_urlsafe(32)[:33]}"


class Captured:
    """A logger whose lines pass a fresh redactor into a string, as the root handler's do."""

    def __init__(self) -> None:
        self.redactor = SecretRedactor()
        self.stream = io.StringIO()
        handler = logging.StreamHandler(self.stream)
        handler.setFormatter(logging.Formatter(logs.FORMAT))
        handler.addFilter(self.redactor)
        self.logger = logging.getLogger(f"test.redactor.{secrets.token_hex(4)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(handler)

    @property
    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def captured() -> Captured:
    return Captured()


def test_a_bot_token_inside_an_api_url_is_removed(captured: Captured) -> None:
    token = random_bot_token()
    captured.redactor.add(token)
    captured.logger.debug("calling %s", f"https://api.telegram.org/bot{token}/getMe")
    assert token not in captured.text and token.partition(":")[2] not in captured.text
    assert f"https://api.telegram.org/bot{REDACTED}/getMe" in captured.text


def test_a_token_never_registered_is_removed_by_its_shape(captured: Captured) -> None:
    token = random_bot_token()
    facebook = "EAAB" + secrets.token_hex(40)
    captured.logger.info("getUpdates returned %r", {"text": f"my tokens: {token} and {facebook}"})
    captured.logger.warning("GET /me/accounts?fields=name&access_token=xyz-secret-value HTTP/1.1")
    captured.logger.warning("POST http://127.0.0.1:8081/bot42:short/sendMessage failed")
    assert token not in captured.text and facebook not in captured.text
    assert "xyz-secret-value" not in captured.text and "42:short" not in captured.text
    assert captured.text.count(REDACTED) == 4


def test_a_secret_inside_an_exception_and_its_traceback_is_removed(captured: Captured) -> None:
    secret = "hook-secret-" + secrets.token_hex(8)
    captured.redactor.add(secret)

    def fail() -> None:
        local_with_secret = secret  # a traceback shows source lines, some hold a secret
        raise ValueError(f"receiver refused {local_with_secret}")

    try:
        fail()
    except ValueError:
        captured.logger.exception("delivery failed")
    assert "Traceback" in captured.text and "receiver refused" in captured.text
    assert secret not in captured.text


def test_a_secret_in_args_of_any_type_is_removed(captured: Captured) -> None:
    secret = "page-token-" + secrets.token_hex(8)
    captured.redactor.add(secret)
    captured.logger.debug("params %s and %r", {"access_token": secret}, [secret.encode()])
    captured.logger.debug(ValueError(secret))  # a message that is not a string
    captured.logger.debug("args that do not fit %d", secret)
    assert secret not in captured.text
    assert captured.text.count("params") == 1 and "do not fit" in captured.text


def test_a_secret_in_a_stack_is_removed(captured: Captured) -> None:
    secret = "stack-secret-" + secrets.token_hex(8)
    captured.redactor.add(secret)
    captured.logger.debug("where %s", secret, stack_info=True)
    assert "Stack (most recent call last)" in captured.text and secret not in captured.text


def test_a_webhook_credential_hides_its_url_path_and_secret_everywhere(captured: Captured) -> None:
    path = f"/api/webhooks/123/{secrets.token_urlsafe(24)}"
    url, secret = f"https://discord.example{path}?wait=true", "s3cret with spaces/and+signs"
    captured.redactor.add(json.dumps({"url": url, "secret": secret}))
    # urllib3 logs the request line alone; a URL may arrive percent-encoded, a secret JSON-escaped.
    captured.logger.debug('"POST %s?wait=true HTTP/1.1" 204 0', path)
    captured.logger.debug("redirected to %s", quote(url, safe=""))
    captured.logger.debug("body %s", json.dumps({"secret": secret}))
    captured.logger.debug("signed with %s", quote(secret, safe=""))
    for needle in (path, url, secret, quote(secret, safe=""), path.rsplit("/", 1)[1]):
        assert needle not in captured.text, needle
    assert captured.text.count(REDACTED) == 4


def test_what_is_not_secret_is_kept_as_it_was(captured: Captured) -> None:
    captured.redactor.add("abc")  # too short to replace everywhere
    captured.redactor.add("")
    captured.logger.info("user %s scheduled post %s for %s", 501, "a1b2c3d4e5f6", "2026-12-01T18:30:00+00:00")
    captured.logger.info("abc of chat -1001234567890 at 12:30:45")
    assert "user 501 scheduled post a1b2c3d4e5f6 for 2026-12-01T18:30:00+00:00" in captured.text
    assert "abc of chat -1001234567890 at 12:30:45" in captured.text
    assert REDACTED not in captured.text


def test_a_credential_passing_the_cipher_is_redacted_from_then_on() -> None:
    key = Fernet.generate_key()
    stored_elsewhere = Fernet(key).encrypt(b"fb-token-" + secrets.token_hex(8).encode()).decode()
    typed = "typed-token-" + secrets.token_hex(8)
    decrypted = Fernet(key).decrypt(stored_elsewhere.encode()).decode()
    assert decrypted in redact(f"token {decrypted}")  # not seen by this process yet

    cipher = CredentialCipher(key.decode())
    assert cipher.decrypt(stored_elsewhere) == decrypted
    cipher.encrypt(typed)

    assert redact(f"token {decrypted}, then {typed}") == f"token {REDACTED}, then {REDACTED}"
    assert key.decode() not in redact(f"key {key.decode()}")


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """The root logger, restored after the test (configure_logging changes process-wide state)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    formatters = {handler: handler.formatter for handler in handlers}
    levels = {name: logging.getLogger(name).level for name in CAPPED_LOGGERS}
    hooks = sys.excepthook, threading.excepthook
    try:
        yield root
    finally:
        for handler in root.handlers:
            handler.removeFilter(logs.REDACTOR)
            if handler not in handlers:
                root.removeHandler(handler)
            else:
                handler.setFormatter(formatters[handler])
        root.setLevel(level)
        for name, previous in levels.items():
            logging.getLogger(name).setLevel(previous)
        sys.excepthook, threading.excepthook = hooks


def test_debug_keeps_third_party_loggers_capped_and_every_root_handler_redacts(
    root_logging: logging.Logger,
) -> None:
    token = random_bot_token()
    configure_logging("DEBUG", [token, None])
    assert logging.getLogger("herald.scheduler").isEnabledFor(logging.DEBUG)
    # python-telegram-bot dumps every getUpdates result at DEBUG, httpx logs URLs at INFO.
    assert not logging.getLogger("telegram.ext.ExtBot").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("telegram.ext.Application").isEnabledFor(logging.INFO)
    for name in ("httpx", "httpcore.http11", "urllib3.connectionpool", "aiosqlite", "pymongo.command", "asyncio"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    assert root_logging.handlers and all(logs.REDACTOR in h.filters for h in root_logging.handlers)
    assert redact(f"/bot{token}/getMe") == f"/bot{REDACTED}/getMe"


def test_a_quieter_log_level_quiets_third_party_loggers_too(root_logging: logging.Logger) -> None:
    configure_logging("ERROR")
    assert not logging.getLogger("telegram").isEnabledFor(logging.WARNING)
    assert not logging.getLogger("urllib3").isEnabledFor(logging.WARNING)


def test_among_thousands_of_secrets_each_is_found_wherever_it_stands() -> None:
    redactor = SecretRedactor()
    known = [secrets.token_urlsafe(24) for _ in range(2000)]
    for secret in known:
        redactor.add(secret)
    # A secret that starts like another, longer one, and one inside another's text.
    longer = known[7] + "-and-more"
    redactor.add(longer)
    for secret in (known[0], known[999], known[-1], longer):
        line = f"a{secret} and {secret}!"
        assert redactor.redact(line) == f"a{REDACTED} and {REDACTED}!"
    assert redactor.redact(f"x{known[7]}y") == f"x{REDACTED}y"
    assert redactor.redact("nothing secret here, 123456 times") == "nothing secret here, 123456 times"


def test_json_lines_are_redacted_and_name_the_post_and_target_being_published(root_logging: logging.Logger) -> None:
    token = random_bot_token()
    written = io.StringIO()
    root_logging.addHandler(logging.StreamHandler(written))
    configure_logging("INFO", [token], "json")
    log = logging.getLogger("scheduler.engine")
    with logs.publishing("post1", "tg-100"):
        log.warning("sending with %s failed", token)
    log.info("told %s", "alice", extra={"post_id": "post2"})
    try:
        raise RuntimeError(f"https://api.telegram.org/bot{token}/sendMessage refused")
    except RuntimeError:
        log.exception("publishing failed")
    lines = [json.loads(line) for line in written.getvalue().splitlines()]

    assert token not in written.getvalue() and token.partition(":")[2] not in written.getvalue()
    first, second, third = lines
    assert first["message"] == f"sending with {REDACTED} failed"
    assert (first["post_id"], first["target_id"]) == ("post1", "tg-100")
    assert (first["level"], first["logger"]) == ("WARNING", "scheduler.engine")
    assert first["time"].endswith("+00:00")
    assert second["post_id"] == "post2" and "target_id" not in second
    assert "post_id" not in third and "RuntimeError" in third["exception"] and REDACTED in third["exception"]
