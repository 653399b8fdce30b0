"""Editing and deleting a post the bot published in a Telegram chat, message by message.

A delivery keeps every message it made, in the order sent (an album's items, then a follow-up
text or buttons message). `plan_content` laid those out; laying the new content out the same way
pairs each old message with what it should show now, so an edit lands where its text is: a caption
on the album's first item, or the follow-up text message. The new layout must have the old one's
shape — a caption that no longer fits under the media, or buttons that would need a message the
post does not have, is refused before anything is sent. Each changed message gets the one method
that changes what changed: editMessageText, editMessageCaption, editMessageMedia, or
editMessageReplyMarkup (an edit of a text or caption always repeats the buttons, since Telegram
drops them otherwise)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    Bot,
    InputMediaAnimation,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from i18n import N_
from publishers.base import Outcome
from publishers.formatting import Formatted
from publishers.revision import Edit, Reviser
from publishers.telegram import retry_after_seconds
from publishers.telegram_layout import (
    BUTTONS_MESSAGE,
    CAPTION_LIMIT,
    PlannedMedia,
    PlannedMessage,
    plan_content,
    utf16_len,
)
from publishers.telegram_send import entities, keyboard, preview_options
from storage.models import Delivery, MediaKind, Post, Target

log = logging.getLogger(__name__)

# Telegram's refusals of an edit or a delete, in words for the owner (matched on its description).
REFUSALS = (
    ("message is not modified", "not_modified", N_("the message there already shows this")),
    ("message to edit not found", "not_found", N_("the message is no longer there (deleted in the chat?)")),
    ("message to delete not found", "not_found", N_("the message is no longer there")),
    ("message can't be deleted for everyone", "too_old", N_("Telegram lets a bot delete a message in a group only "
     "within 48 hours of sending it: delete it there by hand")),
    ("message can't be deleted", "no_right", N_("the bot has no right to delete messages there")),
    ("message can't be edited", "cannot_edit", N_("Telegram does not let the bot edit that message")),
    ("not enough rights", "no_right", N_("the bot has no right to edit messages there")),
    ("need administrator rights", "no_right", N_("the bot is no longer an administrator allowed to post there")),
    ("there is no caption in the message", "wrong_kind", N_("the message there has no caption to change")),
    ("there is no text in the message", "wrong_kind", N_("the message there has no text to change")),
    ("chat not found", "chat_gone", N_("the chat no longer exists, or the bot cannot see it")),
)  # fmt: skip


def refused(error: TelegramError) -> Outcome:
    """What Telegram's answer to an edit or a delete means, in words."""
    if isinstance(error, RetryAfter):
        seconds = round(retry_after_seconds(error))
        return Outcome.retryable(
            "429", N_("Telegram asked to slow down: try again in {seconds} s").format(seconds=seconds)
        )
    if isinstance(error, Forbidden):
        return Outcome.permanent("403", N_("the bot is no longer in that chat ({said})").format(said=error.message))
    # BadRequest is a NetworkError to python-telegram-bot: Telegram's refusals are read first.
    if isinstance(error, TimedOut | NetworkError) and not isinstance(error, BadRequest):
        message = N_("Telegram did not answer ({said}): it may not have changed").format(said=error.message)
        return Outcome.retryable("network", message)
    said = error.message.lower()
    for needle, code, words in REFUSALS:
        if needle in said:
            return Outcome.permanent(code, words)
    code = "400" if isinstance(error, BadRequest) else "telegram"
    return Outcome.permanent(code, N_("Telegram refused: {said}").format(said=error))


def _shape(plan: list[PlannedMessage]) -> list[tuple[bool, int, bool]]:
    """What a layout's messages are, as far as an edit must keep it: text or media, how many items,
    and whether it is the short message that only carries an album's buttons (never the text's place)."""
    return [
        (message.kind == "text", len(message.media), message.kind == "text" and message.text == BUTTONS_MESSAGE)
        for message in plan
    ]


def edit_layout(edit: Edit) -> list[tuple[PlannedMessage, PlannedMessage]] | str:
    """Each message the post went out as, paired with what it should show now; or why the new
    content cannot be shown in the messages the post has."""
    before = plan_content(edit.old)
    after = plan_content(edit.new)
    if _shape(after) != _shape(before):
        # The caption went out as a message of its own after the media: the new one goes there too.
        apart = plan_content(edit.new, caption_apart=True)
        if _shape(apart) == _shape(before):
            after = apart
    if _shape(after) == _shape(before):
        return list(zip(before, after, strict=True))
    return _why_not(edit, before, after)


def _why_not(edit: Edit, before: list[PlannedMessage], after: list[PlannedMessage]) -> str:
    def counts(plan: list[PlannedMessage]) -> tuple[int, int]:
        shape = _shape(plan)
        return sum(1 for text, _, only in shape if text and not only), sum(1 for *_, only in shape if only)

    (texts_before, buttons_before), (texts_after, buttons_after) = counts(before), counts(after)
    if edit.new.images and texts_before == 0 and texts_after > 0:
        length = utf16_len(edit.new.caption)
        return N_(
            "the new text is {length} characters and no longer fits as a caption "
            "({limit} at most, with the first item's own caption): shorten it"
        ).format(length=length, limit=CAPTION_LIMIT)
    if buttons_before != buttons_after:
        if buttons_after:
            return N_("buttons can't be added under an album that went out without them")
        return N_("the buttons of an album sit on a message of their own, which can't be taken away")
    if not edit.new.caption.strip() and texts_after < texts_before:
        return N_("the text went out as a message of its own, which can't be left empty")
    return N_("the new text needs {needed} text messages where the post has {present}").format(
        needed=texts_after, present=texts_before
    )


