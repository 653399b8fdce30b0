"""Publishing into Telegram channels and groups where this bot is an administrator.

Telegram is the account every user has without connecting anything: the bot itself. Its targets
are the chats (learned from `my_chat_member` updates) that the bot and the user both administer,
asked of Telegram each time they are listed (getChatMember), and the open topics of those that
are forums (learned from the topics' service messages or a pasted link), each listed under its
chat and published to with its `message_thread_id`."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import httpx
from telegram import Bot, Message
from telegram.constants import ChatMemberStatus
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot

from i18n import N_
from publishers.base import Connection, Outcome, Provider, Sending, untracked
from publishers.rate_limit import Booking, TelegramRateLimiter
from publishers.spool import MissingMedia, spool
from publishers.telegram_after import OptionProblem, follow_up_failure, option_problems
from publishers.telegram_layout import PlannedMessage, plan_content
from publishers.telegram_send import MediaSource, file_id_of, send_planned, upload
from publishers.telegram_topics import TopicLink, TopicRefusal
from storage.base import Store
from storage.models import (
    Account,
    DeliveryOptions,
    FollowUp,
    FollowUpKind,
    ForumTopic,
    Image,
    Platform,
    Post,
    Target,
    TelegramChat,
    utc_now,
)

log = logging.getLogger(__name__)

ADMIN_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
# The built-in account's id: every user's, never stored.
ACCOUNT_ID = "telegram"
# Seconds Telegram may take to answer a request that uploads files.
UPLOAD_READ_TIMEOUT = 120
# Transport failures where the request cannot have reached Telegram: safe to send again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def chat_target(chat: TelegramChat) -> Target:
    """A chat the bot administers, as a target of the built-in Telegram account."""
    return Target(
        target_id=f"tg{chat.chat_id}",
        name=chat.title,
        address=str(chat.chat_id),
        kind=chat.chat_type,
        url=f"https://t.me/{chat.username}" if chat.username else None,
        account_id=ACCOUNT_ID,
        platform=Platform.TELEGRAM,
    )


def message_link(chat_id: int, username: str | None, message_id: int, thread_id: int | None = None) -> str | None:
    """A t.me link to a message: public by username, private supergroups and channels by id; a
    message in a forum topic is linked inside its topic."""
    path = f"{thread_id}/{message_id}" if thread_id is not None else str(message_id)
    if username:
        return f"https://t.me/{username}/{path}"
    text = str(chat_id)
    if text.startswith("-100"):
        return f"https://t.me/c/{text[4:]}/{path}"
    return None


# What Telegram answers a message sent into a topic that was deleted, or that is closed.
THREAD_NOT_FOUND = "message thread not found"
TOPIC_CLOSED = "topic_closed"


def topic_target_id(chat_id: int, thread_id: int) -> str:
    """A forum topic's target id: its chat's, then the thread id (stable, and never a chat's)."""
    return f"tg{chat_id}/{thread_id}"


def topic_target(chat: TelegramChat, topic: ForumTopic) -> Target:
    """A topic of a forum the bot administers, as a target of the built-in Telegram account: named
    under its chat ("Shop chat › Announcements")."""
    return Target(
        target_id=topic_target_id(chat.chat_id, topic.thread_id),
        name=f"{chat.title} › {topic.name}",
        address=str(chat.chat_id),
        kind=chat.chat_type,
        url=message_link(chat.chat_id, chat.username, topic.thread_id),
        account_id=ACCOUNT_ID,
        platform=Platform.TELEGRAM,
        thread_id=topic.thread_id,
    )


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram asked to wait, in seconds (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(error: TelegramError, target: Target, *, may_have_posted: bool = True) -> Outcome:
    """What a Telegram error means for this delivery: retry, give up, or unknown fate.

    `may_have_posted` is False for requests that post nothing (the admin check): a lost answer
    to those is worth another try, never "unconfirmed"."""
    if isinstance(error, RetryAfter):
        return Outcome.retryable("429", N_("Telegram asked to slow down"), retry_after=retry_after_seconds(error))
    if isinstance(error, Forbidden):
        return Outcome.permanent("403", N_("the bot is no longer an admin there ({said})").format(said=error.message))
    if isinstance(error, InvalidToken):
        return Outcome.permanent("401", N_("the bot's token was refused by Telegram"))
    if isinstance(error, BadRequest):
        if "chat not found" in error.message.lower():
            return Outcome.permanent("400", N_("the chat no longer exists, or the bot cannot see it"))
        if target.thread_id is not None and THREAD_NOT_FOUND in error.message.lower():
            return Outcome.permanent("topic_deleted", N_("the topic was deleted"))
        if target.thread_id is not None and TOPIC_CLOSED in error.message.lower():
            return Outcome.permanent("topic_closed", N_("the topic is closed — reopen it to post there"))
        return Outcome.permanent("400", N_("Telegram refused the message: {said}").format(said=error.message))
    if isinstance(error, TimedOut | NetworkError):
        cause = error.__cause__
        if cause is None or isinstance(cause, NOT_SENT) or not may_have_posted:
            return Outcome.retryable("network", N_("could not reach Telegram ({said})").format(said=error.message))
        return Outcome.unconfirmed(
            N_("Telegram did not confirm the message ({said}); it may have been posted — check {target}").format(
                said=error.message, target=target.name
            )
        )
    return Outcome.permanent("telegram", error.message)


class TelegramPublisher(Provider):
    """Sends a post as `plan_content` lays it out — texts, media and albums, formatted as typed,
    buttons and link preview included; the chats it offers a user are those the bot and the user
    both administer."""

    platform = Platform.TELEGRAM

    def __init__(self, bot: Bot, store: Store) -> None:
        self.bot = bot
        self.store = store

    async def connect(self, user_id: int, answers: Sequence[str] = ()) -> Connection:
        """The channels and groups where the bot and this user are both administrators (nothing
        is asked: the bot is the account)."""
        chats = await self.store.list_chats(admin_only=True)
        checks = await asyncio.gather(
            *(self.administers(chat.chat_id, user_id) for chat in chats), return_exceptions=True
        )
        administered = []
        for chat, allowed in zip(chats, checks, strict=True):
            if isinstance(allowed, TelegramError):
                log.warning("getChatMember failed for chat %s: %s", chat.chat_id, allowed)
                continue
            if isinstance(allowed, BaseException):
                raise allowed
            if allowed:
                administered.append(chat)
        topics: dict[int, list[ForumTopic]] = {}
        forums = [chat.chat_id for chat in administered if chat.chat_type == "supergroup"]
        for topic in await self.store.list_topics(forums):
            if not topic.closed:
                topics.setdefault(topic.chat_id, []).append(topic)
        targets = []
        for chat in administered:
            targets.append(chat_target(chat))
            targets.extend(topic_target(chat, topic) for topic in topics.get(chat.chat_id, []))
        return Connection(targets)

    async def refresh(self, account: Account, credential: str) -> Connection:
        """The chats the bot and the account's user administer now."""
        return await self.connect(account.user_id)

    async def administers(self, chat_id: int, user_id: int) -> bool:
        """True if `user_id` administers the chat, asked of Telegram now (getChatMember). Raises
        TelegramError when Telegram cannot say (a network error)."""
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except Forbidden:
            # The bot was removed without us hearing of it: forget the chat as a target.
            await self._not_admin_any_more(chat_id)
            return False
        except BadRequest:
            return False
        return member.status in ADMIN_STATUSES

    async def target_from_link(self, user_id: int, link: TopicLink) -> Target | TopicRefusal:
        """The forum topic a pasted link names, as a target of this user's — checked as chats are:
        the bot sees the chat (getChat) and administers it, and so does the user (getChatMember).
        The topic is remembered (under the name typed after the link, else the one the bot knows,
        else "Topic <id>") and the chat too; a General topic's link gives the chat itself."""
        try:
            chat = await self.bot.get_chat(link.chat)
        except (BadRequest, Forbidden):
            return TopicRefusal.CANNOT_SEE
        except TelegramError as error:
            log.info("getChat for a topic link failed: %s", error)
            return TopicRefusal.UNREACHABLE
        if not chat.is_forum:
            return TopicRefusal.NOT_A_FORUM
        try:
            bot_member = await self.bot.get_chat_member(chat.id, self.bot.id)
            if bot_member.status not in ADMIN_STATUSES:
                return TopicRefusal.BOT_NOT_ADMIN
            if not await self.administers(chat.id, user_id):
                return TopicRefusal.NOT_YOUR_CHAT
        except (BadRequest, Forbidden):
            return TopicRefusal.CANNOT_SEE
        except TelegramError as error:
            log.info("getChatMember for a topic link failed: %s", error)
            return TopicRefusal.UNREACHABLE
        known = TelegramChat(chat.id, chat.title or str(chat.id), chat.type, bot_is_admin=True, username=chat.username)
        await self.store.upsert_chat(known)
        if link.thread_id is None:
            return chat_target(known)
        topic = await self.store.get_topic(chat.id, link.thread_id)
        if topic is not None and topic.closed:
            return TopicRefusal.CLOSED
        name = link.name or (topic.name if topic is not None else f"Topic {link.thread_id}")
        topic = ForumTopic(chat.id, link.thread_id, name)
        await self.store.upsert_topic(topic)
        return topic_target(known, topic)

    async def _not_admin_any_more(self, chat_id: int) -> None:
        chat = await self.store.get_chat(chat_id)
        if chat is not None:
            chat.bot_is_admin, chat.updated_at = False, utc_now()
            await self.store.upsert_chat(chat)

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        chat_id = int(target.address)
        try:
            member = await self.bot.get_chat_member(chat_id, post.user_id)
            if member.status not in ADMIN_STATUSES:
                message = N_("you are no longer an administrator of {target}").format(target=target.name)
                return Outcome.permanent("not_admin", message)
        except ChatMigrated as migrated:
            chat_id = await self._follow_migration(chat_id, migrated.new_chat_id)
        except TelegramError as error:
            return await self._failed(error, chat_id, target, may_have_posted=False)

        plan = plan_content(post.content)
        # Every message of the delivery, in the order sent (an album's items, then the follow-up
        # text or buttons), so that later actions (delete, pin, edit) reach every part.
        messages: list[Message] = []
        for number, planned in enumerate(plan, start=1):
            try:
                try:
                    sent = await self._send(chat_id, planned, sending, target.thread_id, post.options)
                except ChatMigrated as migrated:
                    chat_id = await self._follow_migration(chat_id, migrated.new_chat_id)
                    sent = await self._send(chat_id, planned, sending, target.thread_id, post.options)
            except MissingMedia as missing:
                outcome = Outcome.permanent("missing_image", str(missing))
            except TelegramError as error:
                outcome = await self._failed(error, chat_id, target)
            else:
                messages.extend(sent)
                continue
            if not messages:
                return outcome
            # The start of the post is out; resending it would duplicate it. Report what is missing.
            note = N_("part {number} of {count} of the post failed: {reason}").format(
                number=number, count=len(plan), reason=outcome.error_message
            )
            return await self._after_sending(chat_id, target, post.options, messages, note)
        return await self._after_sending(chat_id, target, post.options, messages, None)

    async def _after_sending(
        self, chat_id: int, target: Target, options: DeliveryOptions, messages: list[Message], note: str | None
    ) -> Outcome:
        """The delivery sent: its first message pinned (silently) if asked, and a check that what
        is to come after (delete) can work there; its note says what did not, or cannot."""
        notes = [note] if note else []
        pinned = False
        unpinned: str | None = None
        undeletable: str | None = None
        if options.pin:
            try:
                await self.bot.pin_chat_message(chat_id, messages[0].message_id, disable_notification=True)
                pinned = True
            except TelegramError as error:
                log.info("could not pin in %s: %s", chat_id, error)
                unpinned = follow_up_failure(error, FollowUpKind.UNPIN, pinning=True)
        if options.delete_after is not None:
            problems = await self.option_problems(
                chat_id, target.kind, DeliveryOptions(delete_after=options.delete_after)
            )
            if problems:
                undeletable = problems[0].sentence
        # Both in one sentence of its own, so that the stored English is matched back whole.
        if unpinned is not None and undeletable is not None:
            notes.append(
                N_("sent, but not pinned: {reason}; it may not be deleted: {problem}").format(
                    reason=unpinned, problem=undeletable
                )
            )
        elif unpinned is not None:
            notes.append(N_("sent, but not pinned: {reason}").format(reason=unpinned))
        elif undeletable is not None:
            notes.append(N_("it may not be deleted: {reason}").format(reason=undeletable))
        outcome = self._sent(messages, note="; ".join(notes) or None)
        outcome.pinned = pinned
        return outcome

    async def option_problems(self, chat_id: int, kind: str, options: DeliveryOptions) -> list[OptionProblem]:
        """What of `options` cannot work in this chat, asked of Telegram now (the bot's rights,
        getChatMember) — nothing when Telegram cannot say."""
        if not (options.pin or options.delete_after is not None):
            return []
        try:
            member = await self.bot.get_chat_member(chat_id, self.bot.id)
        except TelegramError as error:
            log.info("could not read the bot's rights in %s: %s", chat_id, error)
            return []
        return option_problems(kind, member, options)

    async def follow_up(self, action: FollowUp) -> Outcome:
        """Unpins the delivery's first message, or deletes every message of it (deleteMessages in
        one call); a message already gone counts as done."""
        chat_id, ids = int(action.chat_id), [int(message_id) for message_id in action.message_ids]
        try:
            if action.kind is FollowUpKind.UNPIN:
                await self.bot.unpin_chat_message(chat_id, ids[0])
            elif len(ids) == 1:
                await self.bot.delete_message(chat_id, ids[0])
            else:
                await self.bot.delete_messages(chat_id, ids)
        except BadRequest as error:
            if "not found" in error.message.lower():
                return Outcome.sent(message_id=action.message_ids[0], note=N_("it was gone already"))
            return Outcome.permanent("400", follow_up_failure(error, action.kind))
        except (Forbidden, InvalidToken) as error:
            return Outcome.permanent("403", follow_up_failure(error, action.kind))
        except RetryAfter as error:
            return Outcome.retryable("429", N_("Telegram asked to slow down"), retry_after=retry_after_seconds(error))
        except (TimedOut, NetworkError) as error:
            return Outcome.retryable("network", N_("could not reach Telegram ({said})").format(said=error.message))
        except TelegramError as error:
            return Outcome.permanent("telegram", follow_up_failure(error, action.kind))
        return Outcome.sent(message_id=action.message_ids[0], message_ids=list(action.message_ids))

    def _sent(self, messages: list[Message], note: str | None = None) -> Outcome:
        first = messages[0]
        thread_id = first.message_thread_id if first.is_topic_message else None
        url = message_link(first.chat.id, first.chat.username, first.message_id, thread_id)
        ids = [str(message.message_id) for message in messages]
        return Outcome.sent(message_id=ids[0], url=url, note=note, message_ids=ids)

    async def _failed(
        self, error: TelegramError, chat_id: int, target: Target, *, may_have_posted: bool = True
    ) -> Outcome:
        if isinstance(error, Forbidden):
            await self._not_admin_any_more(chat_id)
        outcome = classify(error, target, may_have_posted=may_have_posted)
        if target.thread_id is not None:
            await self._topic_failed(chat_id, target.thread_id, outcome)
        log.info("telegram delivery to %s: %s (%s)", chat_id, outcome.error_code, outcome.error_message)
        return outcome

    async def _topic_failed(self, chat_id: int, thread_id: int, outcome: Outcome) -> None:
        """What a refusal says about the topic: a deleted one is forgotten (no longer offered), a
        closed one is marked so (offered again once it is reopened)."""
        if outcome.error_code == "topic_deleted":
            log.info("topic %s of chat %s was deleted: forgotten", thread_id, chat_id)
            await self.store.forget_topic(chat_id, thread_id)
        elif outcome.error_code == "topic_closed":
            topic = await self.store.get_topic(chat_id, thread_id)
            if topic is not None and not topic.closed:
                topic.closed, topic.updated_at = True, utc_now()
                await self.store.upsert_topic(topic)

    async def _follow_migration(self, old_chat_id: int, new_chat_id: int) -> int:
        log.info("chat %s was upgraded to supergroup %s", old_chat_id, new_chat_id)
        await self.store.migrate_chat(old_chat_id, new_chat_id)
        return new_chat_id

    async def send_planned(self, chat_id: int, planned: PlannedMessage, sending: Sending = untracked) -> Message:
        """Sends one planned message to any chat (also the owner's, for posting by hand); returns
        the first Telegram message it produced."""
        return (await self._send(chat_id, planned, sending))[0]

    async def _send(
        self,
        chat_id: int,
        planned: PlannedMessage,
        sending: Sending,
        thread_id: int | None = None,
        options: DeliveryOptions | None = None,
    ) -> list[Message]:
        """Sends one planned message (into the forum topic `thread_id`, if given, with the post's
        delivery `options`); returns the Telegram messages it produced (an album's items).

        The room in the rate limits is booked first, then the media are made ready — a file_id
        Telegram has, else the stored bytes copied a chunk at a time into a temporary file that the
        upload streams from (a post waiting for a channel's window holds no media in memory, and
        one uploading holds none whole) — then `sending` marks the delivery as under way: the
        request leaves right after it, with no wait in between. An upload's file_id is kept, so the
        next target (and the next post) sends the file without uploading it again."""
        booking = await self._book(chat_id, planned.messages)
        extra: dict[str, Any] = {} if booking is None else {"rate_limit_args": booking}
        if options is not None and options.silent:
            extra["disable_notification"] = True
        if options is not None and options.protect:
            extra["protect_content"] = True
        with ExitStack() as files:
            try:
                media = [await self._source(item.image, planned.kind == "album", files) for item in planned.media]
                if any(not isinstance(source, str) for source in media):
                    # Telegram answers an upload once it has taken the files in: big videos take a while.
                    extra["read_timeout"] = UPLOAD_READ_TIMEOUT
                await sending()
                messages = await send_planned(self.bot, chat_id, planned, media, thread_id=thread_id, **extra)
            finally:
                if booking is not None and self._limiter is not None:
                    self._limiter.cancel(booking)  # only if it was not used (a missing file…)
        await self._remember_file_ids(planned, messages)
        return list(messages)

    @property
    def _limiter(self) -> TelegramRateLimiter | None:
        limiter = self.bot.rate_limiter if isinstance(self.bot, ExtBot) else None
        return limiter if isinstance(limiter, TelegramRateLimiter) else None

    async def _book(self, chat_id: int, count: int) -> Booking | None:
        limiter = self._limiter
        return None if limiter is None else await limiter.book(chat_id, count)

    async def _source(self, image: Image, in_album: bool, files: ExitStack) -> MediaSource:
        """What to send an item from: a file_id Telegram already has, else its stored bytes in a
        temporary file (closed with `files`). Raises MissingMedia."""
        file_id = image.telegram_file_id or await self.store.image_file_id(image.blob_id)
        if file_id:
            return file_id
        spooled = files.enter_context(await spool(self.store, image))
        return upload(spooled, image.name, in_album=in_album)

    async def _remember_file_ids(self, planned: PlannedMessage, messages: list[Message]) -> None:
        for item, message in zip(planned.media, messages, strict=False):
            file_id = file_id_of(message)
            if file_id and not item.image.telegram_file_id:
                await self.store.set_image_file_id(item.image.blob_id, file_id)
