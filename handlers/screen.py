"""What every handler does with the chat: show a screen, read the pressed button and who pressed it,
and load the user's own post, poster or account — or answer that it is not theirs."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, LinkPreviewOptions, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

import i18n
from handlers import texts
from handlers.common import answer, find_account, reply, store_of
from handlers.keyboards import Callback, parse_callback
from publishers.telegram_layout import plan_content
from publishers.telegram_send import MediaSource, send_planned
from storage.models import Account, Content, Image, Post, Poster

# Screens are Herald's own words; a link in them (a published post's) is not worth a preview card.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def user_id(update: Update) -> int:
    """The Telegram id of the person the update came from."""
    assert update.effective_user is not None
    return update.effective_user.id


def answer_after_a_run(
    update: Update, context: ContextTypes.DEFAULT_TYPE, name: str, callback: Any, delay: float
) -> None:
    """Runs the job `callback` once, `delay` seconds after the last of a quick run of messages (an
    album, a forward of many, arrive as many): one answer to the run, not one a message. The job
    is found by its id `name` and replaced in O(1) (a lookup by name scans every job, posts' too).
    The job speaks the language of the person the run came from (it runs outside their update)."""
    assert context.job_queue is not None and update.effective_chat is not None
    language = i18n.current()

    async def in_their_language(job_context: ContextTypes.DEFAULT_TYPE) -> None:
        with i18n.speaking(language):
            await callback(job_context)

    context.job_queue.run_once(
        in_their_language,
        delay,
        name=name,
        chat_id=update.effective_chat.id,
        user_id=user_id(update),
        job_kwargs={"id": name, "replace_existing": True},
    )


def forget_answer(context: ContextTypes.DEFAULT_TYPE, name: str) -> None:
    """No answer to the run any more (the person has moved on to another question)."""
    assert context.job_queue is not None
    pending = context.job_queue.scheduler.get_job(name)
    if pending is not None:
        pending.remove()


def pressed(update: Update) -> Callback:
    """The pressed button's meaning; data of a shape Herald never makes reads as an empty action,
    which no handler takes for anything of the user's."""
    query = update.callback_query
    return parse_callback(query.data if query else None) or Callback("", "")


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None = None, *, in_place: bool = True) -> None:
    """The screen `text` (HTML) with its buttons: the pressed button's message edited into it when
    `in_place` and that message holds text, else a new message."""
    query = update.callback_query
    if in_place and query is not None and isinstance(query.message, Message) and query.message.text is not None:
        try:
            await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup, link_preview_options=NO_PREVIEW)
        except BadRequest as error:
            # A Refresh of a screen that did not change: Telegram refuses the no-op edit, and the
            # person already sees what they asked for.
            if "not modified" not in error.message.lower():
                raise
        return
    await reply(update, text, reply_markup=markup, link_preview_options=NO_PREVIEW)


async def own_post(update: Update, context: ContextTypes.DEFAULT_TYPE, post_id: str) -> Post | None:
    """The user's post `post_id`; None, with a "not yours" alert, if they have none by that id."""
    post = await store_of(context).get_post(user_id(update), post_id)
    if post is None:
        await answer(update, texts.NOT_YOURS, alert=True)
    return post


async def own_poster(update: Update, context: ContextTypes.DEFAULT_TYPE, poster_id: str) -> Poster | None:
    """The user's poster `poster_id`; None, with a "not yours" alert, if they have none by that id."""
    poster = await store_of(context).get_poster(user_id(update), poster_id)
    if poster is None:
        await answer(update, texts.NOT_YOURS, alert=True)
    return poster


async def own_account(
    update: Update, context: ContextTypes.DEFAULT_TYPE, account_id: str, *, for_a_post: bool = False
) -> Account | None:
    """The user's account `account_id` (the built-in Telegram one included, and with `for_a_post`
    the choice of all accounts at once); None, with a "not yours" alert, if there is none by that id."""
    account = await find_account(context, user_id(update), account_id, for_a_post=for_a_post)
    if account is None:
        await answer(update, texts.NOT_YOURS, alert=True)
    return account


async def send_content(update: Update, context: ContextTypes.DEFAULT_TYPE, content: Content) -> None:
    """The content exactly as a post with it will appear (a preview, a poster): sent the way the
    publisher sends it — media grouped as the Bot API allows, formatting, buttons, link preview."""
    chat = update.effective_chat
    assert chat is not None
    for planned in plan_content(content):
        if planned.kind == "text" and not planned.text:
            continue
        media = [await _media_source(context, item.image, planned.kind == "album") for item in planned.media]
        await send_planned(context.bot, chat.id, planned, media)


async def _media_source(context: ContextTypes.DEFAULT_TYPE, image: Image, in_album: bool) -> MediaSource:
    # Telegram's file id re-sends without an upload; the stored bytes serve when there is none.
    if image.telegram_file_id:
        return image.telegram_file_id
    data = await store_of(context).load_image(image.blob_id)
    return InputFile(data or b"", filename=image.name or None, attach=in_album)
