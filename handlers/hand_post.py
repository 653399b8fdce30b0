"""Facebook groups, posted by hand, in the chat: the message that asks the owner to post now (with
its Open group and I posted it buttons), and what pressing I posted it does."""

from __future__ import annotations

from telegram import Bot, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from handlers import keyboards, screen, texts
from handlers.common import answer, reply, services, store_of
from handlers.keyboards import POST
from publishers.facebook_groups import group_url
from services import PostEvent
from storage.models import Post, Target, utc_now


async def send_prompt(bot: Bot, post: Post, target: Target) -> int:
    """Asks the owner to post `post` in the group `target` now (the photos and the caption went
    just before); the id of the message with the buttons. The publisher's `HandPostPrompt`,
    once bot.py has bound the bot."""
    prompt = await bot.send_message(
        post.user_id,
        texts.hand_post(post.short_id, target.name),
        parse_mode="HTML",
        reply_markup=keyboards.hand_post_keyboard(group_url(target), post.post_id, target.target_id),
    )
    return prompt.message_id


async def posted_by_hand(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Marks a hand-posted Facebook group delivery as sent; reports the post if that finished it."""
    post_id, _, target_id = screen.pressed(update).argument.partition("/")
    post = await store_of(context).confirm_delivery(screen.user_id(update), post_id, target_id, utc_now())
    if post is None:
        await answer(update, texts.HAND_POST_NOT_WAITING, alert=True)
        return
    await answer(update)
    query = update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(None)
    await reply(update, texts.hand_posted(post.target_name(target_id)))
    if post.status.is_final:
        await services(context).post_changed(PostEvent.FINISHED, post)


def hand_post_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [CallbackQueryHandler(posted_by_hand, pattern=rf"^{POST}:posted:")]
