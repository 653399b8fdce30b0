"""Accounts: list, add (Facebook Page, webhook, Facebook groups by hand), refresh, reconnect, remove.

Adding one asks the platform's questions here; the platform's module (publishers/) checks the
answers and lists the targets they give (`Provider.connect`)."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers import keyboards, screen, texts
from handlers.common import (
    TELEGRAM_ACCOUNT_ID,
    accounts_for,
    answer,
    reply,
    services,
    store_of,
    targets_of,
)
from handlers.hand_post import send_prompt
from handlers.keyboards import ACC
from publishers.base import Connection, Provider
from publishers.registry import Wiring, provider
from storage.models import Platform

log = logging.getLogger(__name__)

PLATFORM, FACEBOOK_TOKEN, WEBHOOK_URL, WEBHOOK_SECRET, FACEBOOK_GROUPS = (
    "platform",
    "facebook_token",
    "webhook_url",
    "webhook_secret",
    "facebook_groups",
)
FORM = "account_form"


def _form(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    form = context.user_data.setdefault(FORM, {})
    assert isinstance(form, dict)
    return form


@asynccontextmanager
async def _platform(context: ContextTypes.DEFAULT_TYPE, platform: Platform) -> AsyncIterator[Provider]:
    """The platform, built to check the user's answers; closed after."""
    settings = services(context).settings
    hand_post = functools.partial(send_prompt, context.bot)
    built = provider(platform, Wiring(context.bot, store_of(context), settings, hand_post))
    try:
        yield built
    finally:
        built.close()


async def _credential_answer(update: Update) -> str:
    """What the user typed, stripped; the message that carried it (a credential) is deleted at
    once: the chat must not keep it."""
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        await message.delete()
    except TelegramError as error:
        log.warning("could not delete a credential message: %s", error.message)
    return message.text.strip()


# -- list, details, refresh, remove ---------------------------------------------------------------
async def list_accounts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The user's accounts with their target counts, and Add account."""
    await answer(update)
    accounts = await accounts_for(context, screen.user_id(update))
    lines = []
    for account in accounts:
        count = len(await targets_of(context, account))
        lines.append(texts.account_line(account.name, account.platform.value, count, account.needs_reconnect))
    await screen.show(update, texts.accounts_list(lines), keyboards.accounts_list_keyboard(accounts))