def _same(a: Formatted, b: Formatted) -> bool:
    return a.text == b.text and a.entity_list() == b.entity_list()


def _input_media(item: PlannedMedia, caption_above: bool) -> Any:
    """The new media item as editMessageMedia takes it: by the file_id Telegram gave it."""
    image = item.image
    source = image.telegram_file_id or ""
    caption: dict[str, Any] = {"caption": item.caption.text or None, "caption_entities": entities(item.caption)}
    visual: dict[str, Any] = {"has_spoiler": item.spoiler or None, "show_caption_above_media": caption_above or None}
    if image.kind is MediaKind.PHOTO:
        return InputMediaPhoto(source, **caption, **visual)
    if image.kind is MediaKind.VIDEO:
        return InputMediaVideo(source, **caption, **visual)
    if image.kind is MediaKind.ANIMATION:
        return InputMediaAnimation(source, **caption, **visual)
    if image.kind is MediaKind.AUDIO:
        return InputMediaAudio(source, **caption)
    return InputMediaDocument(source, **caption)


class TelegramReviser(Reviser):
    """Edits and deletes the messages a Telegram delivery made."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def edit_refusal(self, edit: Edit, target: Target, delivery: Delivery) -> str | None:
        layout = edit_layout(edit)
        if isinstance(layout, str):
            return layout
        replaced = [new for _, after in layout for new in after.media if not new.image.telegram_file_id]
        if replaced:
            return N_("the new media item is not on Telegram")
        return None

    async def edit(self, post: Post, target: Target, delivery: Delivery, edit: Edit) -> Outcome:
        layout = edit_layout(edit)
        if isinstance(layout, str):
            return Outcome.permanent("layout", layout)
        chat_id = int(target.address)
        ids = iter(delivery.message_ids or ([delivery.message_id] if delivery.message_id else []))
        changed = 0
        for number, (before, after) in enumerate(layout, start=1):
            message_ids = [next(ids, None) for _ in range(max(1, len(after.media)))]
            try:
                changed += await self._edit_message(chat_id, message_ids, before, after)
            except TelegramError as error:
                outcome = refused(error)
                log.info("telegram edit in %s: %s (%s)", chat_id, outcome.error_code, outcome.error_message)
                if not changed:
                    return outcome
                note = N_("part {number} of {count} could not be changed: {reason}").format(
                    number=number, count=len(layout), reason=outcome.error_message
                )
                return Outcome.sent(delivery.message_id, delivery.url, note=note)
        if not changed:
            return Outcome.permanent("not_modified", N_("nothing of what changed shows there"))
        return Outcome.sent(delivery.message_id, delivery.url)

    async def _edit_message(
        self, chat_id: int, message_ids: list[str | None], before: PlannedMessage, after: PlannedMessage
    ) -> int:
        """Changes one planned message (an album: each of its items) to `after`; how many Telegram
        messages it changed. Raises TelegramError."""
        markup = keyboard(after.buttons)
        if after.kind == "text":
            (message_id,) = message_ids
            if message_id is None:
                return 0
            if not _same(before.body, after.body) or before.link_preview != after.link_preview:
                await self.bot.edit_message_text(
                    after.body.text,
                    chat_id=chat_id,
                    message_id=int(message_id),
                    entities=entities(after.body),
                    link_preview_options=preview_options(after),
                    reply_markup=markup,
                )
                return 1
            if before.buttons != after.buttons:
                await self.bot.edit_message_reply_markup(chat_id, int(message_id), reply_markup=markup)
                return 1
            return 0
        single = after.kind != "album"
        changed = 0
        for message_id, old, new in zip(message_ids, before.media, after.media, strict=True):
            if message_id is None:
                break
            # An album carries no buttons; a single item carries the post's.
            buttons = markup if single else None
            if old.image.blob_id != new.image.blob_id or old.image.kind is not new.image.kind:
                await self.bot.edit_message_media(
                    _input_media(new, after.caption_above), chat_id=chat_id, message_id=int(message_id),
                    reply_markup=buttons,
                )  # fmt: skip
            elif not _same(old.caption, new.caption) or before.caption_above != after.caption_above:
                await self.bot.edit_message_caption(
                    chat_id,
                    int(message_id),
                    caption=new.caption.text,
                    caption_entities=entities(new.caption),
                    show_caption_above_media=after.caption_above or None,
                    reply_markup=buttons,
                )
            elif single and before.buttons != after.buttons:
                await self.bot.edit_message_reply_markup(chat_id, int(message_id), reply_markup=markup)
            else:
                continue
            changed += 1
        return changed

    async def delete(self, post: Post, target: Target, delivery: Delivery) -> Outcome:
        chat_id = int(target.address)
        ids = delivery.message_ids or ([delivery.message_id] if delivery.message_id else [])
        gone = 0
        deleted = 0
        for message_id in ids:
            try:
                await self.bot.delete_message(chat_id, int(message_id))
            except TelegramError as error:
                outcome = refused(error)
                if outcome.error_code == "not_found":
                    gone += 1
                    continue
                log.info("telegram delete in %s: %s (%s)", chat_id, outcome.error_code, outcome.error_message)
                if deleted:
                    words = N_("{deleted} of its {count} messages were deleted, then: {reason}").format(
                        deleted=deleted, count=len(ids), reason=outcome.error_message
                    )
                    return Outcome.permanent(outcome.error_code or "telegram", words)
                return outcome
            deleted += 1
        if not deleted and ids:
            return Outcome.sent(note=N_("it was no longer there"))
        note = (
            N_("{gone} of its {count} messages were already gone").format(gone=gone, count=len(ids)) if gone else None
        )
        return Outcome.sent(note=note)
