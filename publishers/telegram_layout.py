"""How a post's content is laid out in Telegram messages; the preview and the publisher share it."""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.models import Image

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096


@dataclass
class PlannedMessage:
    """One message to send: a text, a single photo, or an album of 2–10 photos."""

    kind: str  # "text", "photo" or "album"
    text: str = ""
    photos: list[tuple[Image, str]] = field(default_factory=list)


def plan_messages(main_caption: str, images: list[Image]) -> list[PlannedMessage]:
    """The messages that show this content: the album carries the captions when they fit,
    and a main caption too long for a photo caption follows the album as a text message."""
    main_caption = main_caption.strip()
    if not images:
        return [PlannedMessage(kind="text", text=main_caption)]
    captions = [image.caption.strip() for image in images]
    combined_first = "\n\n".join(part for part in (main_caption, captions[0]) if part)
    follow_up: list[PlannedMessage] = []
    if len(combined_first) <= CAPTION_LIMIT:
        captions[0] = combined_first
    elif main_caption:
        follow_up = [PlannedMessage(kind="text", text=main_caption)]
    captions = [caption[:CAPTION_LIMIT] for caption in captions]
    kind = "photo" if len(images) == 1 else "album"
    return [PlannedMessage(kind=kind, photos=list(zip(images, captions, strict=True))), *follow_up]
