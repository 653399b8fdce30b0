"""What every handler needs: the store and settings, the user's zone, their Telegram targets."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from i18n import _
from publishers.telegram import ACCOUNT_ID, TelegramPublisher
from services import Services
from storage.base import Store
from storage.models import Account, Platform, Target

log = logging.getLogger(__name__)

SERVICES_KEY = "herald"
TELEGRAM_ACCOUNT_ID = ACCOUNT_ID
ALL_ACCOUNTS_ID = "all"


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found


def store_of(context: ContextTypes.DEFAULT_TYPE) -> Store:
    return services(context).store


async def user_zone(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> str:
    """The user's IANA zone, or the configured default."""
    user = await store_of(context).get_user(user_id)
    return user.timezone if user and user.timezone else services(context).settings.default_timezone


def telegram_account(user_id: int) -> Account:
    """The Telegram account every user has without setup: this bot, in chats they administer."""
    from handlers.texts import TELEGRAM_ACCOUNT_NAME

    return Account(TELEGRAM_ACCOUNT_ID, user_id, Platform.TELEGRAM, TELEGRAM_ACCOUNT_NAME)


def _telegram(context: ContextTypes.DEFAULT_TYPE) -> TelegramPublisher:
    return TelegramPublisher(context.bot, store_of(context))


def telegram_publisher(context: ContextTypes.DEFAULT_TYPE) -> TelegramPublisher:
    """The bot's own publisher, for what the chat must ask of Telegram (the bot's rights)."""
    return _telegram(context)


async def is_admin(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int) -> bool:
    """True if `user_id` administers the chat, asked of Telegram now (getChatMember)."""
    return await _telegram(context).administers(chat_id, user_id)


async def telegram_targets(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> list[Target]:
    """The channels and groups where the bot and this user are both administrators."""
    return (await _telegram(context).connect(user_id)).targets


async def accounts_for(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> list[Account]:
    """The user's accounts, the built-in Telegram one first."""
    return [telegram_account(user_id), *await store_of(context).list_accounts(user_id)]


def all_accounts(user_id: int) -> Account:
    """The choice of every account at once, for a post that mixes platforms."""
    return Account(ALL_ACCOUNTS_ID, user_id, Platform.TELEGRAM, _("🌐 All accounts"))


async def choosable_accounts(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> list[Account]:
    """The accounts a post can be made from, with "All accounts" when there are several."""
    accounts = await accounts_for(context, user_id)
    return [*accounts, all_accounts(user_id)] if len(accounts) > 1 else accounts


async def find_account(
    context: ContextTypes.DEFAULT_TYPE, user_id: int, account_id: str, *, for_a_post: bool = False
) -> Account | None:
    """The user's account `account_id` (with `for_a_post`, "All accounts" too), or None."""
    accounts = await (choosable_accounts(context, user_id) if for_a_post else accounts_for(context, user_id))
    return next((account for account in accounts if account.account_id == account_id), None)


async def targets_of(context: ContextTypes.DEFAULT_TYPE, account: Account) -> list[Target]:
    """The targets an account offers this user now."""
    if account.account_id == ALL_ACCOUNTS_ID:
        every = [await targets_of(context, one) for one in await accounts_for(context, account.user_id)]
        return [target for targets in every for target in targets]
    if account.platform is Platform.TELEGRAM:
        return await telegram_targets(context, account.user_id)
    return list(account.targets)


# Plain acknowledgements in flight (a reference keeps each task alive until it is done).
_ACKS: set[asyncio.Task[None]] = set()


async def answer(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press (so its spinner stops), with an optional short notice.

    With nothing to say, the answer goes out alongside the work the press starts instead of
    before it: the person's next screen does not wait for that round trip."""
    query = update.callback_query
    if query is None:
        return
    if text is None and not alert:
        task = asyncio.create_task(_answer(query, None, False, quiet=True))
        _ACKS.add(task)
        task.add_done_callback(_ACKS.discard)
        return
    await _answer(query, text, alert)


async def _answer(query: CallbackQuery, text: str | None, alert: bool, quiet: bool = False) -> None:
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as error:
        # A query older than Telegram keeps cannot be answered; nothing is lost.
        log.info("callback query not answered: %s", error)
    except (TelegramError, RuntimeError) as error:
        if not quiet:
            raise
        # Only the spinner is at stake (a network error, the bot shutting down meanwhile).
        log.info("callback query not answered: %s", error)


async def reply(update: Update, text: str, **kwargs: Any) -> None:
    """Send `text` (HTML) to the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_message(text, parse_mode="HTML", **kwargs)