async def show_account(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One account: its targets and what can be done with it."""
    account = await screen.own_account(update, context, screen.pressed(update).argument)
    if account is None:
        return
    await answer(update)
    names = [target.name for target in await targets_of(context, account)]
    await screen.show(
        update,
        texts.account_details(account.name, account.platform.value, names, account.needs_reconnect),
        keyboards.account_keyboard(account),
    )


async def refresh_account(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reads a Facebook account's Pages again."""
    account = await screen.own_account(update, context, screen.pressed(update).argument)
    if account is None or account.platform is not Platform.FACEBOOK_PAGE:
        return
    credential = await store_of(context).account_credential(account.account_id)
    async with _platform(context, account.platform) as platform:
        found = await platform.refresh(account, credential or "")
    await answer(update)
    if found.refused is not None:
        await reply(update, texts.credential_refused(found.refused))
        return
    await store_of(context).set_account_targets(screen.user_id(update), account.account_id, found.targets)
    await reply(update, texts.account_refreshed(len(found.targets)))


async def ask_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Asks to confirm removing an account."""
    account = await screen.own_account(update, context, screen.pressed(update).argument)
    if account is None:
        return
    if account.account_id == TELEGRAM_ACCOUNT_ID:
        await answer(update, texts.CANNOT_REMOVE_TELEGRAM, alert=True)
        return
    await answer(update)
    markup = keyboards.confirm_remove_keyboard(account.account_id)
    await screen.show(update, texts.confirm_remove_account(account.name), markup)


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Removes the account and cancels its scheduled posts."""
    account = await screen.own_account(update, context, screen.pressed(update).argument)
    if account is None:
        return
    cancelled = await store_of(context).remove_account(screen.user_id(update), account.account_id)
    if cancelled is None:
        await answer(update, texts.ACCOUNT_GONE, alert=True)
        return
    await answer(update)
    await screen.show(update, texts.account_removed(account.name, cancelled))


# -- adding an account: a small persistent conversation -------------------------------------------
async def start_adding(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Asks which platform to connect."""
    await answer(update)
    assert context.user_data is not None
    context.user_data[FORM] = {}
    await screen.show(update, texts.CHOOSE_PLATFORM, keyboards.platform_keyboard())
    return PLATFORM


async def choose_platform(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Asks for what the chosen platform needs."""
    await answer(update)
    chosen = screen.pressed(update).argument
    if chosen == Platform.FACEBOOK_PAGE.value:
        await screen.show(update, texts.ASK_FACEBOOK_TOKEN)
        return FACEBOOK_TOKEN
    if chosen == Platform.WEBHOOK.value:
        await screen.show(update, texts.ASK_WEBHOOK_URL)
        return WEBHOOK_URL
    if chosen == Platform.FACEBOOK_GROUPS.value:
        _form(context)["groups"] = []
        await screen.show(update, texts.ASK_FACEBOOK_GROUPS, keyboards.groups_done_keyboard())
        return FACEBOOK_GROUPS
    return None


async def start_reconnect(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Asks for a new token for a Facebook account the platform refused: on the account's screen,
    or in a message of its own when pressed elsewhere (a report, New post), which stays as it was."""
    account_id, apart = keyboards.parse_reconnect(screen.pressed(update).argument)
    account = await screen.own_account(update, context, account_id)
    if account is None or account.platform is not Platform.FACEBOOK_PAGE:
        return None
    await answer(update)
    assert context.user_data is not None
    context.user_data[FORM] = {"reconnect": account.account_id}
    await screen.show(update, texts.ASK_FACEBOOK_TOKEN, in_place=not apart)
    return FACEBOOK_TOKEN


async def facebook_token(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Checks a pasted token with Facebook and stores it, encrypted, with the Pages it manages."""
    token = await _credential_answer(update)
    await reply(update, texts.CHECKING)
    async with _platform(context, Platform.FACEBOOK_PAGE) as facebook:
        found = await facebook.connect(screen.user_id(update), [token])
    if found.refused is not None:
        await reply(update, texts.credential_refused(found.refused))
        return FACEBOOK_TOKEN
    if not found.targets:
        await reply(update, texts.FACEBOOK_NO_PAGES)
        return FACEBOOK_TOKEN
    names = [page.name for page in found.targets]
    reconnect = _form(context).get("reconnect")
    if reconnect:
        store, user_id = store_of(context), screen.user_id(update)
        await store.set_account_credential(user_id, reconnect, found.credential)
        await store.set_account_targets(user_id, reconnect, found.targets)
    else:
        name = names[0] if len(names) == 1 else f"{names[0]} +{len(names) - 1}"
        await _add_account(update, context, Platform.FACEBOOK_PAGE, f"Facebook: {name}", found)
    await reply(update, texts.facebook_connected(names))
    return _done(context)


async def webhook_url(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Checks the webhook's address, then asks for its signing secret."""
    # Some webhook URLs (Discord, Slack) carry a token of their own: the chat must not keep it.
    url = await _credential_answer(update)
    async with _platform(context, Platform.WEBHOOK) as webhook:
        problem = webhook.check([url])
    if problem is not None:
        await reply(update, texts.webhook_url_refused(problem))
        return WEBHOOK_URL
    # Kept encrypted between the two questions too (user_data is saved to the database).
    _form(context)["url"] = store_of(context).seal(url)
    await reply(update, texts.ASK_WEBHOOK_SECRET)
    return WEBHOOK_SECRET


async def webhook_secret(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Stores the webhook with its secret (encrypted), after a signed test delivery."""
    secret = await _credential_answer(update)
    url = store_of(context).unseal(str(_form(context).get("url", "")))
    if url is None:  # the address was lost meanwhile (a restart with another key)
        await reply(update, texts.ASK_WEBHOOK_URL)
        return WEBHOOK_URL
    async with _platform(context, Platform.WEBHOOK) as webhook:
        # The address passed its question: what is wrong now is the secret.
        if webhook.check([url, secret]) is not None:
            await reply(update, texts.WEBHOOK_SECRET_SHORT)
            return WEBHOOK_SECRET
        found = await webhook.connect(screen.user_id(update), [url, secret])
    if found.refused is not None:
        await reply(update, texts.webhook_url_refused(found.refused))
        return WEBHOOK_URL
    host = found.targets[0].name
    await _add_account(update, context, Platform.WEBHOOK, f"Webhook: {host}", found)
    await reply(update, texts.webhook_connected(host, found.warning))
    return _done(context)


def _group_answers(form: dict[str, Any]) -> list[str]:
    """The groups sent so far, as the user typed them."""
    # Forms saved before the answers were kept as typed hold {"name", "url"} entries.
    return [
        group if isinstance(group, str) else " ".join(part for part in (group.get("name"), group.get("url")) if part)
        for group in form.get("groups", [])
    ]


async def facebook_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Adds one group (by link or name) to the list being made."""
    message = update.effective_message
    assert message is not None and message.text is not None
    form = _form(context)
    groups = [*_group_answers(form), message.text]
    async with _platform(context, Platform.FACEBOOK_GROUPS) as facebook_groups:
        found = await facebook_groups.connect(screen.user_id(update), groups)
    form["groups"] = groups
    added = found.targets[-1].name
    await reply(update, texts.facebook_group_added(added, len(groups)), reply_markup=keyboards.groups_done_keyboard())
    return FACEBOOK_GROUPS


async def facebook_groups_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Saves the groups as one account whose posts are handed to the user at the time."""
    groups = _group_answers(_form(context))
    if not groups:
        await answer(update, texts.FACEBOOK_GROUPS_EMPTY, alert=True)
        return FACEBOOK_GROUPS
    await answer(update)
    async with _platform(context, Platform.FACEBOOK_GROUPS) as facebook_groups:
        found = await facebook_groups.connect(screen.user_id(update), groups)
    await _add_account(update, context, Platform.FACEBOOK_GROUPS, "Facebook groups", found)
    await screen.show(update, texts.facebook_groups_saved(len(found.targets)))
    return _done(context)


async def _add_account(
    update: Update, context: ContextTypes.DEFAULT_TYPE, platform: Platform, name: str, found: Connection
) -> None:
    """Stores a new account with what connecting it found."""
    await store_of(context).add_account(screen.user_id(update), platform, name, found.credential, found.targets)


def _done(context: ContextTypes.DEFAULT_TYPE) -> int:
    if context.user_data is not None:
        context.user_data.pop(FORM, None)
    return ConversationHandler.END


async def cancel_adding(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Leaves without adding anything."""
    await answer(update)
    await screen.show(update, texts.CANCELLED)
    return _done(context)


async def leave_for_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Another command while a credential is asked for: drop the form and run that command."""
    await context.update_queue.put(update)
    return _done(context)


def account_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CommandHandler("accounts", list_accounts),
        CallbackQueryHandler(list_accounts, pattern=r"^(menu:accounts|acc:list)$"),
        CallbackQueryHandler(show_account, pattern=rf"^{ACC}:show:"),
        CallbackQueryHandler(refresh_account, pattern=rf"^{ACC}:refresh:"),
        CallbackQueryHandler(ask_remove, pattern=rf"^{ACC}:remove:"),
        CallbackQueryHandler(remove, pattern=rf"^{ACC}:remove_yes:"),
    ]


def build_account_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CallbackQueryHandler(start_adding, pattern=rf"^{ACC}:add$"),
            CallbackQueryHandler(start_reconnect, pattern=rf"^{ACC}:reconnect:"),
        ],
        states={
            PLATFORM: [CallbackQueryHandler(choose_platform, pattern=rf"^{ACC}:platform:")],
            FACEBOOK_TOKEN: [MessageHandler(text, facebook_token)],
            WEBHOOK_URL: [MessageHandler(text, webhook_url)],
            WEBHOOK_SECRET: [MessageHandler(text, webhook_secret)],
            FACEBOOK_GROUPS: [
                MessageHandler(text, facebook_group),
                CallbackQueryHandler(facebook_groups_done, pattern=rf"^{ACC}:groups_done$"),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_adding),
            CallbackQueryHandler(cancel_adding, pattern=rf"^{ACC}:cancel$"),
            MessageHandler(filters.COMMAND, leave_for_command),
        ],
        name="add_account",
        persistent=True,
        allow_reentry=True,
    )
