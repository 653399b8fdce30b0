"""Accounts: list, add (Facebook Page, webhook, Facebook groups by hand), refresh, reconnect, rename,
remove.

Adding one asks the platform's questions here; the platform's module (publishers/) checks the
answers and lists the targets they give (`Provider.connect`). Every question — a credential, a
webhook's name, an account's new name — has a Cancel button beside /cancel; its buttons carry the
id of the form they belong to, so a button of a question left or finished earlier changes nothing."""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
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

import i18n
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
from storage.models import Account, Platform, Target, new_id

log = logging.getLogger(__name__)

PLATFORM, FACEBOOK_TOKEN, WEBHOOK_URL, WEBHOOK_SECRET, FACEBOOK_GROUPS = (
    "platform",
    "facebook_token",
    "webhook_url",
    "webhook_secret",
    "facebook_groups",
)
# A webhook whose test delivery failed: save it anyway, or try another URL.
WEBHOOK_TEST_FAILED = "webhook_test_failed"
# A new webhook's name; an existing account's new name.
WEBHOOK_NAME, NEW_NAME = "webhook_name", "new_name"
FORM = "account_form"
# The buttons of the accounts questions, each tied to its form.
QUESTION_BUTTONS = ("cancel", "save_anyway", "other_url", "same_secret", "use_host", "platform", "groups_done")


