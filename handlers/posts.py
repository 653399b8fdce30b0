"""Actions on one scheduled post from any message that shows it: Cancel, with a confirm step."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from handlers import keyboards, texts
from handlers.common import answer, services, store_of
from handlers.keyboards import POST, parse_callback


def _pressed(update: Update) -> tuple[int, str]:
    pressed = parse_callback(update.callback_query.data if update.callback_query else None)
    assert pressed is not None and update.effective_user is not None
    return update.effective_user.id, pressed.argument


async def ask_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Asks to confirm cancelling a post (only the owner's, only while scheduled)."""
    user_id, post_id = _pressed(update)
    post = await store_of(context).get_post(user_id, post_id)
    if post is None:
        await answer(update, texts.NOT_YOURS, alert=True)
        return
    await answer(update)
    query = update.callback_query
    assert query is not None
    if post.status.value != "scheduled":
        await query.edit_message_reply_markup(None)
        await query.message.reply_text(texts.cannot_cancel(post.short_id, post.status.value))  # type: ignore[union-attr]
        return
    await query.edit_message_reply_markup(keyboards.confirm_cancel_keyboard(post.post_id))


async def confirm_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cancels the post for good, if it has not started publishing."""
    user_id, post_id = _pressed(update)
    store = store_of(context)
    cancelled = await store.cancel_post(user_id, post_id)
    query = update.callback_query
    assert query is not None
    if cancelled is None:
        post = await store.get_post(user_id, post_id)
        if post is None:
            await answer(update, texts.NOT_YOURS, alert=True)
            return
        await answer(update, texts.cannot_cancel(post.short_id, post.status.value), alert=True)
        await query.edit_message_reply_markup(None)
        return
    await answer(update)
    for hook in services(context).on_post_cancelled:
        await hook(cancelled)
    await query.edit_message_reply_markup(None)
    await query.message.reply_text(texts.post_cancelled(cancelled.short_id))  # type: ignore[union-attr]


async def keep_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leaves the post scheduled and puts the Cancel button back."""
    user_id, post_id = _pressed(update)
    post = await store_of(context).get_post(user_id, post_id)
    if post is None:
        await answer(update, texts.NOT_YOURS, alert=True)
        return
    await answer(update, texts.POST_KEPT)
    query = update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(keyboards.scheduled_keyboard(post.post_id))


def post_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CallbackQueryHandler(ask_cancel, pattern=rf"^{POST}:cancel:"),
        CallbackQueryHandler(confirm_cancel, pattern=rf"^{POST}:cancel_yes:"),
        CallbackQueryHandler(keep_post, pattern=rf"^{POST}:keep:"),
    ]
