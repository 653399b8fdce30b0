"""Forum topics as targets: learned from the topic service messages the bot sees in a forum
(created, renamed, closed, reopened), and from a topic's link pasted in the chat — in the New post
targets step or anywhere else (the Telegram account's screen says so)."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.ext import BaseHandler, ContextTypes, MessageHandler, filters

from handlers import texts
from handlers.common import reply, store_of
from handlers.screen import user_id
from i18n import N_
from publishers.telegram import TelegramPublisher
from publishers.telegram_topics import GENERAL_TOPIC, TELEGRAM_LINK, parse_topic_link
from storage.models import ForumTopic, Target, utc_now

log = logging.getLogger(__name__)

TOPIC_EVENTS = (
    filters.StatusUpdate.FORUM_TOPIC_CREATED
    | filters.StatusUpdate.FORUM_TOPIC_EDITED
    | filters.StatusUpdate.FORUM_TOPIC_CLOSED
    | filters.StatusUpdate.FORUM_TOPIC_REOPENED
)
# A pasted t.me link, in the person's private chat with the bot.
PASTED_LINK = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & filters.Regex(TELEGRAM_LINK)


def _first_name(message: Message, thread_id: int) -> str:
    """The name a topic had when it was made, from the message that made it (every message in a
    topic answers it), else a stand-in until the topic is renamed."""
    opening = message.reply_to_message
    if opening is not None and opening.forum_topic_created is not None:
        return opening.forum_topic_created.name
    # i18n: a topic's stand-in name, stored (kept in English) until the topic is renamed
    return N_("Topic {thread_id}").format(thread_id=thread_id)


async def topic_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remembers a forum topic as it is made, renamed, closed or reopened (a closed one is not
    offered as a target until it is reopened)."""
    message = update.effective_message
    # The General topic is the chat itself, a target already: only the other topics are learned.
    if message is None or message.message_thread_id in (None, GENERAL_TOPIC):
        return
    chat_id, thread_id = message.chat.id, message.message_thread_id
    store = store_of(context)
    known = await store.get_topic(chat_id, thread_id)
    topic = known or ForumTopic(chat_id, thread_id, _first_name(message, thread_id))
    if message.forum_topic_created is not None:
        topic.name, topic.closed = message.forum_topic_created.name, False
    elif message.forum_topic_edited is not None:
        # Without a name, only the topic's icon changed.
        topic.name = message.forum_topic_edited.name or topic.name
    elif message.forum_topic_closed is not None:
        topic.closed = True
    elif message.forum_topic_reopened is not None:
        topic.closed = False
    topic.updated_at = utc_now()
    await store.upsert_topic(topic)
    log.info("forum topic %s of chat %s: %s%s", thread_id, chat_id, topic.name, " (closed)" if topic.closed else "")


async def target_from_pasted_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Target | None:
    """The target the person's pasted topic link gives, checked and remembered; None after telling
    them why it gives none."""
    message = update.effective_message
    link = parse_topic_link(message.text or "") if message is not None else None
    if link is None:
        await reply(update, texts.NOT_A_TOPIC_LINK)
        return None
    found = await TelegramPublisher(context.bot, store_of(context)).target_from_link(user_id(update), link)
    if not isinstance(found, Target):
        await reply(update, texts.TOPIC_REFUSALS[found.value])
        return None
    return found


async def topic_link_pasted(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A topic's link pasted outside any conversation: the topic becomes one of the person's targets."""
    target = await target_from_pasted_link(update, context)
    if target is not None:
        await reply(update, texts.topic_added(target.name))


def topic_event_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """What the bot learns of topics in the forums it is in."""
    return [MessageHandler(TOPIC_EVENTS, topic_changed)]


def topic_link_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """A topic's link pasted in the private chat while no conversation asks for anything."""
    return [MessageHandler(PASTED_LINK, topic_link_pasted)]
