"""Posters (/posters): the user's saved content — list, view as it will look, delete after a confirm.

Posters are saved from the content step of New post (handlers/compose.py) and offered there."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers import keyboards, texts
from handlers.common import answer, store_of
from handlers.keyboards import POSTER
from handlers.screen import own_poster, pressed, send_content, show, user_id
from storage.models import Poster

CAPTION_PREVIEW = 200


async def _posters_screen(context: ContextTypes.DEFAULT_TYPE, user: int) -> tuple[str, InlineKeyboardMarkup | None]:
    posters = await store_of(context).list_posters(user)
    if not posters:
        return texts.NO_POSTERS, None
    return texts.posters_list(len(posters)), keyboards.posters_keyboard(posters)


def _summary(poster: Poster) -> str:
    return texts.poster_summary(
        poster.name, len(poster.images), texts.caption_start(poster.main_caption, CAPTION_PREVIEW)
    )


async def list_posters(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The user's posters, one button each."""
    await answer(update)
    text, markup = await _posters_screen(context, user_id(update))
    await show(update, text, markup, in_place=False)


async def back_to_posters(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The list of posters again, in the same message."""
    await answer(update)
    text, markup = await _posters_screen(context, user_id(update))
    await show(update, text, markup)


async def show_poster(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One of the user's posters as it will look, then its name and a Delete button."""
    poster = await own_poster(update, context, pressed(update).argument)
    if poster is None:
        return
    await answer(update)
    await send_content(update, context, poster.content)
    await show(update, _summary(poster), keyboards.poster_keyboard(poster.poster_id), in_place=False)


async def ask_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Asks to confirm deleting a poster."""
    poster = await own_poster(update, context, pressed(update).argument)
    if poster is None:
        return
    await answer(update)
    markup = keyboards.confirm_delete_poster_keyboard(poster.poster_id)
    await show(update, texts.confirm_delete_poster(poster.name), markup)


async def confirm_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deletes the poster; posts made from it keep their images."""
    poster = await own_poster(update, context, pressed(update).argument)
    if poster is None:
        return
    if not await store_of(context).delete_poster(poster.user_id, poster.poster_id):
        await answer(update, texts.NOT_YOURS, alert=True)
        return
    await answer(update)
    await show(update, texts.poster_deleted(poster.name), keyboards.back_to_posters_keyboard())


async def keep_poster(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leaves the poster as it is."""
    poster = await own_poster(update, context, pressed(update).argument)
    if poster is None:
        return
    await answer(update, texts.POSTER_KEPT)
    await show(update, _summary(poster), keyboards.poster_keyboard(poster.poster_id))


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
