"""Settings: the user's time zone, found from what they type ("Berlin", "Europe/Berlin")."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers import keyboards, texts
from handlers.common import answer, reply, store_of, user_zone
from handlers.keyboards import TZ
from handlers.questions import Question
from handlers.screen import pressed, user_id
from handlers.when import find_zones, format_time
from storage.models import utc_now

ASK_ZONE = "ask_zone"


async def ask_timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Shows the current zone and asks for a new one."""
    await answer(update)
    zone = await user_zone(context, user_id(update))
    await reply(update, texts.ask_timezone(zone))
    return ASK_ZONE


async def _save_zone(update: Update, context: ContextTypes.DEFAULT_TYPE, zone: str) -> int:
    await store_of(context).set_timezone(user_id(update), zone)
    await reply(update, texts.timezone_set(zone, format_time(utc_now(), zone)))
    return ConversationHandler.END


async def typed_zone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Finds the zone the user named; asks again, or offers a choice when several match."""
    assert update.effective_message is not None and update.effective_message.text is not None
    zones = find_zones(update.effective_message.text)
    if not zones:
        await reply(update, texts.TIMEZONE_UNKNOWN)
        return ASK_ZONE
    if len(zones) == 1:
        return await _save_zone(update, context, zones[0])
    await reply(update, texts.TIMEZONE_PICK, reply_markup=keyboards.timezone_keyboard(zones))
    return ASK_ZONE


async def picked_zone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """One zone picked among several that matched."""
    zone = pressed(update).argument
    if find_zones(zone) != [zone]:
        await answer(update, texts.TIMEZONE_UNKNOWN, alert=True)
        return ASK_ZONE
    await answer(update)
    return await _save_zone(update, context, zone)


TIMEZONE = Question("timezone", ASK_ZONE, texts.CANCELLED)


def build_timezone_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    """/timezone or Settings → a zone typed, or picked among several that match."""
    return TIMEZONE.conversation(
        [CommandHandler("timezone", ask_timezone), CallbackQueryHandler(ask_timezone, pattern=r"^menu:settings$")],
        [
            MessageHandler(filters.TEXT & ~filters.COMMAND, typed_zone),
            CallbackQueryHandler(picked_zone, pattern=rf"^{TZ}:set:"),
        ],
    )
