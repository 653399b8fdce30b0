"""One planned message sent with python-telegram-bot: the method for its kind (sendMessage,
sendPhoto, sendVideo, sendAnimation, sendDocument, sendAudio, sendMediaGroup), the entities exactly
as typed (never a parse mode), spoilers, the caption's place, the buttons and the link preview.

The publisher sends this way to channels and the preview sends the same way to the owner's chat,
so the preview shows what the channel will get."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import (
    Bot,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    LinkPreviewOptions,
    Message,
    MessageEntity,
)

from publishers.formatting import Formatted
from publishers.telegram_layout import PlannedMedia, PlannedMessage, link_preview_json
from storage.models import Button, MediaKind

# What a media item is sent from: a file_id Telegram has, or an upload.
MediaSource = str | InputFile


def entities(text: Formatted) -> list[MessageEntity] | None:
    """The text's entities as python-telegram-bot's (None without any)."""
    return [MessageEntity.de_json(entity, None) for entity in text.entity_list()] or None


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """The buttons as an inline keyboard (None without any)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(button.label, url=button.url)
                if button.url
                else InlineKeyboardButton(button.label, copy_text=CopyTextButton(button.copy_text or ""))
                for button in row
            ]
            for row in rows
        ]
    )


def preview_options(planned: PlannedMessage) -> LinkPreviewOptions | None:
    """The link preview options of a text message (None: Telegram's default)."""
    options = link_preview_json(planned.link_preview)
    return LinkPreviewOptions(**options) if options is not None else None  # type: ignore[arg-type]


def upload(file: Any, name: str, *, in_album: bool) -> InputFile:
    """An upload read from an open file as it is sent (never whole in memory)."""
    return InputFile(file, filename=name or None, attach=in_album, read_file_handle=False)


async def send_planned(
    bot: Bot, chat_id: int, planned: PlannedMessage, media: Sequence[MediaSource] = (), **extra: Any
) -> list[Message]:
    """Sends one planned message (`media`: a source for each of its media items); the messages
    Telegram made of it. `extra` goes to the request as it is (rate-limit arguments)."""
    markup = keyboard(planned.buttons)
    if planned.kind == "text":
        message = await bot.send_message(
            chat_id,
            planned.body.text,
            entities=entities(planned.body),
            link_preview_options=preview_options(planned),
            reply_markup=markup,
            **extra,
        )
        return [message]
    if planned.kind == "album":
        album = [
            _input_media(item, source, planned.caption_above) for item, source in zip(planned.media, media, strict=True)
        ]
        return list(await bot.send_media_group(chat_id, album, **extra))
    item, source = planned.media[0], media[0]
    caption: dict[str, Any] = {
        "caption": item.caption.text or None,
        "caption_entities": entities(item.caption),
        "reply_markup": markup,
        **extra,
    }
    kind = item.image.kind
    if kind is MediaKind.PHOTO:
        sent = await bot.send_photo(chat_id, source, **_visual(item, planned.caption_above), **caption)
    elif kind is MediaKind.VIDEO:
        sent = await bot.send_video(chat_id, source, **_visual(item, planned.caption_above), **caption)
    elif kind is MediaKind.ANIMATION:
        sent = await bot.send_animation(chat_id, source, **_visual(item, planned.caption_above), **caption)
    elif kind is MediaKind.AUDIO:
        sent = await bot.send_audio(chat_id, source, **caption)
    else:
        sent = await bot.send_document(chat_id, source, **caption)
    return [sent]


def _visual(item: PlannedMedia, caption_above: bool) -> dict[str, Any]:
    """A photo's, video's or GIF's spoiler and caption place; left out when off, as Telegram's default."""
    return {"has_spoiler": item.spoiler or None, "show_caption_above_media": caption_above or None}


def _input_media(item: PlannedMedia, source: MediaSource, caption_above: bool) -> Any:
    caption = item.caption.text or None
    kind = item.image.kind
    if kind is MediaKind.PHOTO:
        return InputMediaPhoto(
            source,
            caption=caption,
            caption_entities=entities(item.caption),
            **_visual(item, caption_above),
        )
    if kind is MediaKind.VIDEO:
        return InputMediaVideo(
            source,
            caption=caption,
            caption_entities=entities(item.caption),
            **_visual(item, caption_above),
        )
    if kind is MediaKind.AUDIO:
        return InputMediaAudio(source, caption=caption, caption_entities=entities(item.caption))
    return InputMediaDocument(source, caption=caption, caption_entities=entities(item.caption))


def file_id_of(message: Message) -> str | None:
    """The file_id of the media a message carries (the largest size of a photo), to send it again
    without uploading."""
    if message.photo:
        return message.photo[-1].file_id
    for media in (message.animation, message.video, message.audio, message.document):
        if media is not None:
            return media.file_id
    return None
