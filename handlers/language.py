"""Which language the bot speaks to each person: their /language choice, else their Telegram app's
language, else DEFAULT_LANGUAGE — set for every update before any handler runs, remembered in the
store for the reports the scheduler sends; and the command menu in each language Herald has."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from telegram import Bot, BotCommand, BotCommandScopeChat, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, TypeHandler

import i18n
from handlers import keyboards, texts
from handlers.common import answer, reply, services, store_of
from storage.base import Store
from storage.models import User

log = logging.getLogger(__name__)

LANGUAGE = "lang"
AUTOMATIC = "auto"
# bot_data: user id → (the language they chose, their app's language), as the store has them.
KNOWN_KEY = "herald.languages"

Known = dict[int, tuple[str | None, str | None]]


def _known(context: ContextTypes.DEFAULT_TYPE) -> Known:
    known = context.bot_data.setdefault(KNOWN_KEY, {})
    assert isinstance(known, dict)
    return known


async def speak_their_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs first for every update (group -3): the rest of its handling speaks the person's language.
    Their app's language is kept for later (reports) when it first shows or changes, from a
    private chat with someone allowed to use the bot."""
    person = update.effective_user
    if person is None or person.is_bot:
        i18n.use(i18n.default())
        return
    known = _known(context)
    if person.id not in known and not _may_keep(update, context):
        # Someone in a group, or not on the allow-list: no store read, no entry kept for them.
        i18n.use(i18n.pick(None, person.language_code))
        return
    if person.id not in known:
        try:
            user = await store_of(context).get_user(person.id)
        except Exception:  # the store is out of reach: speak the app's language, try again next time
            log.warning("could not read user %s's language; using their app's", person.id, exc_info=True)
            i18n.use(i18n.pick(None, person.language_code))
            return
        known[person.id] = (user.language, user.app_language) if user else (None, None)
    chosen, app = known[person.id]
    if person.language_code and person.language_code != app and _may_keep(update, context):
        try:
            await store_of(context).set_app_language(person.id, person.language_code)
            known[person.id] = (chosen, person.language_code)
        except Exception:  # not kept this time: a later update tries again
            log.warning("could not keep user %s's app language", person.id, exc_info=True)
    i18n.use(i18n.pick(chosen, person.language_code or app))


def _may_keep(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Only people the bot serves, seen in their private chat with it (not every group member)."""
    allowed = services(context).settings.allowed_user_ids
    person = update.effective_user
    chat = update.effective_chat
    private = chat is not None and chat.type == "private"
    return private and person is not None and (not allowed or person.id in allowed)


async def language_of(store: Store, user_id: int) -> str:
    """The language to write to `user_id` in when no update of theirs is at hand (reports)."""
    return language_for(await store.get_user(user_id))


def language_for(user: User | None) -> str:
    """The language of a user as the store has them (their choice, else their app's last seen)."""
    return i18n.pick(user.language, user.app_language) if user else i18n.default()


P = ParamSpec("P")
R = TypeVar("R")


def in_owners_language(
    store: Store, send: Callable[P, Awaitable[R]], owner_of: Callable[..., int] = lambda owner, *_rest: owner
) -> Callable[P, Awaitable[R]]:
    """`send` (a report, a "post it by hand" prompt) written in the language of the owner that
    `owner_of(*its arguments)` names; the scheduler has no update to take it from."""

    async def sending(*args: P.args, **kwargs: P.kwargs) -> R:
        with i18n.speaking(await language_of(store, owner_of(*args))):
            return await send(*args, **kwargs)

    return sending


# -- /language -----------------------------------------------------------------------------------
def _keyboard(chosen: str | None) -> InlineKeyboardMarkup:
    rows = [
        [keyboards.button(("✅ " if code == chosen else "") + i18n.native_name(code), LANGUAGE, "pick", code)]
        for code in i18n.available()
    ]
    automatic = i18n._("🌐 My Telegram app's language")
    rows.append([keyboards.button(("✅ " if chosen is None else "") + automatic, LANGUAGE, "pick", AUTOMATIC)])
    return InlineKeyboardMarkup(rows)


async def show_languages(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: the languages Herald speaks, the current choice ticked."""
    person = update.effective_user
    if person is None:
        return
    chosen, _app = _known(context).get(person.id, (None, None))
    current = i18n.native_name(i18n.current())
    await reply(update, texts.language_question(current), reply_markup=_keyboard(i18n.supported(chosen)))


async def pick_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language tapped: kept, spoken from this answer on, and the command menu in it."""
    query = update.callback_query
    person = update.effective_user
    pressed = keyboards.parse_callback(query.data if query else None)
    if query is None or person is None or pressed is None:
        return
    code = None if pressed.argument == AUTOMATIC else i18n.supported(pressed.argument)
    if pressed.argument != AUTOMATIC and code is None:  # a language since removed, or a forged button
        await answer(update, texts.LANGUAGE_UNKNOWN, alert=True)
        return
    user = await store_of(context).set_language(person.id, code)
    _known(context)[person.id] = (code, user.app_language or person.language_code)
    i18n.use(i18n.pick(code, person.language_code or user.app_language))
    await answer(update)
    await _menu_for_chat(context.bot, person.id, code)
    message = texts.language_chosen(i18n.native_name(i18n.current()), automatic=code is None)
    if query.message is not None:
        await query.edit_message_text(message, parse_mode="HTML")
    else:
        await reply(update, message)


async def _menu_for_chat(bot: Bot, chat_id: int, code: str | None) -> None:
    """The command menu of this person's chat in the language they chose (their app's: none of its own)."""
    scope = BotCommandScopeChat(chat_id)
    try:
        if code is None:
            await bot.delete_my_commands(scope=scope)
        else:
            with i18n.speaking(code):
                await bot.set_my_commands(_commands(), scope=scope)
    except TelegramError as error:  # the menu is a convenience: the choice itself is kept
        log.info("command menu of chat %s not changed: %s", chat_id, error)


def _commands() -> list[BotCommand]:
    return [BotCommand(command, description) for command, description in texts.COMMANDS]


async def set_command_menus(bot: Bot) -> None:
    """The command menu for everyone in the default language, and in each language with a two-letter
    code for people whose app speaks it (Telegram picks by the app's language)."""
    with i18n.speaking(i18n.default()):
        await bot.set_my_commands(_commands())
    for code in i18n.available():
        if len(code) == 2:
            with i18n.speaking(code):
                await bot.set_my_commands(_commands(), language_code=code)


def language_gate_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """Run before everything else, the allow-list included (group -3): its refusal is in their language."""
    return [TypeHandler(Update, speak_their_language)]


def language_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CommandHandler("language", show_languages),
        CallbackQueryHandler(pick_language, pattern=rf"^{LANGUAGE}:pick:"),
    ]
