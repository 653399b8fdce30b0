"""Every platform Herald connects accounts to and publishes on, and how each is built.

Adding a platform: its module here in publishers/ (a `Provider`: connect, publish, and refresh
if it lists targets itself), a value in `storage.models.Platform`, its entry below, and in
handlers/ the questions that connect an account (accounts.py) with their words (texts.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import Bot

from config import Settings
from publishers.base import Provider, Publisher, Shortfall
from publishers.facebook import FacebookPagePublisher
from publishers.facebook_groups import HandPostingPublisher, HandPostPrompt
from publishers.telegram import TelegramPublisher
from publishers.webhook import WebhookPublisher
from storage.base import Store
from storage.models import Content, Platform


@dataclass(frozen=True)
class Wiring:
    """What the platforms are built from: the bot, the store, the settings, and what the chat
    lends them to speak to the user (wired in bot.py, so that no publisher imports the chat)."""

    bot: Bot
    store: Store
    settings: Settings
    hand_post: HandPostPrompt


PLATFORMS: dict[Platform, Callable[[Wiring], Provider]] = {
    Platform.TELEGRAM: lambda wiring: TelegramPublisher(wiring.bot, wiring.store),
    Platform.FACEBOOK_PAGE: lambda wiring: FacebookPagePublisher(wiring.store, wiring.settings.facebook_graph_url),
    Platform.FACEBOOK_GROUPS: lambda wiring: HandPostingPublisher(wiring.bot, wiring.store, wiring.hand_post),
    Platform.WEBHOOK: lambda wiring: WebhookPublisher(wiring.store),
}


# Each platform's provider class: what it is, before anything is built from the wiring.
PROVIDER_TYPES: dict[Platform, type[Provider]] = {
    Platform.TELEGRAM: TelegramPublisher,
    Platform.FACEBOOK_PAGE: FacebookPagePublisher,
    Platform.FACEBOOK_GROUPS: HandPostingPublisher,
    Platform.WEBHOOK: WebhookPublisher,
}


def shortfalls(platform: Platform, content: Content) -> list[Shortfall]:
    """What of `content` the platform cannot show as Telegram does (the preview says it)."""
    return PROVIDER_TYPES[platform].shortfalls(content)


def provider(platform: Platform, wiring: Wiring) -> Provider:
    """The platform, built; `close()` it when done."""
    return PLATFORMS[platform](wiring)


def build_publishers(wiring: Wiring) -> dict[Platform, Publisher]:
    """One publisher per platform, for the scheduler."""
    return {platform: build(wiring) for platform, build in PLATFORMS.items()}
