"""Questions the bot asks and then waits for: what every such conversation shares (/cancel leaves
it, another command leaves it and runs, an answer of the wrong kind gets a hint); the question of a
time that New post and Reschedule both ask (quick buttons or a typed time in the person's zone, a
reason when the time won't do, a button for a time moved past a DST gap); and the limits a caption
is held to, in New post and in Edit caption alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import Update
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
from handlers import keyboards, texts
from handlers.common import answer, reply, user_zone
from handlers.date_picker import typed_minutes
from handlers.screen import pressed, user_id
from handlers.when import TimeChoice, check_time, current_time, explain, local, parse_time, quick_time
from i18n import _
from publishers.telegram_layout import CAPTION_LIMIT, TEXT_LIMIT, utf16_len

AnyHandler = BaseHandler[Update, ContextTypes.DEFAULT_TYPE, Any]
# The pressed argument of the button that confirms a time shifted past a DST gap.
SHIFTED = "shifted"


@dataclass(frozen=True)
class Question:
    """One question and its answers, kept in a persistent ConversationHandler named `name`.

    What the question is about may live in user_data under `key` (JSON), so a restart loses
    nothing; it is dropped whenever the question is left. `left` is said on /cancel; `hint`, if
    any, when something of the wrong kind arrives (without one, whoever else takes it answers).
    Both are English texts (`texts.X` read when the module loads) said in the person's language
    when they are said."""

    name: str
    state: str
    left: str
    hint: str | None = None
    key: str | None = None

    def subject(self, context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any] | None:
        """What the open question is about, if it keeps anything."""
        found = (context.user_data or {}).get(self.key) if self.key else None
        return found if isinstance(found, dict) else None

    def ask_about(self, context: ContextTypes.DEFAULT_TYPE, subject: dict[str, Any]) -> None:
        """Remembers what the question is about until it is answered or left."""
        assert context.user_data is not None and self.key is not None
        context.user_data[self.key] = subject

    def forget(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self.key and context.user_data is not None:
            context.user_data.pop(self.key, None)

    async def leave(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """/cancel: nothing changes."""
        self.forget(context)
        await reply(update, _(self.left))
        return ConversationHandler.END

    async def leave_for_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Another command, or another screen's button, while the question is open: drop the
        question and let that command or button run."""
        self.forget(context)
        await context.update_queue.put(update)
        return ConversationHandler.END

    async def give_hint(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Something other than the asked kind of answer."""
        await reply(update, _(self.hint) if self.hint else "")

    def conversation(
        self, entry_points: list[AnyHandler], answers: list[AnyHandler]
    ) -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
        """`entry_points` ask the question; one of `answers` ends it, or /cancel, or another command."""
        fallbacks: list[AnyHandler] = [
            CommandHandler("cancel", self.leave),
            MessageHandler(filters.COMMAND, self.leave_for_command),
            # A button of another screen (the menu, another post): the person moved on, and the
            # next text they type belongs there, not to this question.
            CallbackQueryHandler(self.leave_for_command),
        ]
        if self.hint:
            fallbacks.append(MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL, self.give_hint))
        return ConversationHandler(
            entry_points=entry_points,
            states={self.state: answers},
            fallbacks=fallbacks,
            name=self.name,
            persistent=True,
            allow_reentry=True,
        )


# -- the question of a time -----------------------------------------------------------------------
async def typed_time(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[TimeChoice, str]:
    """(the time typed, read in the person's zone; that zone)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    zone = await user_zone(context, user_id(update))
    now = current_time()
    # Minutes typed while the calendar's minute grid is open are minutes of the hour picked there.
    picked = typed_minutes(context, message.text, zone, now)
    return (picked if picked is not None else parse_time(message.text, zone, now)), zone


async def pressed_time(
    update: Update, context: ContextTypes.DEFAULT_TYPE, suggested: datetime | None
) -> tuple[TimeChoice, str] | None:
    """(the time of the quick button pressed — or the `suggested` time past a DST gap, when its
    Yes was pressed; the person's zone), the press answered. None, after an alert, for a Yes whose
    suggestion is gone (already taken, or another time typed since)."""
    argument = pressed(update).argument
    if argument == SHIFTED and suggested is None:
        await answer(update, texts.WRONG_STEP_BUTTON, alert=True)
        return None
    await answer(update)
    zone = await user_zone(context, user_id(update))
    now = current_time()
    if suggested is not None and argument == SHIFTED:
        return check_time(suggested, now), zone
    return quick_time(argument, zone, now), zone


async def refuse_time(update: Update, choice: TimeChoice, zone: str, screen: str, action: str) -> datetime | None:
    """Says why the chosen time won't do. For a time the clocks skip, a button (`screen:action`)
    offers the shifted one, which is returned to keep until that button is pressed."""
    suggestion = choice.suggestion if choice.problem == "dst_gap" else None
    markup = None
    if suggestion is not None:
        label = texts.confirm_shifted_time(i18n.clock(local(suggestion, zone)))
        markup = keyboards.shifted_time_keyboard(label, screen, action, SHIFTED)
    await reply(update, explain(choice, zone, current_time()), reply_markup=markup)
    return suggestion


# -- the question of a caption --------------------------------------------------------------------
async def caption_fits(update: Update, caption: str, with_images: bool) -> bool:
    """True if `caption` can go out — with a word when it is too long to sit under the photos and
    will follow them as a text message; False, after saying why, if it is longer than any message."""
    length = utf16_len(caption)
    if length > TEXT_LIMIT:
        await reply(update, texts.text_too_long(length))
        return False
    if with_images and length > CAPTION_LIMIT:
        await reply(update, texts.caption_over_photo_limit(length))
    return True
