"""How a post's content is laid out in Telegram messages; the preview and the publisher share it.

Telegram counts its limits in UTF-16 code units, not in characters: an emoji outside the Basic
Multilingual Plane (😀, 🎉, most of them) counts 2. Every limit check and every cut uses the
helpers below, so nothing that fits here is refused by Telegram later."""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.models import Image

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
# The largest file a bot may download from Telegram (getFile), in MB.
DOWNLOAD_LIMIT_MB = 20


def utf16_len(text: str) -> int:
    """How long `text` is as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def utf16_cut(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` UTF-16 units; a character is never halved."""
    if len(text) * 2 <= limit or utf16_len(text) <= limit:
        return text
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` UTF-16 units, cut at a line break or a space when one is
    near the end of a piece, and never inside a character."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        piece = utf16_cut(rest, limit) or rest[0]
        # A line break, else a space, in the last quarter keeps lines and words whole without
        # wasting much room.
        floor = len(piece) * 3 // 4
        cut = piece.rfind("\n", floor)
        if cut <= 0:
            cut = piece.rfind(" ", floor)
        if cut > 0:
            piece = piece[:cut]
        pieces.append(piece.rstrip())
        rest = rest[len(piece) :].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


@dataclass
class PlannedMessage:
    """One message to send: a text, a single photo, or an album of 2–10 photos."""

    kind: str  # "text", "photo" or "album"
    text: str = ""
    photos: list[tuple[Image, str]] = field(default_factory=list)


def plan_messages(main_caption: str, images: list[Image]) -> list[PlannedMessage]:
    """The messages that show this content: the album carries the captions when they fit,
    and a main caption too long for a photo caption follows the album as a text message.

    A text longer than one message (only content saved before limits were counted as Telegram
    counts them can be) goes out in several messages rather than being refused."""
    main_caption = main_caption.strip()
    if not images:
        return [PlannedMessage(kind="text", text=piece) for piece in split_text(main_caption)]
    captions = [image.caption.strip() for image in images]
    combined_first = "\n\n".join(part for part in (main_caption, captions[0]) if part)
    follow_up: list[PlannedMessage] = []
    if utf16_len(combined_first) <= CAPTION_LIMIT:
        captions[0] = combined_first
    elif main_caption:
        follow_up = [PlannedMessage(kind="text", text=piece) for piece in split_text(main_caption)]
    captions = [utf16_cut(caption, CAPTION_LIMIT) for caption in captions]
    kind = "photo" if len(images) == 1 else "album"
    return [PlannedMessage(kind=kind, photos=list(zip(images, captions, strict=True))), *follow_up]
