"""Accounts: list, add (Facebook Page, webhook, Facebook groups by hand), refresh, reconnect, remove;
and the "I posted it" button of a Facebook group post handed to the user."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlparse

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
from handlers.keyboards import ACC, POST
from publishers.facebook import FacebookError, PageInfo, classify, discover_pages
from publishers.registry import target_kind
from publishers.webhook import WebhookPublisher, check_url, webhook_credential
from services import PostEvent
from storage.crypto import CredentialError
from storage.models import Platform, Target, new_id, utc_now

log = logging.getLogger(__name__)

PLATFORM, FACEBOOK_TOKEN, WEBHOOK_URL, WEBHOOK_SECRET, FACEBOOK_GROUPS = (
    "platform",
    "facebook_token",
    "webhook_url",
    "webhook_secret",
    "facebook_groups",
)
FORM = "account_form"
MIN_SECRET = 16
URL_PATTERN = re.compile(r"https?://\S+")


def _form(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    form = context.user_data.setdefault(FORM, {})
    assert isinstance(form, dict)
    return form


async def _delete_credential_message(update: Update) -> None:
    """Deletes the message that carried a credential, at once: the chat must not keep it."""
    message = update.effective_message
    if message is None:
        return
    try:
        await message.delete()
    except TelegramError as error:
        log.warning("could not delete a credential message: %s", error.message)


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
    try:
        pages = await discover_pages(credential or "", services(context).settings.facebook_graph_url)
    except FacebookError as error:
        await answer(update)
        await reply(update, texts.credential_refused(classify(error, publishing=False).error_message or ""))
        return
    await answer(update)
    await store_of(context).set_account_targets(screen.user_id(update), account.account_id, _page_targets(pages))
    await reply(update, texts.account_refreshed(len(pages)))


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
    """Asks for a new token for a Facebook account the platform refused."""
    account = await screen.own_account(update, context, screen.pressed(update).argument)
    if account is None or account.platform is not Platform.FACEBOOK_PAGE:
        return None
    await answer(update)
    assert context.user_data is not None
    context.user_data[FORM] = {"reconnect": account.account_id}
    await screen.show(update, texts.ASK_FACEBOOK_TOKEN)
    return FACEBOOK_TOKEN


def _page_targets(pages: list[PageInfo]) -> list[Target]:
    kind = target_kind(Platform.FACEBOOK_PAGE)
    return [
        Target(f"fb{page.id}", page.name, page.id, kind, f"https://www.facebook.com/{page.id}") for page in pages
    ]


async def facebook_token(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Checks a pasted token with Facebook and stores it, encrypted, with the Pages it manages."""
    message = update.effective_message
    assert message is not None and message.text is not None
    token = message.text.strip()
    await _delete_credential_message(update)
    await reply(update, texts.CHECKING)
    try:
        pages = await discover_pages(token, services(context).settings.facebook_graph_url)
    except FacebookError as error:
        await reply(update, texts.credential_refused(classify(error, publishing=False).error_message or ""))
        return FACEBOOK_TOKEN
    if not pages:
        await reply(update, texts.FACEBOOK_NO_PAGES)
        return FACEBOOK_TOKEN
    store, user_id = store_of(context), screen.user_id(update)
    reconnect = _form(context).get("reconnect")
    if reconnect:
        await store.set_account_credential(user_id, reconnect, token)
        await store.set_account_targets(user_id, reconnect, _page_targets(pages))
    else:
        name = pages[0].name if len(pages) == 1 else f"{pages[0].name} +{len(pages) - 1}"
        await store.add_account(user_id, Platform.FACEBOOK_PAGE, f"Facebook: {name}", token, _page_targets(pages))
    await reply(update, texts.facebook_connected([page.name for page in pages]))
    return _done(context)


