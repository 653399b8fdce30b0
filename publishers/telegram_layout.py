"""How a post's content is laid out in Telegram messages; the preview and the publisher share it.

Telegram counts its limits in UTF-16 code units, not in characters: an emoji outside the Basic
Multilingual Plane (😀, 🎉, most of them) counts 2. Every limit check and every cut uses the
helpers below, so nothing that fits here is refused by Telegram later.

Media go out as the Bot API allows: photos and videos together in albums of 2–10, documents only
with documents, audio only with audio, a GIF (animation) always alone; in the order they were
given, a new message whenever the kind no longer groups. The main caption rides on the first
message (with that item's own caption) when it fits, else it follows the media as text messages,
its formatting kept. Buttons go under the last message — or, since an album cannot carry them,
on a short message of their own after it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config import DOWNLOAD_LIMIT_MB as DOWNLOAD_LIMIT_MB
from config import LOCAL_FILE_LIMIT_MB as LOCAL_FILE_LIMIT_MB
from publishers.formatting import Formatted, formatted, join, split
from publishers.formatting import utf16_len as utf16_len
from storage.models import Button, Content, Entity, Image, LinkPreview, MediaKind

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
ALBUM_LIMIT = 10
# The largest file a bot may upload to Telegram's cloud, in MB (downloads: config.DOWNLOAD_LIMIT_MB;
# a local Bot API server takes config.LOCAL_FILE_LIMIT_MB both ways).
UPLOAD_LIMIT_MB = 50
# Buttons: Telegram takes at most 100 under a message; more than 8 in a row no client shows well.
BUTTONS_LIMIT = 100
BUTTONS_PER_ROW_LIMIT = 8
BUTTON_LABEL_LIMIT = 64
COPY_TEXT_LIMIT = 256
# The text of the message that carries the buttons of an album (Telegram refuses an empty one).
BUTTONS_MESSAGE = "👆"
# Kinds that may share an album; the others (document, audio) only with their own kind.
_VISUAL = frozenset({MediaKind.PHOTO, MediaKind.VIDEO})
# Kinds whose caption may be shown above them, and that may hide under a spoiler.
CAPTION_ABOVE_KINDS = frozenset({MediaKind.PHOTO, MediaKind.VIDEO, MediaKind.ANIMATION})
SPOILER_KINDS = CAPTION_ABOVE_KINDS


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
    return [piece.text for piece in split(Formatted(text), limit)]


@dataclass
class PlannedMedia:
    """One media item of a planned message, with its caption as it will be sent."""

    image: Image
    caption: Formatted = field(default_factory=Formatted)

    @property
    def spoiler(self) -> bool:
        return self.image.spoiler and self.image.kind in SPOILER_KINDS


@dataclass
class PlannedMessage:
    """One message to send: a text, a single media item (`kind` is its kind: "photo", "video"…),
    or an album of 2–10 items; with the buttons and link preview it carries."""

    kind: str  # "text", "album", or a MediaKind value
    body: Formatted = field(default_factory=Formatted)
    media: list[PlannedMedia] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    link_preview: LinkPreview | None = None
    caption_above: bool = False

    @property
    def text(self) -> str:
        """A text message's plain text."""
        return self.body.text

    @property
    def photos(self) -> list[tuple[Image, str]]:
        """(item, plain caption) of each media item."""
        return [(item.image, item.caption.text) for item in self.media]

    @property
    def messages(self) -> int:
        """How many Telegram messages it makes (what the rate limits count)."""
        return max(1, len(self.media))


def plan_messages(main_caption: str, images: list[Image]) -> list[PlannedMessage]:
    """The messages that show a plain caption and these photos (see `plan_content`)."""
    return plan_content(Content(caption=main_caption, images=images))


def plan_content(content: Content) -> list[PlannedMessage]:
    """The messages that show this content: the media grouped as the Bot API allows, carrying the
    captions when they fit; a main caption too long for a caption follows the media as text
    messages; the buttons under the last message, or on a message of their own after an album.

    A text longer than one message (only content saved before limits were counted as Telegram
    counts them can be) goes out in several messages rather than being refused."""
    caption = formatted(content.caption, content.caption_entities).strip()
    preview = content.link_preview
    if not content.images:
        texts = split(caption, TEXT_LIMIT)
        plan = [PlannedMessage(kind="text", body=piece, link_preview=preview) for piece in texts]
        plan[-1].buttons = content.buttons
        return plan
    items = [PlannedMedia(image, formatted(image.caption, image.caption_entities).strip()) for image in content.images]
    follow_up: list[PlannedMessage] = []
    combined = join([caption, items[0].caption])
    if combined.length <= CAPTION_LIMIT:
        items[0].caption = combined
    elif caption.text:
        follow_up = [
            PlannedMessage(kind="text", body=piece, link_preview=preview) for piece in split(caption, TEXT_LIMIT)
        ]
    for item in items:
        item.caption = item.caption.cut(CAPTION_LIMIT)
    plan = [
        PlannedMessage(
            kind="album" if len(group) > 1 else group[0].image.kind.value,
            media=group,
            caption_above=content.caption_above and any(item.image.kind in CAPTION_ABOVE_KINDS for item in group),
        )
        for group in _groups(items)
    ]
    plan.extend(follow_up)
    if content.buttons:
        if plan[-1].kind == "album":
            plan.append(PlannedMessage(kind="text", body=Formatted(BUTTONS_MESSAGE), link_preview=LinkPreview(False)))
        plan[-1].buttons = content.buttons
    return plan


def _groups(items: list[PlannedMedia]) -> list[list[PlannedMedia]]:
    """The items in messages, in order: a run of photos and videos, of documents or of audio files
    shares an album (10 at most); a GIF is always alone."""
    groups: list[list[PlannedMedia]] = []
    for item in items:
        last = groups[-1] if groups else None
        if (
            last is not None
            and len(last) < ALBUM_LIMIT
            and item.image.kind is not MediaKind.ANIMATION
            and _album_class(last[0].image.kind) == _album_class(item.image.kind)
        ):
            last.append(item)
        else:
            groups.append([item])
    return groups


def _album_class(kind: MediaKind) -> str:
    if kind is MediaKind.ANIMATION:
        return "animation"
    return "visual" if kind in _VISUAL else kind.value


def reply_markup_json(rows: list[list[Button]]) -> dict[str, Any] | None:
    """The buttons as the Bot API's InlineKeyboardMarkup (None without any)."""
    if not rows:
        return None
    return {
        "inline_keyboard": [
            [
                {"text": button.label, "url": button.url}
                if button.url
                else {"text": button.label, "copy_text": {"text": button.copy_text or ""}}
                for button in row
            ]
            for row in rows
        ]
    }


def link_preview_json(preview: LinkPreview | None) -> dict[str, bool] | None:
    """The Bot API's LinkPreviewOptions for this choice (None for Telegram's default: shown, small,
    below the text)."""
    if preview is None or (preview.show and not preview.above_text and not preview.large_media):
        return None
    if not preview.show:
        return {"is_disabled": True}
    options: dict[str, bool] = {}
    if preview.above_text:
        options["show_above_text"] = True
    if preview.large_media:
        options["prefer_large_media"] = True
    return options


def entities_of(text: Formatted) -> list[Entity]:
    """The entities to send with a text or caption."""
    return text.entity_list()
