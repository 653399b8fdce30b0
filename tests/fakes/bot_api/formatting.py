"""Formatting: what Telegram stores for a text or caption sent with ``parse_mode="HTML"``, or with
explicit ``entities`` / ``caption_entities`` — the plain text and its entities (offsets in UTF-16 code
units) — checked against the length limits.

As the Bot API does (telegram-bot-api's ``Client::get_formatted_text``), a parse mode wins over
explicit entities; explicit entities are read as ``Client::get_text_entity`` reads them (types
Telegram finds by itself — url, mention, hashtag… — are dropped, an unknown type or a missing field
is "can't parse MessageEntity: …") and then held to the text as TDLib's ``fix_formatted_text``
holds them: one that begins or ends after the end of the text, or in the middle of a surrogate pair,
is refused; one of whitespace only is dropped; trailing whitespace is cut off, with the spans in it.
Where Telegram silently ignores what it cannot read (entities that are not a JSON array), the fake
refuses instead, so that a test sees formatting that would have been lost.

Only HTML is modelled among the parse modes, the one Herald's screens use; any other is refused as
not supported by the fake.
"""

from __future__ import annotations

import copy
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


def format_text(text: str, parse_mode: str | None, entities: object = None) -> tuple[str, list[JSONDict]]:
    """The text as Telegram stores it and its entities, or the Bot API's 400."""
    if parse_mode:
        if parse_mode.lower() != "html":
            raise unsupported(f'parse_mode "{parse_mode}"')
        try:
            return parse_html(text)
        except _EntityError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    if entities in (None, ""):
        return text, []
    return given_entities(text, entities)


# The types a bot may give (telegram-bot-api's Client::get_text_entity_type), and the ones Telegram
# finds in the text by itself, which it drops when a bot gives them.
GIVEN_TYPES = frozenset(
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
FOUND_TYPES = frozenset(
    {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bank_card_number"}
)
_URL_SCHEMES = ("http://", "https://", "tg://", "ton://", "tonsite://")


def _entity_error(detail: str) -> BotAPIError:
    return bad_request(f"can't parse MessageEntity: {detail}")


def _given_entity(raw: object) -> JSONDict | None:
    """One entity as the Bot API reads it (None for a type Telegram finds by itself)."""
    if not isinstance(raw, dict):
        raise _entity_error("expected an Object")
    for name in ("offset", "length"):
        if name not in raw:
            raise _entity_error(f'Can\'t find field "{name}"')
        if isinstance(raw[name], bool) or not isinstance(raw[name], int):
            raise _entity_error(f'Field "{name}" must be of type Number')
    kind = raw.get("type")
    if kind in (None, ""):
        raise _entity_error('Can\'t find field "type"' if kind is None else "Type is not specified")
    if not isinstance(kind, str):
        raise _entity_error('Field "type" must be of type String')
    if kind in FOUND_TYPES:
        return None
    if kind not in GIVEN_TYPES:
        raise _entity_error("Unsupported type specified")
    entity: JSONDict = {"type": kind, "offset": raw["offset"], "length": raw["length"]}
    if kind == "text_link":
        url = raw.get("url")
        if not isinstance(url, str):
            raise _entity_error('Can\'t find field "url"')
        if not url.lower().startswith(_URL_SCHEMES) or any(char.isspace() for char in url):
            raise bad_request(f"entity URL '{url}' is invalid: Wrong HTTP URL")
        entity["url"] = url
    elif kind == "text_mention":
        user = raw.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise _entity_error('Can\'t find field "user"' if user is None else 'Can\'t find field "id"')
        entity["user"] = copy.deepcopy(user)
    elif kind == "custom_emoji":
        emoji_id = raw.get("custom_emoji_id")
        if not isinstance(emoji_id, (str, int)) or not str(emoji_id).isdigit():
            raise _entity_error('Can\'t find field "custom_emoji_id"')
        entity["custom_emoji_id"] = str(emoji_id)
    elif kind == "pre" and isinstance(raw.get("language"), str) and raw["language"]:
        entity["language"] = raw["language"]
    elif kind == "date_time":
        if not isinstance(raw.get("unix_time"), int):
            raise _entity_error('Can\'t find field "unix_time"')
        entity["unix_time"] = raw["unix_time"]
    return entity


def given_entities(text: str, raw: object) -> tuple[str, list[JSONDict]]:
    """Explicit entities held to the text as TDLib holds them (see the module's docstring)."""
    if not isinstance(raw, list):
        raise bad_request("entities must be a JSON array (Telegram would ignore them all)")
    entities = [entity for entity in (_given_entity(item) for item in raw) if entity is not None]
    starts = [0]
    for char in text:
        starts.append(starts[-1] + utf16_len(char))
    end_of_text = starts[-1]
    boundaries = set(starts)
    kept: list[JSONDict] = []
    for entity in _sorted_entities(entities):
        offset, length = entity["offset"], entity["length"]
        if length <= 0:
            continue
        if offset < 0 or offset > end_of_text:
            raise bad_request(f"entity begins after the end of the text at UTF-16 offset {offset}")
        end = offset + length
        if end > end_of_text:
            raise bad_request(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text at UTF-16 offset {end}"
            )
        if offset not in boundaries:
            byte = len(text[: starts.index(offset + 1)].encode("utf-8"))
            raise bad_request(f"entity begins in a middle of a UTF-16 symbol at byte offset {byte}")
        if end not in boundaries:
            byte = len(text[: starts.index(end + 1)].encode("utf-8"))
            raise bad_request(
                f"entity beginning at UTF-16 offset {offset} ends in a middle of a UTF-16 symbol at byte offset {byte}"
            )
        covered = text[starts.index(offset) : starts.index(end)]
        if covered.strip():
            kept.append(entity)
    # Trailing whitespace goes, and the part of any span in it.
    trimmed = text.rstrip()
    if trimmed != text:
        limit = utf16_len(trimmed)
        kept = [
            {**entity, "length": min(entity["length"], limit - entity["offset"])}
            for entity in kept
            if entity["offset"] < limit
        ]
    return trimmed, kept


def message_text(
    raw: str | None, parse_mode: str | None, too_long: BotAPIError, entities: object = None
) -> tuple[str, list[JSONDict]]:
    """A message's text and entities; empty (before or after formatting) or over 4096 units is a 400."""
    if raw is None or not raw.strip():
        raise BotAPIError(400, TEXT_EMPTY)
    text, parsed = format_text(raw, parse_mode, entities)
    if not text.strip():
        raise BotAPIError(400, TEXT_EMPTY)
    if utf16_len(text) > TEXT_LIMIT:
        raise too_long
    return text, parsed


def caption_text(raw: str | None, parse_mode: str | None, entities: object = None) -> tuple[str | None, list[JSONDict]]:
    """A media caption and its entities (None when empty); over 1024 units is a 400."""
    if not raw:
        return None, []
    caption, parsed = format_text(raw, parse_mode, entities)
    if utf16_len(caption) > CAPTION_LIMIT:
        raise BotAPIError(400, CAPTION_TOO_LONG)
    return (caption or None), parsed
