"""Posters (/posters): the user's saved content — list, view as it will look, delete after a confirm.

Posters are saved from the content step of New post (handlers/compose.py) and offered there."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, InputMediaPhoto, Message, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers import keyboards, texts
from handlers.common import answer, reply, store_of
from handlers.keyboards import POSTER, parse_callback
from publishers.telegram_layout import plan_messages
from storage.models import Image

CAPTION_PREVIEW = 200


def _pressed(update: Update) -> tuple[int, str]:
    pressed = parse_callback(update.callback_query.data if update.callback_query else None)
    assert pressed is not None and update.effective_user is not None
    return update.effective_user.id, pressed.argument


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit the pressed button's message in place, or send a new one if it holds no text."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message) and query.message.text is not None:
        try:
            await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                raise
        return
    await reply(update, text, reply_markup=markup)


async def _posters_screen(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    posters = await store_of(context).list_posters(user_id)
    if not posters:
        return texts.NO_POSTERS, None
    return texts.posters_list(len(posters)), keyboards.posters_keyboard(posters)


async def list_posters(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The user's posters, one button each."""
    await answer(update)
    assert update.effective_user is not None
    text, markup = await _posters_screen(context, update.effective_user.id)
    await reply(update, text, reply_markup=markup)


async def back_to_posters(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The list of posters again, in the same message."""
    await answer(update)
    assert update.effective_user is not None
    text, markup = await _posters_screen(context, update.effective_user.id)
    await _edit(update, text, markup)


async def _photo_input(context: ContextTypes.DEFAULT_TYPE, image: Image, caption: str) -> InputMediaPhoto:
    if image.telegram_file_id:
        return InputMediaPhoto(image.telegram_file_id, caption=caption or None)
    data = await store_of(context).load_image(image.blob_id)
    return InputMediaPhoto(data or b"", caption=caption or None)


async def send_content(update: Update, context: ContextTypes.DEFAULT_TYPE, caption: str, images: list[Image]) -> None:
    """The album and caption exactly as a post with this content will appear."""
    chat = update.effective_chat
    assert chat is not None
    for planned in plan_messages(caption, images):
        if planned.kind == "text":
            if planned.text:
                await chat.send_message(planned.text)
            continue
        media = [await _photo_input(context, image, text) for image, text in planned.photos]
        if planned.kind == "photo":
            await chat.send_photo(media[0].media, caption=media[0].caption)
        else:
            await chat.send_media_group(media)


async def show_poster(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One of the user's posters as it will look, then its name and a Delete button."""
    user_id, poster_id = _pressed(update)
    poster = await store_of(context).get_poster(user_id, poster_id)
    if poster is None:
        await answer(update, texts.NOT_YOURS, alert=True)
        return
    await answer(update)
    await send_content(update, context, poster.main_caption, poster.images)
    summary = texts.poster_summary(
        poster.name, len(poster.images), texts.caption_start(poster.main_caption, CAPTION_PREVIEW)
    )
    await reply(update, summary, reply_markup=keyboards.poster_keyboard(poster.poster_id))


async def ask_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Asks to confirm deleting a poster."""
    user_id, poster_id = _pressed(update)
    poster = await store_of(context).get_poster(user_id, poster_id)
    if poster is None:
        await answer(update, texts.NOT_YOURS, alert=True)
        return
    await answer(update)
    await _edit(update, texts.confirm_delete_poster(poster.name), keyboards.confirm_delete_poster_keyboard(poster_id))


async def confirm_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deletes the poster; posts made from it keep their images."""
    user_id, poster_id = _pressed(update)
    store = store_of(context)
    poster = await store.get_poster(user_id, poster_id)
    if poster is None or not await store.delete_poster(user_id, poster_id):
        await answer(update, texts.NOT_YOURS, alert=True)
        return
    await answer(update)
    await _edit(update, texts.poster_deleted(poster.name), keyboards.back_to_posters_keyboard())


async def keep_poster(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leaves the poster as it is."""
    user_id, poster_id = _pressed(update)
    poster = await store_of(context).get_poster(user_id, poster_id)
    if poster is None:
        await answer(update, texts.NOT_YOURS, alert=True)
        return
    await answer(update, texts.POSTER_KEPT)
    summary = texts.poster_summary(
        poster.name, len(poster.images), texts.caption_start(poster.main_caption, CAPTION_PREVIEW)
    )
    await _edit(update, summary, keyboards.poster_keyboard(poster.poster_id))


def poster_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CommandHandler("posters", list_posters),
        CallbackQueryHandler(list_posters, pattern=r"^menu:posters$"),
        CallbackQueryHandler(back_to_posters, pattern=rf"^{POSTER}:list$"),
        CallbackQueryHandler(show_poster, pattern=rf"^{POSTER}:show:"),
        CallbackQueryHandler(ask_delete, pattern=rf"^{POSTER}:delete:"),
        CallbackQueryHandler(confirm_delete, pattern=rf"^{POSTER}:delete_yes:"),
        CallbackQueryHandler(keep_poster, pattern=rf"^{POSTER}:keep:"),
    ]