async def webhook_url(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Checks the webhook's address, then asks for its signing secret."""
    message = update.effective_message
    assert message is not None and message.text is not None
    url = message.text.strip()
    # Some webhook URLs (Discord, Slack) carry a token of their own: the chat must not keep it.
    await _delete_credential_message(update)
    problem = check_url(url)
    if problem is not None:
        await reply(update, texts.webhook_url_refused(problem))
        return WEBHOOK_URL
    # Kept encrypted between the two questions too (user_data is saved to the database).
    _form(context)["url"] = store_of(context).cipher.encrypt(url)
    await reply(update, texts.ASK_WEBHOOK_SECRET)
    return WEBHOOK_SECRET


async def webhook_secret(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Stores the webhook with its secret (encrypted), after a signed test delivery."""
    message = update.effective_message
    assert message is not None and message.text is not None
    secret = message.text.strip()
    await _delete_credential_message(update)
    if len(secret) < MIN_SECRET:
        await reply(update, texts.WEBHOOK_SECRET_SHORT)
        return WEBHOOK_SECRET
    store = store_of(context)
    try:
        url = store.cipher.decrypt(str(_form(context).get("url", "")))
    except CredentialError:  # the address was lost meanwhile (a restart with another key)
        await reply(update, texts.ASK_WEBHOOK_URL)
        return WEBHOOK_URL
    host = urlparse(url).hostname or "webhook"
    publisher = WebhookPublisher(store)
    try:
        problem = await publisher.ping(url, secret)
    finally:
        publisher.close()
    # The target shows only the host; the URL (which may carry a token) is in the credential.
    target = Target(f"wh{new_id()}", host, host, target_kind(Platform.WEBHOOK))
    credential = webhook_credential(url, secret)
    await store.add_account(screen.user_id(update), Platform.WEBHOOK, f"Webhook: {host}", credential, [target])
    await reply(update, texts.webhook_connected(host, problem))
    return _done(context)


def _group_from(text: str) -> tuple[str, str | None]:
    """(name, link) from what the user sent: a link, a name, or a name and a link."""
    link = URL_PATTERN.search(text)
    url = link.group(0) if link else None
    name = URL_PATTERN.sub("", text).strip(" -—:\n")
    if not name and url:
        name = urlparse(url).path.rstrip("/").rsplit("/", 1)[-1] or url
    return name[:64] or "Facebook group", url


async def facebook_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Adds one group (by link or name) to the list being made."""
    message = update.effective_message
    assert message is not None and message.text is not None
    name, url = _group_from(message.text)
    form = _form(context)
    groups = list(form.get("groups", []))
    groups.append({"name": name, "url": url})
    form["groups"] = groups
    await reply(update, texts.facebook_group_added(name, len(groups)), reply_markup=keyboards.groups_done_keyboard())
    return FACEBOOK_GROUPS


async def facebook_groups_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Saves the groups as one account whose posts are handed to the user at the time."""
    groups = _form(context).get("groups", [])
    if not groups:
        await answer(update, texts.FACEBOOK_GROUPS_EMPTY, alert=True)
        return FACEBOOK_GROUPS
    await answer(update)
    kind = target_kind(Platform.FACEBOOK_GROUPS)
    targets = [Target(f"fbg{new_id()}", g["name"], g["url"] or g["name"], kind, g["url"]) for g in groups]
    await store_of(context).add_account(
        screen.user_id(update), Platform.FACEBOOK_GROUPS, "Facebook groups", "", targets
    )
    await screen.show(update, texts.facebook_groups_saved(len(targets)))
    return _done(context)


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


# -- Facebook groups: the owner posted it by hand ---------------------------------------------------
async def posted_by_hand(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Marks a hand-posted Facebook group delivery as sent; reports the post if that finished it."""
    post_id, _, target_id = screen.pressed(update).argument.partition("/")
    user_id = screen.user_id(update)
    post = await store_of(context).confirm_delivery(user_id, post_id, target_id, utc_now())
    if post is None:
        await answer(update, texts.HAND_POST_NOT_WAITING, alert=True)
        return
    await answer(update)
    query = update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(None)
    names = dict(zip(post.group_ids, post.groups, strict=False))
    await reply(update, texts.hand_posted(names.get(target_id, target_id)))
    if post.status.is_final:
        await services(context).post_changed(PostEvent.FINISHED, post)


def account_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CommandHandler("accounts", list_accounts),
        CallbackQueryHandler(list_accounts, pattern=r"^(menu:accounts|acc:list)$"),
        CallbackQueryHandler(show_account, pattern=rf"^{ACC}:show:"),
        CallbackQueryHandler(refresh_account, pattern=rf"^{ACC}:refresh:"),
        CallbackQueryHandler(ask_remove, pattern=rf"^{ACC}:remove:"),
        CallbackQueryHandler(remove, pattern=rf"^{ACC}:remove_yes:"),
        CallbackQueryHandler(posted_by_hand, pattern=rf"^{POST}:posted:"),
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
