"""Formatting: what Telegram stores for a text or caption sent with ``parse_mode="HTML"`` — the
plain text and its entities (offsets in UTF-16 code units) — checked against the length limits.

Only HTML is modelled, the one parse mode Herald uses; any other parse mode, and explicit
``entities``, are refused as not supported by the fake.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from tests.fakes.bot_api.errors import CAPTION_TOO_LONG, TEXT_EMPTY, BotAPIError, JSONDict, bad_request, unsupported
from tests.fakes.bot_api.limits import CAPTION_LIMIT, TEXT_LIMIT, utf16_len


class _EntityError(Exception):
    """A parse_mode error; the description becomes "Bad Request: can't parse entities: ..."."""


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_HTML_ATTR_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str]
    language: str | None = None


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _sorted_entities(entities: list[JSONDict]) -> list[JSONDict]:
    return sorted(entities, key=lambda e: (int(e["offset"]), -int(e["length"])))


def _html_entity(tag: _OpenTag, end: int, stack: list[_OpenTag]) -> JSONDict | None:
    kind = _HTML_TAGS[tag.name]
    if kind == "code" and stack and stack[-1].name == "pre":
        css = tag.attrs.get("class", "")
        if css.startswith("language-"):
            stack[-1].language = css[len("language-") :]
            return None
    if end <= tag.start:
        return None
    entity: JSONDict = {"type": kind, "offset": tag.start, "length": end - tag.start}
    if kind == "text_link":
        href = tag.attrs.get("href", "")
        if not href:
            return None
        entity["url"] = href
    elif kind == "pre" and tag.language:
        entity["language"] = tag.language
    elif kind == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    return entity


def parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Telegram's HTML parse mode: the plain text and its entities (UTF-16 offsets)."""
    out: list[str] = []
    length = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "&":
            match = _HTML_ENTITY_RE.match(source, i)
            decoded: str | None = None
            if match:
                code = match.group(1)
                if code in _HTML_NAMED:
                    decoded = _HTML_NAMED[code]
                else:
                    number = int(code[2:], 16) if code[1:2] in ("x", "X") else int(code[1:])
                    decoded = chr(number) if 0 < number <= 0x10FFFF else None
            if match and decoded is not None:
                out.append(decoded)
                length += utf16_len(decoded)
                i = match.end()
            else:
                out.append("&")
                length += 1
                i += 1
            continue
        if char != "<":
            out.append(char)
            length += utf16_len(char)
            i += 1
            continue
        offset = _byte_offset(source, i)
        if source.startswith("</", i):
            end = source.find(">", i)
            if end < 0:
                raise _EntityError(f"Can't find end of the tag at byte offset {offset}")
            name = source[i + 2 : end].strip().lower()
            if not stack:
                raise _EntityError(f"Unexpected end tag at byte offset {offset}")
            tag = stack.pop()
            if name != tag.name:
                raise _EntityError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{tag.name}>", found "</{name}>"'
                )
            entity = _html_entity(tag, length, stack)
            if entity is not None:
                entities.append(entity)
            i = end + 1
            continue
        name_match = _HTML_TAG_NAME_RE.match(source, i + 1)
        name = name_match.group(0).lower() if name_match else ""
        if name_match is None or name not in _HTML_TAGS:
            raise _EntityError(f'Unsupported start tag "{name}" at byte offset {offset}')
        j = name_match.end()
        attrs: dict[str, str] = {}
        while True:
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise _EntityError(f"Can't find end of the tag at byte offset {offset}")
            if source[j] == ">":
                j += 1
                break
            attr = _HTML_ATTR_RE.match(source, j)
            if attr is None:
                raise _EntityError(f'Empty attribute name in the tag "{name}" at byte offset {offset}')
            value = attr.group(2) or ""
            if value[:1] in ('"', "'"):
                value = value[1:-1]
            attrs[attr.group(1).lower()] = html.unescape(value)
            j = attr.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _EntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        stack.append(_OpenTag(name, length, attrs))
        i = j
    if stack:
        raise _EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return "".join(out), _sorted_entities(entities)


def format_text(text: str, parse_mode: str | None) -> tuple[str, list[JSONDict]]:
    """The text as Telegram stores it and its entities, or the Bot API's 400."""
    if not parse_mode:
        return text, []
    if parse_mode.lower() != "html":
        raise unsupported(f'parse_mode "{parse_mode}"')
    try:
        return parse_html(text)
    except _EntityError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None


def message_text(raw: str | None, parse_mode: str | None, too_long: BotAPIError) -> tuple[str, list[JSONDict]]:
    """A message's text and entities; empty (before or after formatting) or over 4096 units is a 400."""
    if raw is None or not raw.strip():
        raise BotAPIError(400, TEXT_EMPTY)
    text, entities = format_text(raw, parse_mode)
    if not text.strip():
        raise BotAPIError(400, TEXT_EMPTY)
    if utf16_len(text) > TEXT_LIMIT:
        raise too_long
    return text, entities


def caption_text(raw: str | None, parse_mode: str | None) -> tuple[str | None, list[JSONDict]]:
    """A media caption and its entities (None when empty); over 1024 units is a 400."""
    if not raw:
        return None, []
    caption, entities = format_text(raw, parse_mode)
    if utf16_len(caption) > CAPTION_LIMIT:
        raise BotAPIError(400, CAPTION_TOO_LONG)
    return (caption or None), entities
