"""Webhook mode: Telegram POSTs each update to TELEGRAM_WEBHOOK_URL instead of being polled.

python-telegram-bot's own webhook server (`Updater.start_webhook`, tornado) listens on plain HTTP
at WEBHOOK_LISTEN:WEBHOOK_PORT/WEBHOOK_PATH behind a reverse proxy that ends TLS; it registers the
URL with `setWebhook` (the allowed updates the bot polls for, pending updates kept) and answers 403
to a request whose X-Telegram-Bot-Api-Secret-Token header is not the secret. That secret is
TELEGRAM_WEBHOOK_SECRET, else one generated once into the data folder (owner-only), so that a
restart keeps the URL Telegram knows valid. Polling again (the variable unset) deletes the webhook
through python-telegram-bot's start-up, keeping the updates Telegram holds.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path

from telegram.ext import Application

from config import Settings
from logs import register_secret
from storage.crypto import kept_in_data_dir

log = logging.getLogger(__name__)

SECRET_FILE_NAME = "telegram-webhook-secret"
# The logger python-telegram-bot's webhook handler tells of refused requests on (at DEBUG).
WEBHOOK_LOGGER = "telegram.ext.Updater"
REFUSALS = ("Request did not include the secret token", "Request had the wrong secret token")
# Forged or stray requests may come by the thousand: one line at most this often says how many.
REFUSAL_LOG_EVERY = 600.0


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, else the secret kept in the data folder (made once, 0600)."""
    secret = settings.telegram_webhook_secret or load_or_create_secret(settings.data_folder)
    register_secret(secret)
    return secret


def load_or_create_secret(data_dir: Path) -> str:
    """The secret kept in `data_dir`, generated once with owner-only permissions if missing
    (letters, digits, - and _: what Telegram accepts as a secret_token)."""
    return kept_in_data_dir(data_dir, SECRET_FILE_NAME, lambda: secrets.token_urlsafe(32), "webhook secret")


class RefusedRequests(logging.Filter):
    """Turns python-telegram-bot's DEBUG lines about refused webhook requests into one WARNING at
    most every `every` seconds, with how many were refused; drops its other DEBUG lines (they
    quote whole updates) and lets through what the "telegram" cap lets through."""

    def __init__(self, floor: int, every: float = REFUSAL_LOG_EVERY) -> None:
        super().__init__()
        self.floor = floor
        self.every = every
        self.refused = 0  # since the process started
        self._untold = 0
        self._told_at: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(REFUSALS):
            self._refusal()
            return False
        return record.levelno >= self.floor

    def _refusal(self) -> None:
        self.refused += 1
        self._untold += 1
        now = time.monotonic()
        if self._told_at is not None and now - self._told_at < self.every:
            return
        # The header's value is never quoted: a mistyped secret may be the real one's neighbour.
        log.warning(
            "refused %d webhook request(s) without the right X-Telegram-Bot-Api-Secret-Token (answered 403); "
            "this is said at most every %g s",
            self._untold,
            self.every,
        )
        self._untold, self._told_at = 0, now


def watch_refusals(every: float = REFUSAL_LOG_EVERY) -> RefusedRequests:
    """Installs the filter that logs refused webhook requests (a new one for each listener, so
    that its first refusal is told at once), and returns it."""
    logger = logging.getLogger(WEBHOOK_LOGGER)
    floor = logger.getEffectiveLevel()
    for existing in list(logger.filters):
        if isinstance(existing, RefusedRequests):
            floor = existing.floor  # the level was lowered to DEBUG by that one
            logger.removeFilter(existing)
    watcher = RefusedRequests(floor=floor, every=every)
    logger.addFilter(watcher)
    # Its DEBUG lines must reach the filter, which lets none of them further.
    logger.setLevel(logging.DEBUG)
    return watcher


async def start_webhook(
    application: Application,  # type: ignore[type-arg]
    settings: Settings,
    allowed_updates: list[str],
) -> None:
    """Listens for Telegram's POSTs and registers TELEGRAM_WEBHOOK_URL with `setWebhook`."""
    assert application.updater is not None and settings.telegram_webhook_url
    watch_refusals()
    # A failed setWebhook is told by the caller in one line; python-telegram-bot's retry loop would
    # log it first, with a traceback.
    bootstrap_log = logging.getLogger("telegram.ext")
    level = bootstrap_log.level
    bootstrap_log.setLevel(logging.CRITICAL)
    try:
        await application.updater.start_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_listen_path,
            webhook_url=settings.telegram_webhook_url,
            allowed_updates=allowed_updates,
            drop_pending_updates=False,
            secret_token=webhook_secret(settings),
        )
    finally:
        bootstrap_log.setLevel(level)
    log.info(
        "receiving updates at %s (listening on http://%s:%d%s)",
        settings.telegram_webhook_url,
        settings.webhook_listen,
        settings.webhook_port,
        settings.webhook_listen_path,
    )
