"""Actions on one scheduled post from any message that shows it: Cancel, with a confirm step."""

from __future__ import annotations

import html

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from handlers import keyboards, texts
from handlers.common import answer, reply, services, store_of, user_zone
from handlers.keyboards import POST, parse_callback
from handlers.when import format_time
from storage.models import DeliveryStatus, PostStatus, utc_now


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


async def show_details(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every target of one of the user's posts with what became of it."""
    user_id, post_id = _pressed(update)
    post = await store_of(context).get_post(user_id, post_id)
    if post is None:
        await answer(update, texts.NOT_YOURS, alert=True)
        return
    await answer(update)
    zone = await user_zone(context, user_id)
    names = dict(zip(post.group_ids, post.groups, strict=False))
    lines = [
        f"{texts.POST_BADGES.get(post.status.value, '')} <b>Post #{post.short_id}</b> — {post.status.value}",
        f"🕒 {html.escape(format_time(post.scheduled_time, zone))}",
    ]
    if post.published_at:
        lines.append(f"📤 finished {html.escape(format_time(post.published_at, zone))}")
    caption = post.main_caption.strip()
    if caption:
        lines.append("📝 " + html.escape(caption[:200] + ("…" if len(caption) > 200 else "")))
    lines.append(f"🖼 {len(post.images)} image(s)" if post.images else "🖼 text only")
    lines.append("")
    for target_id in post.group_ids:
        delivery = post.deliveries.get(target_id)
        status = delivery.status.value if delivery else "pending"
        line = f"{texts.DELIVERY_BADGES.get(status, '')} {html.escape(names.get(target_id, target_id))}: {status}"
        if delivery and delivery.url:
            line += f' — <a href="{html.escape(delivery.url, quote=True)}">open</a>'
        if delivery and delivery.error_message and status != "sent":
            line += f" — {html.escape(delivery.error_message)}"
        lines.append(line)
    await reply(update, "\n".join(lines), disable_web_page_preview=True)


async def ask_retry(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Asks to confirm sending again to the failed targets, warning about unconfirmed ones."""
    user_id, post_id = _pressed(update)
    post = await store_of(context).get_post(user_id, post_id)
    if post is None:
        await answer(update, texts.NOT_YOURS, alert=True)
        return
    if post.status not in (PostStatus.FAILED, PostStatus.PARTIAL):
        await answer(update, texts.cannot_retry(post.short_id, post.status.value), alert=True)
        return
    await answer(update)
    statuses = [d.status for d in post.deliveries.values()]
    unconfirmed = statuses.count(DeliveryStatus.UNCONFIRMED)
    failed = statuses.count(DeliveryStatus.FAILED) + statuses.count(DeliveryStatus.MISSED)
    await reply(
        update,
        texts.confirm_retry(post.short_id, failed, unconfirmed),
        reply_markup=keyboards.confirm_retry_keyboard(post.post_id),
    )


async def confirm_retry(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Schedules the post again, now, for its failed and unconfirmed targets only."""
    user_id, post_id = _pressed(update)
    store = store_of(context)
    retried = await store.retry_failed(user_id, post_id, utc_now())
    query = update.callback_query
    assert query is not None
    if retried is None:
        post = await store.get_post(user_id, post_id)
        refusal = texts.NOT_YOURS if post is None else texts.cannot_retry(post.short_id, post.status.value)
        await answer(update, refusal, alert=True)
        return
    await answer(update)
    for hook in services(context).on_post_scheduled:
        await hook(retried)
    pending = sum(1 for d in retried.deliveries.values() if d.status is DeliveryStatus.PENDING)
    await query.edit_message_text(texts.retry_scheduled(retried.short_id, pending))


async def keep_result(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leaves a finished post as it is."""
    await answer(update)
    query = update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(None)


def post_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CallbackQueryHandler(ask_cancel, pattern=rf"^{POST}:cancel:"),
        CallbackQueryHandler(confirm_cancel, pattern=rf"^{POST}:cancel_yes:"),
        CallbackQueryHandler(keep_post, pattern=rf"^{POST}:keep:"),
        CallbackQueryHandler(show_details, pattern=rf"^{POST}:details:"),
        CallbackQueryHandler(ask_retry, pattern=rf"^{POST}:retry:"),
        CallbackQueryHandler(confirm_retry, pattern=rf"^{POST}:retry_yes:"),
        CallbackQueryHandler(keep_result, pattern=rf"^{POST}:keep_result:"),
    ]
