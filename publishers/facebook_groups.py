"""Facebook groups, posted by the user: no app may publish to groups since 22 April 2024
(Graph API v19.0 removed the Groups API), so at the time Herald hands the user the ready post —
the photos, the caption as copyable text, an "Open group" button and an "I posted it" button —
the way Buffer does for platforms without a publishing API."""

from __future__ import annotations

import html

from telegram import Bot
from telegram.error import TelegramError

from handlers import keyboards, texts
from publishers.base import Outcome, Publisher, Sending, untracked
from publishers.telegram import TelegramPublisher, classify
from publishers.telegram_layout import plan_messages
from storage.base import Store
from storage.models import DeliveryStatus, Platform, Post, Target


def group_url(target: Target) -> str | None:
    """The group's link, when the user gave one."""
    if target.url:
        return target.url
    return target.address if target.address.startswith(("https://", "http://")) else None


class HandPostingPublisher(Publisher):
    """Sends the owner, in their chat with the bot, everything needed to post in the group."""

    platform = Platform.FACEBOOK_GROUPS

    def __init__(self, bot: Bot, store: Store) -> None:
        self.bot = bot
        # The photos go out exactly as a Telegram post would: same layout, same file ids.
        self.telegram = TelegramPublisher(bot, store)

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        chat_id = post.user_id
        try:
            await sending()
            if post.images:
                for planned in plan_messages("", post.images):
                    await self.telegram.send_planned(chat_id, planned)
            if post.main_caption.strip():
                copyable = f"<code>{html.escape(post.main_caption)}</code>"
                await self.bot.send_message(chat_id, copyable, parse_mode="HTML")
            prompt = await self.bot.send_message(
                chat_id,
                texts.hand_post(post.short_id, target.name),
                parse_mode="HTML",
                reply_markup=keyboards.hand_post_keyboard(group_url(target), post.post_id, target.target_id),
            )
        except TelegramError as error:
            outcome = classify(error, target)
            if outcome.error_code == "403":
                return Outcome.permanent("403", "you have blocked the bot, so it could not hand you the post")
            return outcome
        return Outcome(DeliveryStatus.AWAITING_YOU, message_id=str(prompt.message_id))
