"""Every platform Herald publishes to, and how its publisher is built. Adding a platform means one
publisher module and one entry here (plus its account form in handlers/accounts.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import Bot

from config import Settings
from publishers.base import Publisher
from publishers.facebook import FacebookPagePublisher
from publishers.facebook_groups import HandPostingPublisher
from publishers.telegram import TelegramPublisher
from publishers.webhook import WebhookPublisher
from storage.base import Store
from storage.models import Platform, Target


@dataclass(frozen=True)
class PlatformEntry:
    platform: Platform
    # The `kind` its targets carry, which tells the scheduler which publisher serves them.
    target_kind: str
    build: Callable[[Bot, Store, Settings], Publisher]


PLATFORMS = (
    PlatformEntry(Platform.TELEGRAM, "telegram", lambda bot, store, settings: TelegramPublisher(bot, store)),
    PlatformEntry(
        Platform.FACEBOOK_PAGE,
        "facebook_page",
        lambda bot, store, settings: FacebookPagePublisher(store, settings.facebook_graph_url),
    ),
    PlatformEntry(
        Platform.FACEBOOK_GROUPS, "facebook_group", lambda bot, store, settings: HandPostingPublisher(bot, store)
    ),
    PlatformEntry(Platform.WEBHOOK, "webhook", lambda bot, store, settings: WebhookPublisher(store)),
)
_BY_KIND = {entry.target_kind: entry.platform for entry in PLATFORMS}


def build_publishers(bot: Bot, store: Store, settings: Settings) -> dict[Platform, Publisher]:
    """One publisher per platform."""
    return {entry.platform: entry.build(bot, store, settings) for entry in PLATFORMS}


def platform_of(target: Target) -> Platform:
    """Which platform serves a target: Telegram chats (channel, group, supergroup) unless its kind says otherwise."""
    return _BY_KIND.get(target.kind, Platform.TELEGRAM)


def target_kind(platform: Platform) -> str:
    return next(entry.target_kind for entry in PLATFORMS if entry.platform is platform)