def _form(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    form = context.user_data.setdefault(FORM, {})
    assert isinstance(form, dict)
    return form


def _new_form(context: ContextTypes.DEFAULT_TYPE, **fields: str) -> str:
    """Starts a question afresh (whatever was asked before is dropped); the form's id."""
    assert context.user_data is not None
    form_id = new_id()
    context.user_data[FORM] = {"id": form_id, **fields}
    return form_id


def _form_id(context: ContextTypes.DEFAULT_TYPE) -> str:
    # Forms begun before they had ids have none; their buttons carry none either.
    return str(_form(context).get("id", ""))


async def _is_this_form(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True if the pressed button belongs to the open question; else the press is answered."""
    if screen.pressed(update).argument == _form_id(context):
        return True
    await answer(update, texts.WRONG_STEP_BUTTON, alert=True)
    return False


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


def account_name(typed: str) -> tuple[str, str | None]:
    """(the name as it will be kept — on one line, spaces tidied; why it cannot be, or None)."""
    name = " ".join(typed.split())
    # Only separators and invisible characters (zero-width spaces, joiners) would make a blank button.
    if not any(unicodedata.category(char)[0] not in "ZC" for char in name):
        return name, texts.ACCOUNT_NAME_EMPTY
    if len(name) > texts.ACCOUNT_NAME_LIMIT:
        return name, texts.account_name_too_long(len(name))
    return name, None


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
    details = texts.account_details(account.name, account.platform.value, names, account.needs_reconnect)
    if account.account_id == TELEGRAM_ACCOUNT_ID:
        details += "\n\n" + texts.TOPIC_LINK_HINT
    await screen.show(update, details, keyboards.account_keyboard(account))


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
        await reply(update, texts.credential_refused(i18n.stored(found.refused)))
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


async def question_closed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of an accounts question that is no longer open (left, finished, or forged)."""
    await answer(update, texts.ACCOUNT_QUESTION_CLOSED, alert=True)


# -- adding an account: a small persistent conversation -------------------------------------------
async def start_adding(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Asks which platform to connect."""
    await answer(update)
    form_id = _new_form(context)
    await screen.show(update, texts.CHOOSE_PLATFORM, keyboards.platform_keyboard(form_id))
    return PLATFORM


async def choose_platform(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Asks for what the chosen platform needs."""
    await answer(update)
    chosen = screen.pressed(update).argument
    cancel = keyboards.account_cancel_keyboard(_form_id(context))
    if chosen == Platform.FACEBOOK_PAGE.value:
        await screen.show(update, texts.ASK_FACEBOOK_TOKEN, cancel)
        return FACEBOOK_TOKEN
    if chosen == Platform.WEBHOOK.value:
        await screen.show(update, texts.ASK_WEBHOOK_URL, cancel)
        return WEBHOOK_URL
    if chosen == Platform.FACEBOOK_GROUPS.value:
        _form(context)["groups"] = []
        await screen.show(update, texts.ASK_FACEBOOK_GROUPS, keyboards.groups_done_keyboard(_form_id(context)))
        return FACEBOOK_GROUPS
    return None


async def start_reconnect(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Asks for a new token for a Facebook account the platform refused, in a message of its own
    wherever Reconnect was pressed (the account's screen, a report, New post), which stays as it was."""
    account_id, _ = keyboards.parse_reconnect(screen.pressed(update).argument)
    account = await screen.own_account(update, context, account_id)
    if account is None:
        return None
    await answer(update)
    if account.platform is not Platform.FACEBOOK_PAGE:  # only a token is ever refused
        return None
    form_id = _new_form(context, reconnect=account.account_id)
    markup = keyboards.account_cancel_keyboard(form_id)
    await screen.show(update, texts.ask_reconnect_token(account.name), markup, in_place=False)
    return FACEBOOK_TOKEN


async def facebook_token(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Checks a pasted token with Facebook and stores it, encrypted, with the Pages it manages;
    a token that cannot be used is refused with the reason, and another one asked for."""
    token = await _credential_answer(update)
    store, user_id = store_of(context), screen.user_id(update)
    reconnect = str(_form(context).get("reconnect") or "")
    account = await store.get_account(user_id, reconnect) if reconnect else None
    if reconnect and account is None:  # removed meanwhile
        await reply(update, texts.ACCOUNT_GONE)
        return _done(context)
    await reply(update, texts.CHECKING)
    async with _platform(context, Platform.FACEBOOK_PAGE) as facebook:
        found = await facebook.connect(user_id, [token])
    cancel = keyboards.account_cancel_keyboard(_form_id(context))
    if found.refused is not None:
        refused = (
            texts.reconnect_token_refused(account.name, i18n.stored(found.refused))
            if account is not None
            else texts.facebook_token_refused(i18n.stored(found.refused))
        )
        await reply(update, refused, reply_markup=cancel)
        return FACEBOOK_TOKEN
    if not found.targets:
        await reply(update, texts.FACEBOOK_NO_PAGES, reply_markup=cancel)
        return FACEBOOK_TOKEN
    names = [page.name for page in found.targets]
    if account is not None:
        await store.set_account_credential(user_id, account.account_id, found.credential)
        await store.set_account_targets(user_id, account.account_id, found.targets)
    else:
        name = names[0] if len(names) == 1 else f"{names[0]} +{len(names) - 1}"
        await _add_account(update, context, Platform.FACEBOOK_PAGE, f"Facebook: {name}", found)
    await reply(update, texts.facebook_connected(names))
    return _done(context)


async def webhook_url(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Checks the webhook's address, then asks for its signing secret."""
    # Some webhook URLs (Discord, Slack) carry a token of their own: the chat must not keep it.
    url = await _credential_answer(update)
    form, form_id = _form(context), _form_id(context)
    async with _platform(context, Platform.WEBHOOK) as webhook:
        problem = webhook.check([url])
    if problem is not None:
        markup = keyboards.account_cancel_keyboard(form_id)
        await reply(update, texts.webhook_url_refused(i18n.stored(problem)), reply_markup=markup)
        return WEBHOOK_URL
    # Kept encrypted between the questions too (user_data is saved to the database).
    form["url"] = store_of(context).seal(url)
    # What a test of an earlier URL found is that URL's.
    for earlier in ("credential", "host", "target_id", "warning"):
        form.pop(earlier, None)
    if form.get("secret"):
        await reply(update, texts.ASK_WEBHOOK_SECRET_AGAIN, reply_markup=keyboards.webhook_secret_keyboard(form_id))
    else:
        await reply(update, texts.ASK_WEBHOOK_SECRET, reply_markup=keyboards.account_cancel_keyboard(form_id))
    return WEBHOOK_SECRET


async def webhook_secret(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Sends a signed test delivery with the secret typed."""
    secret = await _credential_answer(update)
    return await _test_webhook(update, context, secret)


async def same_secret(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Sends a signed test delivery to the new URL with the secret sent before."""
    if not await _is_this_form(update, context):
        return None
    await answer(update)
    secret = store_of(context).unseal(str(_form(context).get("secret", "")))
    if secret is None:  # unreadable meanwhile (a restart with another key)
        _form(context).pop("secret", None)
        await reply(update, texts.ASK_WEBHOOK_SECRET, reply_markup=keyboards.account_cancel_keyboard(_form_id(context)))
        return WEBHOOK_SECRET
    return await _test_webhook(update, context, secret)


async def _test_webhook(update: Update, context: ContextTypes.DEFAULT_TYPE, secret: str) -> str:
    """Checks the secret and sends a signed test delivery; then asks the webhook's name, or —
    when the delivery failed — whether to save it anyway or try another URL."""
    store, form = store_of(context), _form(context)
    cancel = keyboards.account_cancel_keyboard(_form_id(context))
    url = store.unseal(str(form.get("url", "")))
    if url is None:  # the address was lost meanwhile (a restart with another key)
        await reply(update, texts.WEBHOOK_ADDRESS_LOST, reply_markup=cancel)
        return WEBHOOK_URL
    async with _platform(context, Platform.WEBHOOK) as webhook:
        # The address passed its question: what is wrong now is the secret.
        if webhook.check([url, secret]) is not None:
            await reply(update, texts.WEBHOOK_SECRET_SHORT, reply_markup=cancel)
            return WEBHOOK_SECRET
        await reply(update, texts.CHECKING_WEBHOOK)
        found = await webhook.connect(screen.user_id(update), [url, secret])
    # The secret is kept (sealed) for another URL, should this one not do.
    form["secret"] = store.seal(secret)
    if found.refused is not None:
        await reply(update, texts.webhook_url_refused(i18n.stored(found.refused)), reply_markup=cancel)
        return WEBHOOK_URL
    target = found.targets[0]
    form.update(
        credential=store.seal(found.credential), host=target.address, target_id=target.target_id, warning=found.warning
    )
    if found.warning is not None:
        markup = keyboards.webhook_test_failed_keyboard(_form_id(context))
        await reply(update, texts.webhook_test_failed(target.address, i18n.stored(found.warning)), reply_markup=markup)
        return WEBHOOK_TEST_FAILED
    return await _ask_webhook_name(update, context, test_accepted=True)


async def save_anyway(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Keeps the webhook whose test delivery failed: its name is asked next."""
    if not await _is_this_form(update, context):
        return None
    await answer(update)
    return await _ask_webhook_name(update, context, test_accepted=False)


async def try_another_url(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Drops the address whose test delivery failed and asks for another."""
    if not await _is_this_form(update, context):
        return None
    await answer(update)
    form = _form(context)
    for dropped in ("url", "credential", "host", "target_id", "warning"):
        form.pop(dropped, None)
    await reply(update, texts.ASK_WEBHOOK_URL, reply_markup=keyboards.account_cancel_keyboard(_form_id(context)))
    return WEBHOOK_URL


async def _ask_webhook_name(update: Update, context: ContextTypes.DEFAULT_TYPE, *, test_accepted: bool) -> str:
    host = str(_form(context).get("host") or "webhook")
    markup = keyboards.webhook_name_keyboard(_form_id(context), texts.use_host(host))
    await reply(update, texts.ask_webhook_name(host, test_accepted), reply_markup=markup)
    return WEBHOOK_NAME


async def webhook_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Saves the webhook under the name typed (once it fits)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    name, problem = account_name(message.text)
    if problem is not None:
        await reply(update, problem, reply_markup=keyboards.account_cancel_keyboard(_form_id(context)))
        return WEBHOOK_NAME
    return await _save_webhook(update, context, name)


async def webhook_host_as_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int | None:
    """Saves the webhook under its host's name."""
    if not await _is_this_form(update, context):
        return None
    await answer(update)
    return await _save_webhook(update, context, str(_form(context).get("host") or "webhook"))


async def _save_webhook(update: Update, context: ContextTypes.DEFAULT_TYPE, name: str) -> str | int:
    """Stores the webhook, its URL and secret encrypted, under `name` — its one target's name too,
    so New post and the reports of its posts say it."""
    form = _form(context)
    credential = store_of(context).unseal(str(form.get("credential", "")))
    if credential is None or not form.get("target_id"):  # lost meanwhile (a restart with another key)
        await reply(
            update, texts.WEBHOOK_ADDRESS_LOST, reply_markup=keyboards.account_cancel_keyboard(_form_id(context))
        )
        return WEBHOOK_URL
    host = str(form.get("host") or name)
    target = Target(str(form["target_id"]), name, host, platform=Platform.WEBHOOK)
    warning = form.get("warning")
    await _add_account(update, context, Platform.WEBHOOK, name, Connection([target], credential))
    await reply(update, texts.webhook_connected(name, i18n.stored(str(warning)) if warning else None))
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
    markup = keyboards.groups_done_keyboard(_form_id(context))
    await reply(update, texts.facebook_group_added(added, len(groups)), reply_markup=markup)
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


# -- renaming an account --------------------------------------------------------------------------
async def start_rename(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Asks for an account's new name."""
    account = await screen.own_account(update, context, screen.pressed(update).argument)
    if account is None:
        return None
    if account.account_id == TELEGRAM_ACCOUNT_ID:
        await answer(update, texts.CANNOT_RENAME_TELEGRAM, alert=True)
        return None
    await answer(update)
    form_id = _new_form(context, rename=account.account_id)
    await screen.show(update, texts.ask_new_name(account.name), keyboards.account_cancel_keyboard(form_id))
    return NEW_NAME


def renamed_targets(account: Account, name: str) -> list[Target] | None:
    """The account's targets as they are to be named after the account is renamed `name`, or
    None if they keep their names. A webhook is one endpoint: its target is the account itself,
    and carries its name (other platforms' targets have names of their own: Pages, groups)."""
    if account.platform is not Platform.WEBHOOK:
        return None
    return [replace(target, name=name) for target in account.targets]


async def new_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Renames the account, once the name typed fits."""
    message = update.effective_message
    assert message is not None and message.text is not None
    name, problem = account_name(message.text)
    if problem is not None:
        await reply(update, problem, reply_markup=keyboards.account_cancel_keyboard(_form_id(context)))
        return NEW_NAME
    store, user_id = store_of(context), screen.user_id(update)
    account = await store.get_account(user_id, str(_form(context).get("rename", "")))
    if account is None or not await store.rename_account(user_id, account.account_id, name):
        await reply(update, texts.ACCOUNT_GONE)
        return _done(context)
    targets = renamed_targets(account, name)
    if targets is not None:
        await store.set_account_targets(user_id, account.account_id, targets)
    renamed = replace(account, name=name, targets=targets if targets is not None else account.targets)
    text = texts.account_renamed(account.name, name, posts_keep_old=targets is not None)
    await reply(update, text, reply_markup=keyboards.account_keyboard(renamed))
    return _done(context)


# -- leaving a question ---------------------------------------------------------------------------
def _done(context: ContextTypes.DEFAULT_TYPE) -> int:
    if context.user_data is not None:
        context.user_data.pop(FORM, None)
    return ConversationHandler.END


def _left(context: ContextTypes.DEFAULT_TYPE) -> str:
    """What leaving the open question leaves as it was."""
    return texts.NAME_KEPT if _form(context).get("rename") else texts.CANCELLED


async def cancel_adding(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """Cancel (or /cancel): leaves the question without keeping anything."""
    if update.callback_query is not None and not await _is_this_form(update, context):
        return None
    await answer(update)
    await screen.show(update, _left(context))
    return _done(context)


async def leave_for_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Another command, or a button of another screen (the menu, New post), while a question is
    open: the person moved on. Drop the form and let that command or button do its work — the
    next text they type (a caption) must not be taken for a token and deleted."""
    await context.update_queue.put(update)
    return _done(context)


async def give_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Something other than the asked kind of answer (a photo for a token, text for a button)."""
    await reply(update, texts.ACCOUNT_ANSWER_HINT, reply_markup=keyboards.account_cancel_keyboard(_form_id(context)))


async def button_of_another_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of an accounts question other than the open one."""
    await answer(update, texts.WRONG_STEP_BUTTON, alert=True)


def _buttons(*actions: str) -> str:
    return rf"^{ACC}:({'|'.join(actions)})(:|$)"


def account_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CommandHandler("accounts", list_accounts),
        CallbackQueryHandler(list_accounts, pattern=r"^(menu:accounts|acc:list)$"),
        CallbackQueryHandler(show_account, pattern=rf"^{ACC}:show:"),
        CallbackQueryHandler(refresh_account, pattern=rf"^{ACC}:refresh:"),
        CallbackQueryHandler(ask_remove, pattern=rf"^{ACC}:remove:"),
        CallbackQueryHandler(remove, pattern=rf"^{ACC}:remove_yes:"),
        CallbackQueryHandler(question_closed, pattern=_buttons(*QUESTION_BUTTONS)),
    ]


def build_account_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    """Adding an account, reconnecting one and renaming one: the questions and their answers."""
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CallbackQueryHandler(start_adding, pattern=rf"^{ACC}:add$"),
            CallbackQueryHandler(start_reconnect, pattern=rf"^{ACC}:reconnect:"),
            CallbackQueryHandler(start_rename, pattern=rf"^{ACC}:rename:"),
        ],
        states={
            PLATFORM: [CallbackQueryHandler(choose_platform, pattern=rf"^{ACC}:platform:")],
            FACEBOOK_TOKEN: [MessageHandler(text, facebook_token)],
            WEBHOOK_URL: [MessageHandler(text, webhook_url)],
            WEBHOOK_SECRET: [
                MessageHandler(text, webhook_secret),
                CallbackQueryHandler(same_secret, pattern=_buttons("same_secret")),
            ],
            WEBHOOK_TEST_FAILED: [
                CallbackQueryHandler(save_anyway, pattern=_buttons("save_anyway")),
                CallbackQueryHandler(try_another_url, pattern=_buttons("other_url")),
                # Another URL may simply be sent (and is deleted at once, like the first).
                MessageHandler(text, webhook_url),
            ],
            WEBHOOK_NAME: [
                MessageHandler(text, webhook_name),
                CallbackQueryHandler(webhook_host_as_name, pattern=_buttons("use_host")),
            ],
            FACEBOOK_GROUPS: [
                MessageHandler(text, facebook_group),
                CallbackQueryHandler(facebook_groups_done, pattern=rf"^{ACC}:groups_done$"),
            ],
            NEW_NAME: [MessageHandler(text, new_name)],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_adding),
            CallbackQueryHandler(cancel_adding, pattern=_buttons("cancel")),
            MessageHandler(filters.COMMAND, leave_for_command),
            CallbackQueryHandler(button_of_another_question, pattern=_buttons(*QUESTION_BUTTONS)),
            CallbackQueryHandler(leave_for_command),
            MessageHandler(~filters.StatusUpdate.ALL, give_hint),
        ],
        name="add_account",
        persistent=True,
        allow_reentry=True,
    )
