"""Text as Telegram formats it: the plain text and its entities (Telegram's MessageEntity JSON, offsets
and lengths in UTF-16 code units), and what every platform makes of it.

Herald keeps what the person typed as text + entities, never as HTML, and publishes to Telegram with
`entities=` / `caption_entities=`, so what arrives is exactly what was typed. Every cut, strip and
join here moves the entities with the text: a split never cuts a formatted span (unless one span is
longer than a whole message) nor a surrogate pair. The other platforms get HTML (webhooks) or plain
text with the links written out (Facebook).
"""

from __future__ import annotations

import bisect
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]

# What a person can type in Telegram's editor (and a bot may send). Telegram finds the other types
# (url, mention, hashtag…) in the text by itself and ignores them when a bot sends them.
FORMATTING_TYPES = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "blockquote",
        "expandable_blockquote",
        "date_time",
    }
)
# The fields each kept type carries besides type, offset and length.
_EXTRA_FIELDS = ("url", "user", "language", "custom_emoji_id", "unix_time", "date_time_format")


def utf16_len(text: str) -> int:
    """How long `text` is as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


@dataclass(frozen=True)
class Formatted:
    """A text and its entities. Entities are kept sorted (by offset, longer first), inside the
    text, on character boundaries and non-empty; build one with `formatted()` to have that checked."""

    text: str = ""
    entities: tuple[Entity, ...] = field(default_factory=tuple)

    @property
    def length(self) -> int:
        """The length as Telegram counts it (UTF-16 units)."""
        return utf16_len(self.text)

    def entity_list(self) -> list[Entity]:
        """The entities as fresh JSON-ready dicts."""
        return [dict(entity) for entity in self.entities]

    def _starts(self) -> list[int]:
        """The UTF-16 offset of each character, and of the end (one more item than characters)."""
        starts = [0]
        for char in self.text:
            starts.append(starts[-1] + _units(char))
        return starts

    def slice(self, start: int, end: int) -> Formatted:
        """The part between two UTF-16 offsets (each moved back to a character boundary), with the
        entities that overlap it cut to it and made relative to it."""
        starts = self._starts()
        first = bisect.bisect_right(starts, max(start, 0)) - 1
        last = bisect.bisect_right(starts, min(end, starts[-1])) - 1
        if last <= first:
            return Formatted()
        lo, hi = starts[first], starts[last]
        kept: list[Entity] = []
        for entity in self.entities:
            begin = max(entity["offset"], lo)
            finish = min(entity["offset"] + entity["length"], hi)
            if finish > begin:
                kept.append({**entity, "offset": begin - lo, "length": finish - begin})
        return Formatted(self.text[first:last], tuple(kept))

    def strip(self) -> Formatted:
        """Without the whitespace at either end (entities moved and trimmed with the text)."""
        stripped = self.text.strip()
        if stripped == self.text:
            return self
        if not stripped:
            return Formatted()
        lead = utf16_len(self.text[: len(self.text) - len(self.text.lstrip())])
        return self.slice(lead, lead + utf16_len(stripped))

    def cut(self, limit: int) -> Formatted:
        """The longest start within `limit` UTF-16 units; a character is never halved."""
        if self.length <= limit:
            return self
        return self.slice(0, limit)

    def __add__(self, other: Formatted) -> Formatted:
        shift = self.length
        moved = tuple({**entity, "offset": entity["offset"] + shift} for entity in other.entities)
        return Formatted(self.text + other.text, _sorted((*self.entities, *moved)))

    def boundaries(self) -> list[tuple[int, int]]:
        """(start, end) of every entity, in UTF-16 units."""
        return [(entity["offset"], entity["offset"] + entity["length"]) for entity in self.entities]


def _sorted(entities: Iterable[Entity]) -> tuple[Entity, ...]:
    return tuple(sorted(entities, key=lambda entity: (entity["offset"], -entity["length"])))


def formatted(text: str, entities: Iterable[Any] = ()) -> Formatted:
    """The text with the formatting entities among `entities` (dicts, as Telegram's JSON), checked:
    types Telegram finds by itself dropped, each entity cut to the text and to character boundaries,
    empty ones dropped, fields kept only where they mean something."""
    starts = [0]
    for char in text:
        starts.append(starts[-1] + _units(char))
    end_of_text = starts[-1]
    boundary = set(starts)
    kept: list[Entity] = []
    for raw in entities:
        if not isinstance(raw, dict) or raw.get("type") not in FORMATTING_TYPES:
            continue
        offset, length = raw.get("offset"), raw.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or isinstance(offset, bool):
            continue
        begin, finish = max(offset, 0), min(offset + length, end_of_text)
        # A boundary inside a surrogate pair moves outward to keep the whole character.
        while begin > 0 and begin not in boundary:
            begin -= 1
        while finish < end_of_text and finish not in boundary:
            finish += 1
        if finish <= begin:
            continue
        entity: Entity = {"type": raw["type"], "offset": begin, "length": finish - begin}
        for name in _EXTRA_FIELDS:
            if raw.get(name) not in (None, ""):
                entity[name] = raw[name]
        if entity["type"] == "text_link" and not entity.get("url"):
            continue
        kept.append(entity)
    return Formatted(text, _sorted(kept))


def join(parts: Sequence[Formatted], separator: str = "\n\n") -> Formatted:
    """The non-empty parts one after another, `separator` between them."""
    result = Formatted()
    for part in parts:
        if not part.text:
            continue
        result = part if not result.text else result + Formatted(separator) + part
    return result


def split(content: Formatted, limit: int) -> list[Formatted]:
    """`content` in pieces of at most `limit` UTF-16 units, each stripped of the whitespace at its
    ends. A piece ends at a line break, else a space, in its last quarter when one lies outside every
    formatted span; else before the span that crosses the limit; only a span longer than a whole
    piece is cut (the two parts both keep its formatting). A surrogate pair is never halved."""
    rest = content.strip()
    pieces: list[Formatted] = []
    while rest.length > limit:
        cut = _cut_point(rest, limit)
        pieces.append(rest.slice(0, cut).strip())
        rest = rest.slice(cut, rest.length).strip()
    if rest.text or not pieces:
        pieces.append(rest)
    return [piece for piece in pieces if piece.text] or [Formatted()]


def _cut_point(content: Formatted, limit: int) -> int:
    """Where to end the first piece of `content` (UTF-16 units, a character boundary, 0 < cut <= limit)."""
    starts = content._starts()
    index = bisect.bisect_right(starts, limit) - 1
    hard = starts[index] if index > 0 else starts[1]
    spans = content.boundaries()

    def inside(position: int) -> bool:
        return any(begin < position < end for begin, end in spans)

    floor = hard * 3 // 4
    for separator in ("\n", " "):
        for position in range(index - 1, 0, -1):
            at = starts[position]
            if at < floor:
                break
            if content.text[position] == separator and not inside(at):
                return at
    # Before the span that crosses the limit (and before any span around that point), when that
    # leaves something in this piece.
    before = hard
    while inside(before):
        before = min(begin for begin, end in spans if begin < before < end)
    if before > 0:
        return before  # `hard` itself when no span is cut there
    # A span longer than the piece: cut it, at a line break or space in the last quarter if any.
    for separator in ("\n", " "):
        for position in range(index - 1, 0, -1):
            if starts[position] < floor:
                break
            if content.text[position] == separator:
                return starts[position]
    return hard


# -- other platforms ------------------------------------------------------------------------------

_HTML_TAGS: dict[str, tuple[str, str]] = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
    "code": ("<code>", "</code>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
}


def _open_tag(entity: Entity) -> tuple[str, str]:
    kind = entity["type"]
    if kind in _HTML_TAGS:
        return _HTML_TAGS[kind]
    if kind == "pre":
        language = entity.get("language")
        if language:
            return f'<pre><code class="language-{html.escape(str(language), quote=True)}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{html.escape(str(entity.get("url", "")), quote=True)}">', "</a>"
    if kind == "text_mention":
        user = entity.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
        return f'<a href="tg://user?id={html.escape(str(user_id), quote=True)}">', "</a>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{html.escape(str(entity.get("custom_emoji_id", "")), quote=True)}">', "</tg-emoji>"
    return "", ""  # date_time: its text as it is


def to_html(content: Formatted) -> str:
    """The text in Telegram's HTML: what `parse_mode="HTML"` would turn back into these entities.
    Spans that cross are closed and opened again around the crossing, as HTML needs."""
    starts = content._starts()
    opens: dict[int, list[Entity]] = {}
    for entity in content.entities:
        opens.setdefault(entity["offset"], []).append(entity)
    out: list[str] = []
    stack: list[tuple[Entity, int]] = []  # (entity, its end)
    for index in range(len(content.text) + 1):
        at = starts[index]
        ending = [item for item in stack if item[1] <= at]
        if ending:
            # Close down to the deepest ending span, then reopen the ones that go on.
            depth = min(stack.index(item) for item in ending)
            reopen = [item for item in stack[depth:] if item[1] > at]
            for entity, _ in reversed(stack[depth:]):
                out.append(_open_tag(entity)[1])
            del stack[depth:]
            for item in reopen:
                out.append(_open_tag(item[0])[0])
                stack.append(item)
        for entity in sorted(opens.get(at, []), key=lambda e: -e["length"]):
            out.append(_open_tag(entity)[0])
            stack.append((entity, at + entity["length"]))
        if index < len(content.text):
            out.append(html.escape(content.text[index], quote=False))
    return "".join(out)


def plain_with_links(content: Formatted) -> str:
    """The text without formatting, each link's address written after its words (unless the words
    are the address): what a platform that shows no formatting can still carry."""
    text = content.text
    starts = content._starts()
    links = [entity for entity in content.entities if entity["type"] == "text_link" and entity.get("url")]
    # From the end, so the positions before stay right.
    for entity in sorted(links, key=lambda e: e["offset"] + e["length"], reverse=True):
        end = bisect.bisect_left(starts, entity["offset"] + entity["length"])
        begin = bisect.bisect_left(starts, entity["offset"])
        url = str(entity["url"])
        if text[begin:end].strip() in (url, url.removeprefix("https://"), url.removeprefix("http://")):
            continue
        text = f"{text[:end]} ({url}){text[end:]}"
    return text


def has_type(content: Formatted, kind: str) -> bool:
    """True if any span of the text is of this type."""
    return any(entity["type"] == kind for entity in content.entities)
