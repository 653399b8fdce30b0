"""Which channels and groups the bot is in: learned from `my_chat_member` and migrations."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.ext import BaseHandler, ChatMemberHandler, ContextTypes, MessageHandler, filters

from handlers.common import store_of
from storage.models import TelegramChat

log = logging.getLogger(__name__)


async def bot_membership_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remembers a chat the bot was made administrator of, and forgets it when demoted or removed."""
    changed = update.my_chat_member
    if changed is None or changed.chat.type == "private":
        return
    chat = changed.chat
    is_admin = changed.new_chat_member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    await store_of(context).upsert_chat(
        TelegramChat(
            chat_id=chat.id,
            title=chat.title or str(chat.id),
            chat_type=chat.type,
            bot_is_admin=is_admin,
            username=chat.username,
        )
    )
    log.info("bot is %s in chat %s", changed.new_chat_member.status, chat.id)


async def group_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Follows a group's upgrade to a supergroup: the target keeps working under its new id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    await store_of(context).migrate_chat(message.chat.id, message.migrate_to_chat_id)


def membership_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        ChatMemberHandler(bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, group_migrated),
    ]
