"""The front door: /start and its menu, /help, the allow-list, stale buttons, and the error handler."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import keyboards, texts
from handlers.common import answer, reply, services
from handlers.keyboards import parse_callback

log = logging.getLogger(__name__)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What Herald does, and the menu."""
    await reply(update, texts.WELCOME, reply_markup=keyboards.main_menu())


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How Herald works, and its commands."""
    await reply(update, texts.HELP + "\n\n" + texts.HELP_TIMES + "\n\n" + texts.HELP_IMPORT)


async def nothing_to_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel outside any conversation."""
    await reply(update, texts.NOTHING_TO_CANCEL)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button no conversation is waiting for (old, finished, or forged)."""
    pressed = parse_callback(update.callback_query.data if update.callback_query else None)
    if pressed is None:
        log.warning("unrecognised callback data from user %s", update.effective_user and update.effective_user.id)
    await answer(update, texts.STALE_BUTTON, alert=True)


async def allow_listed_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stops updates from people outside ALLOWED_USER_IDS, with a polite word to them."""
    allowed = services(context).settings.allowed_user_ids
    user = update.effective_user
    if not allowed or update.my_chat_member is not None or user is None or user.id in allowed:
        return
    log.info("refused user %s (not in ALLOWED_USER_IDS)", user.id)
    refusal = texts.NOT_ALLOWED.format(user_id=user.id)
    if update.callback_query is not None:
        await answer(update, refusal, alert=True)
    elif update.effective_chat is not None and update.effective_chat.type == "private":
        await reply(update, html.escape(refusal))
    raise ApplicationHandlerStop


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the traceback and apologises in the chat; the conversation stays where it was."""
    log.error("unhandled error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await answer(update)
            await update.effective_chat.send_message(texts.SOMETHING_WENT_WRONG)
        except Exception:  # the apology itself failed (chat gone, network): the log has it all
            log.exception("could not tell the user about the error")


def gate_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """Run before everything else (group -1)."""
    return [TypeHandler(Update, allow_listed_only)]


def start_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CommandHandler("start", start),
        CommandHandler("help", show_help),
        CommandHandler("cancel", nothing_to_cancel),
    ]


async def unexpected_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message no conversation is waiting for: say what Herald can do."""
    await reply(update, texts.WHAT_NOW, reply_markup=keyboards.main_menu())


def last_resort_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """Catch what nothing else took, so every button press and private message is answered."""
    return [
        CallbackQueryHandler(stale_button),
        MessageHandler(filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL, unexpected_message),
    ]
