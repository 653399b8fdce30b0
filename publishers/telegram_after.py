"""What Telegram allows after publishing: which delivery options (pin, delete after a while) can
work in a chat, given the bot's rights there and Telegram's 48-hour rule, and what its refusals mean.

Telegram's rules (the Bot API's deleteMessage): pinning needs can_pin_messages in a group or
supergroup, can_edit_messages in a channel. A bot deletes its own messages for 48 hours — in a
channel only with can_post_messages; after 48 hours only with can_delete_messages in a supergroup or
a channel, and never in a basic group."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from telegram import ChatMember
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden, TelegramError

from i18n import N_
from storage.models import DeliveryOptions, FollowUpKind

# How long a bot may delete its own messages in a group without the right to delete any.
OWN_MESSAGE_DELETE_WINDOW = timedelta(hours=48)


class OptionProblem(StrEnum):
    """Why a chosen option cannot work in a chat (the preview and the delivery's note say it)."""

    NO_PIN_RIGHT = "no_pin_right"
    NO_DELETE_RIGHT = "no_delete_right"
    DELETE_TOO_LATE = "delete_too_late"

    @property
    def sentence(self) -> str:
        """The reason, as the owner's report says it."""
        return {
            OptionProblem.NO_PIN_RIGHT: N_("the bot may not pin messages there"),
            OptionProblem.NO_DELETE_RIGHT: N_("the bot may not delete messages there"),
            OptionProblem.DELETE_TOO_LATE: N_(
                "Telegram lets the bot delete its messages there only for 48 hours "
                "(longer only with the right to delete any message, in a supergroup or a channel)"
            ),
        }[self]


def _right(member: ChatMember, name: str) -> bool:
    if member.status == ChatMemberStatus.OWNER:
        return True
    return member.status == ChatMemberStatus.ADMINISTRATOR and bool(getattr(member, name, False))


def option_problems(chat_kind: str, bot_member: ChatMember, options: DeliveryOptions) -> list[OptionProblem]:
    """What of `options` cannot work in a chat of this kind ("channel", "group", "supergroup") with
    the bot's membership `bot_member` as it is now."""
    problems: list[OptionProblem] = []
    if options.pin and not _right(bot_member, "can_edit_messages" if chat_kind == "channel" else "can_pin_messages"):
        problems.append(OptionProblem.NO_PIN_RIGHT)
    if options.delete_after is None:
        return problems
    late = timedelta(seconds=options.delete_after) >= OWN_MESSAGE_DELETE_WINDOW
    if chat_kind == "group":
        # A basic group: 48 hours whatever the bot's rights.
        if late:
            problems.append(OptionProblem.DELETE_TOO_LATE)
    elif not _right(bot_member, "can_delete_messages"):
        if chat_kind == "channel" and not _right(bot_member, "can_post_messages"):
            problems.append(OptionProblem.NO_DELETE_RIGHT)
        elif late:
            problems.append(OptionProblem.DELETE_TOO_LATE)
    return problems


def follow_up_failure(error: TelegramError, kind: FollowUpKind, *, pinning: bool = False) -> str:
    """What Telegram's refusal to pin, unpin or delete means, as the owner's report says it."""
    text = error.message.lower()
    if isinstance(error, Forbidden):
        return N_("the bot is no longer in that chat")
    if isinstance(error, BadRequest):
        if "deleted for everyone" in text:
            return OptionProblem.DELETE_TOO_LATE.sentence
        if "can't be deleted" in text:
            return N_("the bot lost its delete right")
        if "rights" in text and "pin" in text:
            return OptionProblem.NO_PIN_RIGHT.sentence if pinning else N_("the bot lost its pin right")
        if "chat not found" in text:
            return N_("the chat no longer exists, or the bot cannot see it")
    # i18n: {said} is Telegram's own words.
    if pinning:
        refusal = N_("Telegram refused to pin it: {said}")
    elif kind is FollowUpKind.UNPIN:
        refusal = N_("Telegram refused to unpin it: {said}")
    else:
        refusal = N_("Telegram refused to delete it: {said}")
    return refusal.format(said=error.message)
