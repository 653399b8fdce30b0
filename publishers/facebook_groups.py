"""Facebook groups, posted by the user: no app may publish to groups since 22 April 2024
(Graph API v19.0 removed the Groups API), so at the time Herald hands the user the ready post —
the photos, the caption as copyable text, and a message with an "Open group" button and an
"I posted it" button — the way Buffer does for platforms without a publishing API.

That last message is the chat's (its words and buttons live in handlers/hand_post.py): bot.py
hands it in as a `HandPostPrompt`. Connecting asks for nothing secret: each answer is one group,
by link, by name, or both."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlparse

from telegram import Bot
from telegram.error import TelegramError

from i18n import N_
from publishers.base import Connection, Outcome, Provider, Sending, Shortfall, untracked
from publishers.facebook import facebook_text
from publishers.telegram import TelegramPublisher, classify
from publishers.telegram_layout import plan_content
from storage.base import Store
from storage.models import Content, DeliveryStatus, Platform, Post, Target, new_id

# Sends the owner the message asking them to post `post` in the group `target` now, with its
# buttons; gives back that message's id. Raises TelegramError as the bot does.
HandPostPrompt = Callable[[Post, Target], Awaitable[int]]

URL_PATTERN = re.compile(r"https?://\S+")
NAME_CHARS = 64


def group_url(target: Target) -> str | None:
    """The group's link, when the user gave one."""
    if target.url:
        return target.url
    return target.address if target.address.startswith(("https://", "http://")) else None


def group_target(answer: str) -> Target:
    """The group the user named: a link, a name, or a name and a link."""
    link = URL_PATTERN.search(answer)
    url = link.group(0) if link else None
    name = URL_PATTERN.sub("", answer).strip(" -—:\n")
    if not name and url:
        name = urlparse(url).path.rstrip("/").rsplit("/", 1)[-1] or url
    name = name[:NAME_CHARS] or "Facebook group"
    return Target(f"fbg{new_id()}", name, url or name, url=url, platform=Platform.FACEBOOK_GROUPS)


class HandPostingPublisher(Provider):
    """Sends the owner, in their chat with the bot, everything needed to post in the group."""

    platform = Platform.FACEBOOK_GROUPS

    def __init__(self, bot: Bot, store: Store, prompt: HandPostPrompt) -> None:
        self.bot = bot
        self.prompt = prompt
        # The photos go out exactly as a Telegram post would: same layout, same file ids.
        self.telegram = TelegramPublisher(bot, store)

    @classmethod
    def shortfalls(cls, content: Content) -> list[Shortfall]:
        """The text the owner is handed to paste is plain (Facebook groups show no formatting), the
        buttons written at its end."""
        found = []
        if content.caption_entities:
            found.append(Shortfall.PLAIN_TEXT)
        if content.buttons:
            found.append(Shortfall.BUTTONS_AS_TEXT)
        return found

    async def connect(self, user_id: int, answers: Sequence[str]) -> Connection:
        """One group per answer; no credential (the user posts, not Herald)."""
        return Connection([group_target(answer) for answer in answers])

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        chat_id = post.user_id
        try:
            await sending()
            if post.images:
                for planned in plan_content(Content(images=post.images)):
                    await self.telegram.send_planned(chat_id, planned)
            # What the owner pastes into the group: Facebook shows no formatting.
            text = facebook_text(post.content)
            if text:
                await self.bot.send_message(chat_id, f"<code>{html.escape(text)}</code>", parse_mode="HTML")
            prompt_id = await self.prompt(post, target)
        except TelegramError as error:
            outcome = classify(error, target)
            if outcome.error_code == "403":
                return Outcome.permanent("403", N_("you have blocked the bot, so it could not hand you the post"))
            return outcome
        return Outcome(DeliveryStatus.AWAITING_YOU, message_id=str(prompt_id))
