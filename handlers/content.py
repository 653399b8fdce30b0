"""A post's content as a person gives it in the chat, read the way Herald keeps it: the media item a
message carries (its kind, file, name), a text with its formatting, the link preview choices, and
which of the post's options the preview offers."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Animation, Audio, Document, Message, PhotoSize, Video

from publishers.formatting import Formatted, formatted, has_type
from publishers.telegram_layout import BUTTONS_MESSAGE, CAPTION_ABOVE_KINDS, plan_content
from storage.models import Content, LinkPreview, MediaKind

MB = 1024 * 1024
MediaFile = PhotoSize | Video | Animation | Document | Audio

# The ways a post's link preview can show, by the code its button carries.
LINK_PREVIEWS: dict[str, LinkPreview] = {
    "on": LinkPreview(),
    "above": LinkPreview(above_text=True),
    "large": LinkPreview(large_media=True),
    "above_large": LinkPreview(above_text=True, large_media=True),
    "off": LinkPreview(show=False),
}


@dataclass(frozen=True)
class ReceivedMedia:
    """The media item of a message a person sent, with what Herald names and types it."""

    kind: MediaKind
    file: MediaFile
    name: str
    mime_type: str


def received_media(message: Message, number: int) -> ReceivedMedia | None:
    """The photo, GIF, video, audio file or document `message` carries (the `number`th of the
    post, for a name when it has none); None for anything else (a sticker, a voice message)."""
    if message.photo:
        return ReceivedMedia(MediaKind.PHOTO, message.photo[-1], f"photo-{number}.jpg", "image/jpeg")
    # A GIF arrives as an animation and as a document too: the animation says what it is.
    if message.animation is not None:
        gif = message.animation
        return ReceivedMedia(
            MediaKind.ANIMATION, gif, gif.file_name or f"gif-{number}.mp4", gif.mime_type or "video/mp4"
        )
    if message.video is not None:
        video = message.video
        return ReceivedMedia(
            MediaKind.VIDEO, video, video.file_name or f"video-{number}.mp4", video.mime_type or "video/mp4"
        )
    if message.audio is not None:
        audio = message.audio
        name = audio.file_name or f"audio-{number}.mp3"
        return ReceivedMedia(MediaKind.AUDIO, audio, name, audio.mime_type or "audio/mpeg")
    if message.document is not None:
        document = message.document
        name = document.file_name or f"file-{number}"
        return ReceivedMedia(MediaKind.DOCUMENT, document, name, document.mime_type or "application/octet-stream")
    return None


def typed_text(message: Message) -> Formatted:
    """The text of a message with the formatting the person gave it (Telegram's own detections —
    links, mentions, hashtags — left to Telegram), without whitespace at its ends."""
    return formatted(message.text or "", [entity.to_dict() for entity in message.entities or ()]).strip()


def link_preview_code(preview: LinkPreview) -> str:
    """The code of the choice `preview` is (see LINK_PREVIEWS)."""
    if not preview.show:
        return "off"
    return next((code for code, choice in LINK_PREVIEWS.items() if choice == preview), "on")


@dataclass(frozen=True)
class ShownOptions:
    """Which options of a post's content mean something for it, as it will go out."""

    # The link preview's choice, when the post has a text that can show one; else None.
    link_preview: str | None
    # Whether a photo, video or GIF carries a caption (that can show above it); None if none does.
    caption_place: bool | None
    # The buttons go on a message of their own, after an album.
    buttons_apart: bool
    custom_emoji: bool


def shown_options(content: Content) -> ShownOptions:
    plan = plan_content(content)
    texts = [message for message in plan if message.kind == "text" and message.text != BUTTONS_MESSAGE]
    captioned = [
        item
        for message in plan
        for item in message.media
        if item.image.kind in CAPTION_ABOVE_KINDS and item.caption.text
    ]
    formatted_parts = [message.body for message in plan] + [item.caption for m in plan for item in m.media]
    return ShownOptions(
        link_preview=link_preview_code(content.link_preview) if texts and any(t.text for t in texts) else None,
        caption_place=bool(captioned) if captioned else None,
        buttons_apart=any(message.kind == "text" and message.text == BUTTONS_MESSAGE for message in plan),
        custom_emoji=any(has_type(part, "custom_emoji") for part in formatted_parts),
    )
