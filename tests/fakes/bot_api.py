"""A fake Telegram Bot API server for tests: real HTTP on 127.0.0.1, real Bot API shapes.

The real python-telegram-bot talks to it unchanged::

    async with FakeBotAPI() as api:
        app = (
            Application.builder()
            .token(api.token)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )

It speaks the HTTP contract of https://core.telegram.org/bots/api: methods at
``/bot{token}/{method}`` (GET or POST; query string, url-encoded form, multipart/form-data or JSON;
nested values such as ``reply_markup`` or ``media`` as JSON text inside form fields; uploads as
multipart parts, referenced as ``attach://<name>`` from ``media``), files at
``/file/bot{token}/{file_path}``, answers ``{"ok": true, "result": ...}`` or Telegram-shaped errors
with the matching HTTP status, so that PTB's own parsing checks it (``RetryAfter``,
``ChatMigrated``, ``Forbidden``, ``BadRequest``, ``InvalidToken``...).

Tests in the same process drive it like people do (``send_text``, ``send_photo``, ``send_album``,
``press``/``press_button``, ``bot_added_to_chat``...), inject faults (``fail_next``, ``delay``),
optionally enforce Telegram's flood limits, and read back what the bot did (``messages``,
``bot_messages``, ``calls``, ``callback_answers``, ``wait_for``...). See ``FakeBotAPI``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import math
import mimetypes
import re
import secrets
import struct
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiohttp import web

from tests.fakes.local_server import LocalServer, serve_locally

JSONDict = dict[str, Any]

DEFAULT_TOKEN = "1000000001:TEST-TOKEN"
DEFAULT_BOT_ID = 1000000001
# Telegram counts both in UTF-16 code units (see utf16_len), after entities are parsed out.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
DOWNLOAD_LIMIT = 20 * 1024 * 1024
UPLOAD_LIMIT = 50 * 1024 * 1024

TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
TEXT_EMPTY = "Bad Request: message text is empty"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
GET_UPDATES_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)

CHAT_TYPES = ("channel", "group", "supergroup")
MEMBER_STATUSES = ("creator", "administrator", "member", "left", "kicked")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Update types delivered when the bot has not chosen `allowed_updates` (as Telegram does).
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "my_chat_member",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "chat_join_request",
    }
)
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Methods that post a message and so count against the flood limits.
COUNTED_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup"})


def jpeg_bytes(width: int = 640, height: int = 480, tag: bytes = b"") -> bytes:
    """Small JPEG-looking bytes (SOI, JFIF, SOF0 with the given size, EOI); `tag` makes them unique."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    comment = b"\xff\xfe" + struct.pack(">H", len(tag) + 2) + tag if tag else b""
    return b"\xff\xd8" + app0 + comment + sof0 + b"\xff\xd9"


SAMPLE_JPEG = jpeg_bytes(640, 480, b"herald-sample")


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG, GIF or JPEG header, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:
                i += 1 if marker == 0xFF else 2
                continue
            if marker in (0xD9, 0xDA):
                return None
            (segment,) = struct.unpack(">H", data[i + 2 : i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and i + 9 <= len(data):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + segment
    return None


def _image_extension(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "png"
    if data[:3] == b"GIF":
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "jpg"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# -- Errors ------------------------------------------------------------------------------------


class BotAPIError(Exception):
    """An error answer: HTTP status and `error_code`, `description`, optional `parameters`."""

    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def _bad_request(detail: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {detail}")


def _forbidden(detail: str) -> BotAPIError:
    return BotAPIError(403, f"Forbidden: {detail}")


def _too_many_requests(retry_after: int) -> BotAPIError:
    return BotAPIError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# -- Request decoding --------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    name: str
    filename: str
    data: bytes
    content_type: str

    def summary(self) -> JSONDict:
        return {"upload": self.filename, "size": len(self.data)}


class Call(NamedTuple):
    """One request to a method: its name, decoded parameters (uploads summarised), monotonic time."""

    method: str
    params: JSONDict
    at: float


_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "media",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "results",
        "permissions",
    }
)
_JSON_FIELD_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "media": "can't parse media JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "commands": "can't parse commands JSON object",
    "allowed_updates": "can't parse allowed updates JSON object",
}
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "user_id",
        "cache_time",
        "from_chat_id",
        "message_thread_id",
        "reply_to_message_id",
        "until_date",
        "max_connections",
    }
)
_FLOAT_FIELDS = frozenset({"timeout"})
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
        "only_if_banned",
        "revoke_messages",
    }
)
_INT_RE = re.compile(r"^[+-]?\d+$")


def _decode_value(name: str, value: Any) -> Any:
    """Turn a form field's text into what the Bot API reads it as (JSON, integer, boolean...)."""
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(_JSON_FIELD_ERRORS.get(name, "can't parse JSON object")) from None
    stripped = value.strip()
    if name in _INT_FIELDS:
        return int(stripped) if _INT_RE.match(stripped) else value
    if name in _FLOAT_FIELDS:
        try:
            return float(stripped)
        except ValueError:
            return value
    if name in _BOOL_FIELDS:
        lowered = stripped.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
    return value


class _Params:
    """A method's decoded parameters, with typed accessors that fail the way the Bot API does."""

    def __init__(self, values: JSONDict, uploads: Mapping[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def opt_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise _bad_request(f'field "{name}" must be of type String')

    def req_str(self, name: str, missing: str | None = None) -> str:
        value = self.opt_str(name)
        if not value:
            raise _bad_request(missing or f'parameter "{name}" is required')
        return value

    def opt_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise _bad_request(f'field "{name}" must be of type Integer')
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT_RE.match(value.strip()):
            return int(value.strip())
        raise _bad_request(f'field "{name}" must be of type Integer')

    def req_int(self, name: str, missing: str | None = None) -> int:
        value = self.opt_int(name)
        if value is None:
            raise _bad_request(missing or f'parameter "{name}" is required')
        return value

    def opt_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "" or isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return float(str(value))
        except ValueError:
            raise _bad_request(f'field "{name}" must be a Number') from None

    def flag(self, name: str) -> bool:
        return self.values.get(name) is True

    def chat_ref(self) -> int | str:
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise _bad_request("chat not found")
        return value

    def file_input(self, name: str) -> Upload | str | None:
        """An upload (a part of that name, or `attach://x`), a file_id/URL string, or None."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise _bad_request(f'field "{name}" must be of type String')
        if value.startswith("attach://"):
            upload = self.uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad_request(f'can\'t find attached file "{value}"')
            return upload
        return value


# -- Formatting: HTML, MarkdownV2 and Markdown into text + entities -----------------------------


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


_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "_": "Italic",
    "__": "Underline",
    "*": "Bold",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
    "![": "CustomEmoji",
}
_MDV2_KINDS = {"_": "italic", "__": "underline", "*": "bold", "~": "strikethrough", "||": "spoiler"}
_LANGUAGE_RE = re.compile(r"^[A-Za-z0-9_+#.\-]+$")


def _md_until(source: str, start: int, closing: str, escapable: str) -> tuple[str, int] | None:
    """The text from `start` up to the unescaped `closing` (unescaping), and the index after it."""
    out: list[str] = []
    j = start
    while j < len(source):
        if source[j] == "\\" and j + 1 < len(source) and source[j + 1] in escapable:
            out.append(source[j + 1])
            j += 2
            continue
        if source.startswith(closing, j):
            return "".join(out), j + len(closing)
        out.append(source[j])
        j += 1
    return None


def parse_markdown_v2(source: str) -> tuple[str, list[JSONDict]]:
    """Telegram's MarkdownV2 parse mode (reserved characters must be escaped)."""
    out: list[str] = []
    length = 0
    entities: list[JSONDict] = []
    stack: list[tuple[str, int, int]] = []  # token, start (UTF-16), byte offset
    quote_start: int | None = None
    i, n = 0, len(source)

    def emit(text: str) -> None:
        nonlocal length
        out.append(text)
        length += utf16_len(text)

    while i < n:
        char = source[i]
        at_line_start = i == 0 or source[i - 1] == "\n"
        if at_line_start and quote_start is not None and char != ">":
            if length - 1 > quote_start:
                entities.append({"type": "blockquote", "offset": quote_start, "length": length - 1 - quote_start})
            quote_start = None
        if char == "\\" and i + 1 < n and 0 < ord(source[i + 1]) <= 126:
            emit(source[i + 1])
            i += 2
            continue
        if char == "`":
            offset = _byte_offset(source, i)
            if source.startswith("```", i):
                found = _md_until(source, i + 3, "```", "`\\")
                if found is None:
                    raise _EntityError(f"Can't find end of Pre entity at byte offset {offset}")
                content, i = found
                language = None
                first_line, newline, rest = content.partition("\n")
                if newline and _LANGUAGE_RE.match(first_line):
                    language, content = first_line, rest
                start = length
                emit(content)
                if length > start:
                    entity: JSONDict = {"type": "pre", "offset": start, "length": length - start}
                    if language:
                        entity["language"] = language
                    entities.append(entity)
                continue
            found = _md_until(source, i + 1, "`", "`\\")
            if found is None:
                raise _EntityError(f"Can't find end of Code entity at byte offset {offset}")
            content, i = found
            start = length
            emit(content)
            if length > start:
                entities.append({"type": "code", "offset": start, "length": length - start})
            continue
        if char not in _MDV2_RESERVED:
            emit(char)
            i += 1
            continue
        top = stack[-1][0] if stack else None
        closing: str | None = None
        if top == "__" and source.startswith("__", i):
            closing = "__"
        elif top == "||" and source.startswith("||", i):
            closing = "||"
        elif top in ("_", "*", "~") and char == top:
            closing = top
        elif top in ("[", "![") and char == "]":
            closing = "]"
        if closing is not None and top is not None:
            token, start, _ = stack.pop()
            i += len(closing)
            if token in ("[", "!["):
                url = ""
                if i < n and source[i] == "(":
                    found = _md_until(source, i + 1, ")", ")\\")
                    if found is None:
                        raise _EntityError(f"Can't find end of a URL at byte offset {_byte_offset(source, i)}")
                    url, i = found
                if url and length > start:
                    if token == "[":
                        entities.append({"type": "text_link", "offset": start, "length": length - start, "url": url})
                    else:
                        emoji_id = url.partition("id=")[2]
                        entities.append(
                            {
                                "type": "custom_emoji",
                                "offset": start,
                                "length": length - start,
                                "custom_emoji_id": emoji_id,
                            }
                        )
            elif length > start:
                entities.append({"type": _MDV2_KINDS[token], "offset": start, "length": length - start})
            continue
        offset = _byte_offset(source, i)
        if char == "_":
            token = "__" if source.startswith("__", i) else "_"
        elif char in "*~[":
            token = char
        elif char == "|" and source.startswith("||", i):
            token = "||"
        elif char == "!" and source.startswith("![", i):
            token = "!["
        elif char == ">" and at_line_start:
            if quote_start is None:
                quote_start = length
            i += 1
            continue
        else:
            raise _EntityError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        stack.append((token, length, offset))
        i += len(token)
    if stack:
        token, _, offset = stack[-1]
        raise _EntityError(f"Can't find end of {_MDV2_NAMES[token]} entity at byte offset {offset}")
    if quote_start is not None and length > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": length - quote_start})
    return "".join(out), _sorted_entities(entities)


def parse_markdown(source: str) -> tuple[str, list[JSONDict]]:
    """Telegram's legacy Markdown parse mode (*bold*, _italic_, `code`, ```pre```, [text](url))."""
    out: list[str] = []
    length = 0
    entities: list[JSONDict] = []
    i, n = 0, len(source)

    def emit(text: str) -> None:
        nonlocal length
        out.append(text)
        length += utf16_len(text)

    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            emit(source[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            emit(char)
            i += 1
            continue
        offset = _byte_offset(source, i)
        missing = _EntityError(f"Can't find end of the entity starting at byte offset {offset}")
        if char == "[":
            close = source.find("]", i + 1)
            if close < 0:
                raise missing
            if not source.startswith("(", close + 1) or source.find(")", close + 2) < 0:
                emit(char)
                i += 1
                continue
            end = source.find(")", close + 2)
            start = length
            emit(source[i + 1 : close])
            if length > start:
                entities.append(
                    {"type": "text_link", "offset": start, "length": length - start, "url": source[close + 2 : end]}
                )
            i = end + 1
            continue
        marker = "```" if source.startswith("```", i) else char
        end = source.find(marker, i + len(marker))
        if end < 0:
            raise missing
        content = source[i + len(marker) : end]
        kind = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}[marker]
        language = None
        if marker == "```":
            first_line, newline, rest = content.partition("\n")
            if newline and _LANGUAGE_RE.match(first_line):
                language, content = first_line, rest
        start = length
        emit(content)
        if length > start:
            entity: JSONDict = {"type": kind, "offset": start, "length": length - start}
            if language:
                entity["language"] = language
            entities.append(entity)
        i = end + len(marker)
    return "".join(out), _sorted_entities(entities)


def _explicit_entities(text: str, entities: Any) -> list[JSONDict]:
    if not isinstance(entities, list):
        raise _bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    kept: list[JSONDict] = []
    for entity in entities:
        if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
            raise _bad_request('can\'t parse MessageEntity: field "type" must be of type String')
        offset, size = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(size, int):
            raise _bad_request('can\'t parse MessageEntity: field "offset" must be of type Integer')
        if offset >= 0 and size > 0 and offset + size <= total:
            kept.append(dict(entity))
    return _sorted_entities(kept)


def format_text(text: str, parse_mode: str | None, entities: Any = None) -> tuple[str, list[JSONDict]]:
    """What Telegram stores for a text or caption: explicit entities win over parse_mode."""
    if entities is not None:
        return text, _explicit_entities(text, entities)
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    parsers: dict[str, Callable[[str], tuple[str, list[JSONDict]]]] = {
        "html": parse_html,
        "markdownv2": parse_markdown_v2,
        "markdown": parse_markdown,
    }
    parser = parsers.get(mode)
    if parser is None:
        raise _bad_request("unsupported parse_mode")
    try:
        return parser(text)
    except _EntityError as exc:
        raise _bad_request(f"can't parse entities: {exc}") from None


# -- State ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimits:
    """Flood limits applied when `enforce_limits` is on (sliding windows, in messages)."""

    per_bot: int = 30
    per_bot_window: float = 1.0
    per_group: int = 20
    per_group_window: float = 60.0
    per_private: int = 1
    per_private_window: float = 1.0


@dataclass
class _User:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    blocked_bot: bool = False

    def to_json(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class _Member:
    status: str
    rights: dict[str, bool] = field(default_factory=dict)


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    members: dict[int, _Member] = field(default_factory=dict)
    migrated_to: int | None = None
    next_message_id: int = 1

    def to_json(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or ""
            if self.last_name:
                data["last_name"] = self.last_name
        else:
            data["title"] = self.title or ""
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class _File:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    # The size Telegram knows the file by, when a test declares one bigger than the bytes kept
    # (a 25 MB photo without 25 MB in memory).
    declared_size: int | None = None

    @property
    def size(self) -> int:
        return self.declared_size if self.declared_size is not None else len(self.data)


@dataclass
class _Message:
    chat_id: int
    message_id: int
    date: int
    kind: str  # text, photo, document, sticker, service
    from_bot: bool
    from_user_id: int | None = None
    text: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSONDict] = field(default_factory=list)
    raw: str | None = None
    parse_mode: str | None = None
    photo: list[JSONDict] | None = None
    document: JSONDict | None = None
    sticker: JSONDict | None = None
    media_group_id: str | None = None
    reply_markup: JSONDict | None = None
    reply_to_message_id: int | None = None
    service: JSONDict = field(default_factory=dict)
    deleted: bool = False
    edit_date: int | None = None
    history: list[JSONDict] = field(default_factory=list)

    def content(self) -> JSONDict:
        return {
            "text": self.text,
            "entities": copy.deepcopy(self.entities),
            "caption": self.caption,
            "caption_entities": copy.deepcopy(self.caption_entities),
            "raw": self.raw,
            "reply_markup": copy.deepcopy(self.reply_markup),
            "edit_date": self.edit_date,
        }


@dataclass
class _Fault:
    method: str
    error: BotAPIError
    chat_id: int | str | None
    remaining: int


@dataclass
class _Delay:
    method: str
    seconds: float
    remaining: int
    before: bool


def _inline_keyboard(markup: JSONDict | None) -> JSONDict | None:
    """The markup as it shows on a message: an inline keyboard with at least one row, else None."""
    if markup and isinstance(markup.get("inline_keyboard"), list) and markup["inline_keyboard"]:
        return markup
    return None


Handler = Callable[[_Params], Coroutine[Any, Any, Any]]


class FakeBotAPI(LocalServer):
    """A fake Bot API server and the person on the other side, for one test.

    Start it with ``await api.start()`` (returns ``http://127.0.0.1:PORT``) and ``await api.stop()``,
    or ``async with FakeBotAPI() as api``. All control methods are plain Python, called from the
    test's event loop.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        enforce_limits: bool = False,
        *,
        bot_id: int | None = None,
        bot_first_name: str = "Herald",
        bot_username: str = "herald_test_bot",
        limits: RateLimits | None = None,
    ) -> None:
        self._token = token
        prefix = token.partition(":")[0]
        self._bot_id = bot_id if bot_id is not None else (int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID)
        self._bot_first_name = bot_first_name
        self._bot_username = bot_username
        self.enforce_limits = enforce_limits
        self.limits = limits or RateLimits()

        self.calls: list[Call] = []
        self.callback_answers: list[JSONDict] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.downloads: list[str] = []
        self.rate_limited = 0

        self._users: dict[int, _User] = {}
        self._chats: dict[int, _Chat] = {}
        self._messages: dict[int, dict[int, _Message]] = {}
        self._files: dict[str, _File] = {}
        self._files_by_path: dict[str, _File] = {}
        self._photo_sizes: dict[str, list[JSONDict]] = {}
        self._open_queries: set[str] = set()
        self._command_sets: dict[tuple[str, str], list[JSONDict]] = {}
        self._last_commands_key: tuple[str, str] | None = None
        self._webhook_url = ""
        self._allowed_updates: frozenset[str] | None = None

        self._updates: deque[tuple[int, JSONDict]] = deque()
        self._update_ids = itertools.count(500_000_001)
        self._file_numbers = itertools.count(1)
        self._query_numbers = itertools.count(1)
        self._media_group_numbers = itertools.count(13_000_000_000_000_001)
        self._poll_generation = 0
        self._updates_signal = asyncio.Event()
        self._state_signal = asyncio.Event()
        self._faults: list[_Fault] = []
        self._outage: tuple[BotAPIError, frozenset[str] | None, Callable[[int | str], bool] | None] | None = None
        self.outage_answers = 0
        self._delays: list[_Delay] = []
        self._rate_global: deque[float] = deque()
        self._rate_chats: dict[int, deque[float]] = {}

        self._started_at = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._closing = False

        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMemberCount": self._get_chat_member_count,
            "leaveChat": self._leave_chat,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
        }
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in handlers.items()
        }

    # -- Lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> str:
        """Serve on 127.0.0.1 on a free port; returns the root URL."""
        if self._url is not None:
            return self._url
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner, self._url = await serve_locally(app)
        self._closing = False
        return self._url

    async def stop(self) -> None:
        """Answer any waiting long poll and shut the server down."""
        self._closing = True
        self._notify_updates()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._url = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("FakeBotAPI is not started; await start() first")
        return self._url

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def token(self) -> str:
        return self._token

    @property
    def bot_id(self) -> int:
        return self._bot_id

    @property
    def bot_user(self) -> JSONDict:
        return {
            "id": self._bot_id,
            "is_bot": True,
            "first_name": self._bot_first_name,
            "username": self._bot_username,
        }

    # -- People and chats --------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str = "User",
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> JSONDict:
        """A person who has started the bot; their private chat has id == user_id."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = _User(user_id, first_name, username, last_name, language_code)
        else:
            user.first_name, user.username, user.last_name = first_name, username, last_name
            user.language_code = language_code
        chat = self._chats.get(user_id)
        if chat is not None:
            chat.first_name, chat.last_name, chat.username = first_name, last_name, username
        return user.to_json()

    def add_chat(
        self,
        chat_id: int,
        type: str,
        title: str,
        username: str | None = None,
        *,
        bot_status: str = "administrator",
    ) -> JSONDict:
        """A channel, group or supergroup. The bot starts as `bot_status` there (administrator by
        default, so sends work at once); `bot_added_to_chat` still reports it as newly added."""
        if type not in CHAT_TYPES:
            raise ValueError(f"chat type must be one of {CHAT_TYPES}, not {type!r}")
        if chat_id in self._chats or chat_id in self._users:
            raise ValueError(f"chat {chat_id} exists already")
        chat = self._chats[chat_id] = _Chat(chat_id, type, title, username.lstrip("@") if username else None)
        self._set_status(chat, self._bot_id, bot_status, None)
        self._changed()
        return chat.to_json()

    def set_member(self, chat_id: int, user_id: int, status: str, *, rights: Mapping[str, bool] | None = None) -> None:
        """Set someone's status in a chat (no update is sent); `rights` override administrator
        rights. For the bot itself use `bot_id`."""
        chat = self._require_group_chat(chat_id)
        if user_id != self._bot_id:
            self._ensure_user(user_id)
        self._set_status(chat, user_id, status, rights)
        self._changed()

    def send_text(self, user_id: int, text: str, *, chat_id: int | None = None) -> JSONDict:
        """The person sends a text (to their private chat with the bot, or to `chat_id`). A text
        starting with "/" gets a bot_command entity. Returns the Message."""
        user = self._ensure_user(user_id)
        chat = self._person_chat(user, chat_id)
        entities: list[JSONDict] = []
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))})
        message = self._new_message(chat, kind="text", from_user=user, text=text, entities=entities, raw=text)
        return self._deliver(chat, message)

    def send_photo(
        self,
        user_id: int,
        data: bytes = SAMPLE_JPEG,
        caption: str | None = None,
        media_group_id: str | None = None,
        *,
        chat_id: int | None = None,
        file_size: int | None = None,
    ) -> JSONDict:
        """The person sends a photo; its bytes are kept under new file_ids (2 sizes). `file_size`
        declares the largest size's size in bytes (getFile refuses a file over 20 MB)."""
        user = self._ensure_user(user_id)
        chat = self._person_chat(user, chat_id)
        sizes = self._store_photo(data, file_size)
        message = self._new_message(
            chat, kind="photo", from_user=user, photo=sizes, caption=caption, raw=caption, media_group_id=media_group_id
        )
        return self._deliver(chat, message)

    def send_album(
        self,
        user_id: int,
        images: Sequence[bytes],
        captions: Sequence[str | None] | None = None,
        *,
        chat_id: int | None = None,
        file_sizes: Sequence[int | None] | None = None,
    ) -> list[JSONDict]:
        """The person sends an album: one message per image, sharing a fresh media_group_id,
        each its own update, back to back. `file_sizes` declares sizes as `send_photo` does."""
        if not 1 <= len(images) <= 10:
            raise ValueError("an album holds 1 to 10 photos")
        captions = list(captions) if captions is not None else [None] * len(images)
        sizes = list(file_sizes) if file_sizes is not None else [None] * len(images)
        if len(captions) != len(images) or len(sizes) != len(images):
            raise ValueError("one caption (or None) and one size (or None) per image")
        group_id = str(next(self._media_group_numbers)) if len(images) > 1 else None
        return [
            self.send_photo(user_id, data, caption, group_id, chat_id=chat_id, file_size=size)
            for data, caption, size in zip(images, captions, sizes, strict=True)
        ]

    def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        file_size: int | None = None,
    ) -> JSONDict:
        """The person sends a file as a document; `file_size` declares its size in bytes."""
        user = self._ensure_user(user_id)
        chat = self._person_chat(user, chat_id)
        document = self._store_document(data, file_name, None, file_size)
        message = self._new_message(
            chat, kind="document", from_user=user, document=document, caption=caption, raw=caption
        )
        return self._deliver(chat, message)

    def send_sticker(self, user_id: int, *, chat_id: int | None = None) -> JSONDict:
        """The person sends a sticker."""
        user = self._ensure_user(user_id)
        chat = self._person_chat(user, chat_id)
        stored = self._store_file("sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 sticker", "webp", None, "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
            "set_name": "HeraldTestStickers",
            "file_size": len(stored.data),
        }
        message = self._new_message(chat, kind="sticker", from_user=user, sticker=sticker)
        return self._deliver(chat, message)

    def press(
        self,
        user_id: int,
        message_id: int,
        data: str,
        chat_id: int | None = None,
        *,
        inaccessible: bool = False,
    ) -> str:
        """The person presses an inline button carrying `data` under a bot message (forged data
        welcome). `message` is that message as it is now; for a message that does not exist, a
        minimal one (or an InaccessibleMessage with date 0 if `inaccessible`). Returns the query id."""
        user = self._ensure_user(user_id)
        chat = self._person_chat(user, chat_id)
        stored = self._messages.get(chat.id, {}).get(message_id)
        message: JSONDict
        if inaccessible:
            message = {"chat": chat.to_json(), "message_id": message_id, "date": 0}
        elif stored is None or stored.deleted:
            message = {"message_id": message_id, "date": int(time.time()), "chat": chat.to_json()}
            if chat.type != "channel":
                message["from"] = self.bot_user
        else:
            message = self._message_json(stored)
        query_id = f"{self._bot_id % 10_000_000}{next(self._query_numbers):09d}"
        self._open_queries.add(query_id)
        self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_json(),
                "message": message,
                "chat_instance": str(-(abs(chat.id) * 7919 + 1) % 10**18),
                "data": data,
            },
        )
        return query_id

    def press_button(
        self, user_id: int, text: str, *, chat_id: int | None = None, message_id: int | None = None
    ) -> str:
        """Press the button labelled `text` (exact, else the only one containing it, ignoring
        case) on the newest visible bot message that has it (or on `message_id`)."""
        user = self._ensure_user(user_id)
        chat = self._person_chat(user, chat_id)
        candidates = [
            m
            for m in reversed(list(self._messages.get(chat.id, {}).values()))
            if m.from_bot
            and not m.deleted
            and _inline_keyboard(m.reply_markup)
            and (message_id is None or m.message_id == message_id)
        ]
        seen: list[str] = []
        for message in candidates:
            buttons = (
                [b for row in message.reply_markup["inline_keyboard"] for b in row] if message.reply_markup else []
            )
            seen.extend(str(b.get("text")) for b in buttons)
            exact = [b for b in buttons if b.get("text") == text]
            loose = [b for b in buttons if text.lower() in str(b.get("text", "")).lower()]
            chosen = exact[:1] or (loose if len(loose) == 1 else [])
            if chosen:
                button = chosen[0]
                if "callback_data" not in button:
                    raise AssertionError(f"button {button.get('text')!r} is not a callback button: {button}")
                return self.press(user_id, message.message_id, str(button["callback_data"]), chat.id)
        raise AssertionError(f"no button {text!r} in chat {chat.id}; visible buttons: {seen}")

    def bot_added_to_chat(
        self,
        chat_id: int,
        by_user_id: int,
        status: str = "administrator",
        *,
        rights: Mapping[str, bool] | None = None,
    ) -> JSONDict:
        """`by_user_id` adds the bot to the chat (as administrator by default): a my_chat_member
        update (plus a new_chat_members message in groups). The person is made an administrator
        of the chat if they were not one (only administrators can add administrators). Returns the
        ChatMemberUpdated."""
        chat = self._require_group_chat(chat_id)
        if status not in ("member", "administrator"):
            raise ValueError("the bot is added as 'member' or 'administrator'")
        actor = self._ensure_user(by_user_id)
        actor_status = chat.members.get(actor.id, _Member("left")).status
        if actor_status not in ("creator", "administrator"):
            has_creator = any(m.status == "creator" for m in chat.members.values())
            self._set_status(chat, actor.id, "administrator" if has_creator else "creator", None)
        old = copy.deepcopy(self._bot_member(chat))
        if old.status == status:
            old = _Member("left")
        self._set_status(chat, self._bot_id, status, rights)
        update = self._chat_member_updated(chat, actor.to_json(), self.bot_user, old, self._bot_member(chat))
        self._enqueue("my_chat_member", update)
        if chat.type != "channel":
            service = self._new_message(
                chat, kind="service", from_user=actor, service={"new_chat_members": [self.bot_user]}
            )
            self._deliver(chat, service)
        return update

    def bot_removed_from_chat(self, chat_id: int, by_user_id: int, status: str = "kicked") -> JSONDict:
        """`by_user_id` removes the bot ("kicked" or "left"): a my_chat_member update; later sends
        there fail with 403. Returns the ChatMemberUpdated."""
        chat = self._require_group_chat(chat_id)
        if status not in ("kicked", "left"):
            raise ValueError("the bot is removed as 'kicked' or 'left'")
        actor = self._ensure_user(by_user_id)
        old = copy.deepcopy(self._bot_member(chat))
        self._set_status(chat, self._bot_id, status, None)
        update = self._chat_member_updated(chat, actor.to_json(), self.bot_user, old, self._bot_member(chat))
        self._enqueue("my_chat_member", update)
        return update

    def block_bot(self, user_id: int) -> JSONDict:
        """The person blocks the bot: my_chat_member (member → kicked); sends fail with 403."""
        return self._set_blocked(user_id, True)

    def unblock_bot(self, user_id: int) -> JSONDict:
        """The person unblocks the bot: my_chat_member (kicked → member)."""
        return self._set_blocked(user_id, False)

    def upgrade_to_supergroup(self, chat_id: int, new_chat_id: int, *, by_user_id: int | None = None) -> JSONDict:
        """The group becomes a supergroup with `new_chat_id`: sends to the old id fail with
        migrate_to_chat_id; the bot (if a member) gets the two migration service messages.
        Returns the old group's migrate_to_chat_id message."""
        old = self._require_group_chat(chat_id)
        if old.type != "group":
            raise ValueError("only a basic group can be upgraded")
        if new_chat_id in self._chats:
            raise ValueError(f"chat {new_chat_id} exists already")
        new = _Chat(new_chat_id, "supergroup", old.title, old.username, members=copy.deepcopy(old.members))
        self._chats[new_chat_id] = new
        actor = self._users.get(by_user_id) if by_user_id is not None else None
        if actor is None:
            creators = [uid for uid, m in old.members.items() if m.status == "creator" and uid in self._users]
            actor = self._users[creators[0]] if creators else None
        to_old = self._new_message(old, kind="service", from_user=actor, service={"migrate_to_chat_id": new_chat_id})
        to_new = self._new_message(new, kind="service", from_user=actor, service={"migrate_from_chat_id": chat_id})
        result = self._deliver(old, to_old)
        self._deliver(new, to_new)
        old.migrated_to = new_chat_id
        self._changed()
        return result

    # -- Fault injection ---------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` (only those for `chat_id`, if given) answer this
        error, without any effect. 429 carries parameters.retry_after (default 1)."""
        parameters: JSONDict = {}
        if error_code == 429:
            retry_after = retry_after if retry_after is not None else 1
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error")
        error = BotAPIError(error_code, description, parameters or None)
        self._faults.append(_Fault(self._canonical(method), error, chat_id, times))

    def delay(self, method: str, seconds: float, times: int = 1, *, before: bool = False) -> None:
        """Hold the answer of the next `times` calls of `method` for `seconds`. By default the call
        takes effect first (a message is posted, then the answer is late: a client that times out
        has sent it without knowing); with `before=True` nothing happens until the wait is over
        (and nothing at all if the client hangs up)."""
        self._delays.append(_Delay(self._canonical(method), seconds, times, before))

    def start_outage(
        self,
        *,
        error_code: int = 500,
        description: str | None = None,
        methods: Iterable[str] | None = None,
        chats: Callable[[int | str], bool] | None = None,
    ) -> None:
        """From now until `end_outage`, every call of `methods` (all methods when None) — only
        those for a chat `chats` accepts, if given — answers this error, without any effect, the
        way Telegram answers while it is down (e.g. 500 Internal Server Error, 502 Bad Gateway)."""
        error = BotAPIError(error_code, description or _DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error"))
        wanted = None if methods is None else frozenset(self._canonical(method) for method in methods)
        self._outage = (error, wanted, chats)
        self.outage_answers = 0

    def end_outage(self) -> None:
        self._outage = None

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()
        self._outage = None

    # -- Reading back ------------------------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = True) -> list[JSONDict]:
        """Every message in the chat, in order (the bot's and people's), as records of their
        current state: message_id, from_bot, kind, text, entities, caption, raw (as sent, before
        parse_mode), photo (largest file_id), photo_sizes, document, media_group_id, reply_markup,
        buttons (rows of texts), deleted, edit_date, history (earlier versions), message (the Bot
        API dict)."""
        return [self._record(m) for m in self._messages.get(chat_id, {}).values() if include_deleted or not m.deleted]

    def bot_messages(self, chat_id: int, *, include_deleted: bool = True) -> list[JSONDict]:
        """The bot's messages in the chat (records as in `messages`)."""
        return [r for r in self.messages(chat_id, include_deleted=include_deleted) if r["from_bot"]]

    def last_bot_message(self, chat_id: int) -> JSONDict | None:
        """The newest bot message in the chat that is not deleted, or None."""
        visible = self.bot_messages(chat_id, include_deleted=False)
        return visible[-1] if visible else None

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        stored = self._messages.get(chat_id, {}).get(message_id)
        return self._record(stored) if stored else None

    def calls_of(self, method: str) -> list[Call]:
        name = self._canonical(method)
        return [c for c in self.calls if c.method == name]

    def file_bytes(self, file_id: str) -> bytes:
        stored = self._files.get(file_id)
        if stored is None:
            raise KeyError(f"no file {file_id!r}")
        return stored.data

    @property
    def commands(self) -> list[JSONDict]:
        """The list given by the last setMyCommands (as it stands now)."""
        if self._last_commands_key is None:
            return []
        return copy.deepcopy(self._command_sets.get(self._last_commands_key, []))

    def commands_for(self, scope: Mapping[str, Any] | None = None, language_code: str = "") -> list[JSONDict]:
        return copy.deepcopy(self._command_sets.get(self._commands_key(scope, language_code), []))

    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    def chat_member_status(self, chat_id: int, user_id: int) -> str:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise KeyError(f"no chat {chat_id}")
        return chat.members.get(user_id, _Member("left")).status

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, *, what: str | None = None) -> Any:
        """Wait until `predicate()` is truthy and return its value; AssertionError with a dump of
        recent calls and chats after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self.dump(f"condition {what or predicate!r} not met within {timeout} s"))
            signal = self._state_signal
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), min(remaining, 0.05))

    def dump(self, headline: str = "FakeBotAPI state") -> str:
        """A readable summary of recent calls, chats and their messages."""
        lines = [headline, "recent calls:"]
        for call in self.calls[-25:]:
            params = {k: v for k, v in call.params.items() if k not in ("reply_markup",)}
            lines.append(f"  +{call.at - self._started_at:7.3f}s {call.method} {_short(params, 160)}")
        if not self.calls:
            lines.append("  (none)")
        lines.append("messages:")
        for chat_id, messages in self._messages.items():
            chat = self._chats.get(chat_id)
            lines.append(f"  chat {chat_id} ({chat.type if chat else '?'}):")
            for m in list(messages.values())[-15:]:
                who = "bot" if m.from_bot else f"user {m.from_user_id}"
                body = m.text if m.text is not None else (m.caption or "")
                flags = (" [deleted]" if m.deleted else "") + (" [edited]" if m.edit_date else "")
                buttons = _button_texts(m.reply_markup)
                extra = f" buttons={buttons}" if buttons else ""
                group = f" group={m.media_group_id}" if m.media_group_id else ""
                lines.append(f"    #{m.message_id} {who} {m.kind}{group}: {_short(body, 100)}{extra}{flags}")
        lines.append(f"pending updates: {len(self._updates)}; 429s given: {self.rate_limited}")
        return "\n".join(lines)

    # -- HTTP ----------------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self._token:
            return _error_response(BotAPIError(401, "Unauthorized"))
        raw_name = request.match_info["method"]
        entry = self._methods.get(raw_name.lower())
        name = entry[0] if entry else raw_name
        try:
            values, uploads = await self._read_params(request)
        except BotAPIError as exc:
            self._record_call(name, {})
            return self._error(exc)
        summary = dict(values)
        for key, upload in uploads.items():
            summary[key] = upload.summary()
        self._record_call(name, summary)
        if entry is None:
            return self._error(BotAPIError(404, "Not Found: method not found"))
        fault = self._take_fault(name, values.get("chat_id"))
        hold = self._take_delay(name)
        if hold is not None and hold.before:
            await asyncio.sleep(hold.seconds)
        response: web.StreamResponse
        try:
            if fault is not None:
                raise fault
            result = await entry[1](_Params(values, uploads))
        except BotAPIError as exc:
            response = self._error(exc)
        else:
            response = web.json_response({"ok": True, "result": result})
        finally:
            self._changed()
        if hold is not None and not hold.before:
            await asyncio.sleep(hold.seconds)
        return response

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self._token:
            return _error_response(BotAPIError(401, "Unauthorized"))
        path = request.match_info["path"]
        stored = self._files_by_path.get(path)
        if stored is None:
            return _error_response(BotAPIError(404, "Not Found"))
        self.downloads.append(path)
        self._changed()
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, Upload]]:
        raw: JSONDict = dict(request.query)
        uploads: dict[str, Upload] = {}
        content_type = request.content_type
        if request.body_exists:
            if content_type == "application/json":
                body = await request.read()
                if body.strip():
                    try:
                        data = json.loads(body)
                    except ValueError:
                        raise _bad_request("can't parse JSON encoded request") from None
                    if not isinstance(data, dict):
                        raise _bad_request("JSON object expected")
                    raw.update(data)
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        data_bytes = value.file.read()
                        uploads[key] = Upload(key, value.filename or key, data_bytes, value.content_type)
                    elif isinstance(value, (bytes, bytearray)):
                        uploads[key] = Upload(key, key, bytes(value), "application/octet-stream")
                    else:
                        raw[key] = value
        return {key: _decode_value(key, value) for key, value in raw.items()}, uploads

    def _error(self, error: BotAPIError) -> web.Response:
        if error.error_code == 429:
            self.rate_limited += 1
        return _error_response(error)

    def _record_call(self, method: str, params: JSONDict) -> None:
        self.calls.append(Call(method, params, time.monotonic()))

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        return entry[0] if entry else method

    def _take_fault(self, method: str, chat_ref: Any) -> BotAPIError | None:
        if self._outage is not None:
            error, methods, chats = self._outage
            if (methods is None or method in methods) and (chats is None or (chat_ref is not None and chats(chat_ref))):
                self.outage_answers += 1
                return error
        for fault in self._faults:
            if fault.method != method:
                continue
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_ref):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault.error
        return None

    def _take_delay(self, method: str) -> _Delay | None:
        for hold in self._delays:
            if hold.method == method:
                hold.remaining -= 1
                if hold.remaining <= 0:
                    self._delays.remove(hold)
                return hold
        return None

    # -- Signals and updates -----------------------------------------------------------------------

    def _changed(self) -> None:
        self._state_signal.set()
        self._state_signal = asyncio.Event()

    def _notify_updates(self) -> None:
        self._updates_signal.set()
        self._updates_signal = asyncio.Event()

    def _enqueue(self, kind: str, payload: JSONDict) -> int | None:
        allowed = self._allowed_updates if self._allowed_updates is not None else DEFAULT_UPDATE_TYPES
        if kind not in allowed:
            return None
        update_id = next(self._update_ids)
        self._updates.append((update_id, {"update_id": update_id, kind: copy.deepcopy(payload)}))
        self._notify_updates()
        self._changed()
        return update_id

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
            return
        while self._updates and self._updates[0][0] < offset:
            self._updates.popleft()

    # -- Helpers: users, chats, members --------------------------------------------------------------

    def _ensure_user(self, user_id: int) -> _User:
        if user_id not in self._users:
            self.add_user(user_id)
        return self._users[user_id]

    def _private_chat(self, user: _User) -> _Chat:
        chat = self._chats.get(user.id)
        if chat is None:
            chat = _Chat(
                user.id, "private", first_name=user.first_name, last_name=user.last_name, username=user.username
            )
            self._chats[user.id] = chat
        return chat

    def _person_chat(self, user: _User, chat_id: int | None) -> _Chat:
        if chat_id is None or chat_id == user.id:
            return self._private_chat(user)
        chat = self._chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise ValueError(f"no group or channel {chat_id}; add_chat() it first")
        return chat

    def _require_group_chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise ValueError(f"no group or channel {chat_id}; add_chat() it first")
        return chat

    def _bot_member(self, chat: _Chat) -> _Member:
        return chat.members.get(self._bot_id, _Member("left"))

    def _default_rights(self, chat: _Chat) -> dict[str, bool]:
        rights = {
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": True,
            "can_edit_stories": True,
            "can_delete_stories": True,
        }
        if chat.type == "channel":
            rights.update(can_post_messages=True, can_edit_messages=True)
        else:
            rights["can_pin_messages"] = True
        if chat.type == "supergroup":
            rights["can_manage_topics"] = False
        return rights

    def _set_status(self, chat: _Chat, user_id: int, status: str, rights: Mapping[str, bool] | None) -> None:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}, not {status!r}")
        member = _Member(status)
        if status == "administrator":
            member.rights = self._default_rights(chat) | dict(rights or {})
        chat.members[user_id] = member

    def _user_json(self, user_id: int) -> JSONDict:
        if user_id == self._bot_id:
            return self.bot_user
        user = self._users.get(user_id)
        return user.to_json() if user else {"id": user_id, "is_bot": False, "first_name": "User"}

    def _member_json(self, chat: _Chat, user: JSONDict, member: _Member) -> JSONDict:
        data: JSONDict = {"status": member.status, "user": dict(user)}
        if member.status == "creator":
            data["is_anonymous"] = False
        elif member.status == "administrator":
            data.update(member.rights)
        elif member.status == "kicked":
            data["until_date"] = 0
        return data

    def _chat_member_updated(
        self, chat: _Chat, actor: JSONDict, subject: JSONDict, old: _Member, new: _Member
    ) -> JSONDict:
        return {
            "chat": chat.to_json(),
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": self._member_json(chat, subject, old),
            "new_chat_member": self._member_json(chat, subject, new),
        }

    def _set_blocked(self, user_id: int, blocked: bool) -> JSONDict:
        user = self._ensure_user(user_id)
        chat = self._private_chat(user)
        user.blocked_bot = blocked
        old, new = (_Member("member"), _Member("kicked")) if blocked else (_Member("kicked"), _Member("member"))
        update = self._chat_member_updated(chat, user.to_json(), self.bot_user, old, new)
        self._enqueue("my_chat_member", update)
        return update

    def _find_chat(self, ref: int | str) -> _Chat | None:
        if isinstance(ref, int):
            chat = self._chats.get(ref)
            if chat is None and ref in self._users:
                chat = self._private_chat(self._users[ref])
            return chat
        name = ref.strip()
        if _INT_RE.match(name):
            return self._find_chat(int(name))
        if name.startswith("@"):
            wanted = name[1:].lower()
            for chat in self._chats.values():
                if chat.type != "private" and chat.username and chat.username.lower() == wanted:
                    return chat
        return None

    def _chat_for(self, ref: int | str, *, send: bool) -> _Chat:
        """The chat, if the bot may act there (send=True: may post), else the Bot API's error."""
        chat = self._find_chat(ref)
        if chat is None:
            raise _bad_request("chat not found")
        if chat.migrated_to is not None:
            raise BotAPIError(400, UPGRADED, {"migrate_to_chat_id": chat.migrated_to})
        if chat.type == "private":
            if send and self._users[chat.id].blocked_bot:
                raise _forbidden("bot was blocked by the user")
            return chat
        member = self._bot_member(chat)
        if member.status == "kicked":
            raise _forbidden(f"bot was kicked from the {chat.type} chat")
        if member.status == "left":
            raise _forbidden(f"bot is not a member of the {chat.type} chat")
        if send and chat.type == "channel":
            may_post = member.status == "creator" or (
                member.status == "administrator" and member.rights.get("can_post_messages", True)
            )
            if not may_post:
                raise _bad_request("need administrator rights in the channel chat")
        return chat

    # -- Helpers: files ------------------------------------------------------------------------------

    def _store_file(
        self,
        kind: str,
        data: bytes,
        extension: str,
        file_name: str | None,
        mime_type: str | None,
        declared_size: int | None = None,
    ) -> _File:
        number = next(self._file_numbers)
        prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC"}.get(kind, "BAAC")
        file_id = f"{prefix}AgIAAxkBAAI{number:06d}{secrets.token_hex(8)}"
        unique = f"AQAD{number:06d}{secrets.token_hex(4)}"
        folder = {"photo": "photos", "document": "documents", "sticker": "stickers"}.get(kind, "files")
        path = f"{folder}/file_{number}.{extension}"
        stored = _File(file_id, unique, kind, data, path, file_name, mime_type, declared_size)
        self._files[file_id] = stored
        self._files_by_path[path] = stored
        return stored

    def _store_photo(self, data: bytes, declared_size: int | None = None) -> list[JSONDict]:
        if not data:
            raise _bad_request("file must be non-empty")
        width, height = image_size(data) or (800, 600)
        extension = _image_extension(data)
        mime = mimetypes.types_map.get(f".{extension}", "image/jpeg")
        sizes: list[JSONDict] = []
        largest = declared_size if declared_size is not None else len(data)
        for side, size in ((90, max(1, largest // 20)), (1280, largest)):
            scale = min(1.0, side / max(width, height, 1))
            declared = size if declared_size is not None else None
            stored = self._store_file("photo", data, extension, None, mime, declared)
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                    "file_size": size,
                }
            )
        for size_entry in sizes:
            self._photo_sizes[size_entry["file_id"]] = sizes
        return copy.deepcopy(sizes)

    def _store_document(
        self, data: bytes, file_name: str, mime_type: str | None, declared_size: int | None = None
    ) -> JSONDict:
        if not data:
            raise _bad_request("file must be non-empty")
        mime = mime_type if mime_type and mime_type != "application/octet-stream" else None
        mime = mime or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        extension = file_name.rpartition(".")[2] if "." in file_name else "bin"
        stored = self._store_file("document", data, extension, file_name, mime, declared_size)
        return {
            "file_name": file_name,
            "mime_type": mime,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }

    def _photo_from(self, source: Upload | str) -> list[JSONDict]:
        if isinstance(source, Upload):
            return self._store_photo(source.data)
        if source.startswith(("http://", "https://")):
            raise _bad_request("failed to get HTTP URL content")
        stored = self._files.get(source)
        if stored is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != "photo":
            raise _bad_request("type of file mismatch")
        return copy.deepcopy(self._photo_sizes[source])

    def _document_from(self, source: Upload | str) -> JSONDict:
        if isinstance(source, Upload):
            return self._store_document(source.data, source.filename, source.content_type)
        if source.startswith(("http://", "https://")):
            raise _bad_request("failed to get HTTP URL content")
        stored = self._files.get(source)
        if stored is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != "document":
            raise _bad_request("type of file mismatch")
        return {
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }

    # -- Helpers: messages ---------------------------------------------------------------------------

    def _new_message(self, chat: _Chat, *, kind: str, from_user: _User | None = None, **fields: Any) -> _Message:
        message = _Message(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            date=int(time.time()),
            kind=kind,
            from_bot=from_user is None and kind != "service",
            from_user_id=from_user.id if from_user else None,
            **fields,
        )
        chat.next_message_id += 1
        self._messages.setdefault(chat.id, {})[message.message_id] = message
        self._changed()
        return message

    def _deliver(self, chat: _Chat, message: _Message) -> JSONDict:
        """Send a person's message to the bot as an update, if the bot is there to see it."""
        data = self._message_json(message)
        if chat.type == "private":
            self._enqueue("message", data)
        elif self._bot_member(chat).status in ("creator", "administrator", "member"):
            self._enqueue("channel_post" if chat.type == "channel" else "message", data)
        return data

    def _message_json(self, message: _Message, *, with_reply: bool = True) -> JSONDict:
        chat = self._chats[message.chat_id]
        data: JSONDict = {"message_id": message.message_id}
        if chat.type == "channel":
            data["sender_chat"] = chat.to_json()
        elif message.from_bot:
            data["from"] = self.bot_user
        elif message.from_user_id is not None:
            data["from"] = self._user_json(message.from_user_id)
        data["chat"] = chat.to_json()
        data["date"] = message.date
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.media_group_id:
            data["media_group_id"] = message.media_group_id
        if with_reply and message.reply_to_message_id is not None:
            target = self._messages.get(message.chat_id, {}).get(message.reply_to_message_id)
            if target is not None:
                data["reply_to_message"] = self._message_json(target, with_reply=False)
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = copy.deepcopy(message.entities)
        if message.photo is not None:
            data["photo"] = copy.deepcopy(message.photo)
        if message.document is not None:
            data["document"] = dict(message.document)
        if message.sticker is not None:
            data["sticker"] = dict(message.sticker)
        if message.caption:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = copy.deepcopy(message.caption_entities)
        data.update(copy.deepcopy(message.service))
        markup = _inline_keyboard(message.reply_markup)
        if markup is not None:
            data["reply_markup"] = copy.deepcopy(markup)
        return data

    def _record(self, message: _Message) -> JSONDict:
        largest = message.photo[-1]["file_id"] if message.photo else None
        return {
            "chat_id": message.chat_id,
            "message_id": message.message_id,
            "date": message.date,
            "from_bot": message.from_bot,
            "from_user_id": message.from_user_id,
            "kind": message.kind,
            "text": message.text,
            "entities": copy.deepcopy(message.entities),
            "caption": message.caption,
            "caption_entities": copy.deepcopy(message.caption_entities),
            "raw": message.raw,
            "parse_mode": message.parse_mode,
            "photo": largest,
            "photo_sizes": copy.deepcopy(message.photo) if message.photo else [],
            "document": dict(message.document) if message.document else None,
            "sticker": dict(message.sticker) if message.sticker else None,
            "media_group_id": message.media_group_id,
            "reply_markup": copy.deepcopy(message.reply_markup),
            "buttons": _button_texts(message.reply_markup),
            "reply_to_message_id": message.reply_to_message_id,
            "service": copy.deepcopy(message.service),
            "deleted": message.deleted,
            "edit_date": message.edit_date,
            "history": copy.deepcopy(message.history),
            "message": self._message_json(message),
        }

    def _formatted(self, text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JSONDict]]:
        return format_text(text, parse_mode, entities)

    def _caption(self, raw: str | None, parse_mode: str | None, entities: Any) -> tuple[str | None, list[JSONDict]]:
        if raw is None or raw == "":
            return None, []
        caption, caption_entities = format_text(raw, parse_mode, entities)
        if utf16_len(caption) > CAPTION_LIMIT:
            raise BotAPIError(400, CAPTION_TOO_LONG)
        return (caption or None), caption_entities

    def _markup(self, params: _Params, *, inline_only: bool = False) -> JSONDict | None:
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("object expected as reply markup")
        if "inline_keyboard" not in markup:
            if inline_only:
                raise _bad_request("inline keyboard expected")
            return dict(markup)
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad_request("can't parse inline keyboard button: Text must be a String")
                actions = [key for key in BUTTON_ACTIONS if key in button]
                if not actions:
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if "callback_data" in button and (
                    not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT
                ):
                    raise _bad_request("BUTTON_DATA_INVALID")
        if not rows:
            return None
        return copy.deepcopy(markup)

    def _reply_to(self, chat: _Chat, params: _Params) -> int | None:
        reply = params.get("reply_parameters")
        target: int | None
        allow_missing = params.flag("allow_sending_without_reply")
        if isinstance(reply, dict):
            value = reply.get("message_id")
            target = value if isinstance(value, int) else None
            allow_missing = allow_missing or reply.get("allow_sending_without_reply") is True
        else:
            target = params.opt_int("reply_to_message_id")
        if target is None:
            return None
        stored = self._messages.get(chat.id, {}).get(target)
        if stored is None or stored.deleted:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return target

    def _take_rate(self, chat: _Chat, count: int) -> None:
        if not self.enforce_limits:
            return
        now = time.monotonic()
        limits = self.limits
        windows: list[tuple[deque[float], int, float]] = [(self._rate_global, limits.per_bot, limits.per_bot_window)]
        chat_times = self._rate_chats.setdefault(chat.id, deque())
        if chat.type == "private":
            windows.append((chat_times, limits.per_private, limits.per_private_window))
        else:
            windows.append((chat_times, limits.per_group, limits.per_group_window))
        wait = 0.0
        for times, limit, window in windows:
            while times and times[0] <= now - window:
                times.popleft()
            if times and len(times) + count > limit:
                must_expire = min(len(times) - 1, len(times) + count - limit - 1)
                wait = max(wait, times[must_expire] + window - now)
        if wait > 0:
            raise _too_many_requests(max(1, math.ceil(wait)))
        for times, _, _ in windows:
            times.extend([now] * count)

    def _editable(self, params: _Params) -> tuple[_Chat, _Message]:
        if params.has("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat = self._chat_for(params.chat_ref(), send=False)
        message_id = params.req_int("message_id", "message identifier is not specified")
        message = self._messages.get(chat.id, {}).get(message_id)
        if message is None or message.deleted:
            raise BotAPIError(400, EDIT_NOT_FOUND)
        if not message.from_bot:
            raise _bad_request("message can't be edited")
        return chat, message

    def _apply_edit(self, message: _Message, **changes: Any) -> JSONDict:
        message.history.append(message.content())
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = int(time.time())
        return self._message_json(message)

    # -- Methods -------------------------------------------------------------------------------------

    async def _true(self, params: _Params) -> bool:
        return True

    async def _get_me(self, params: _Params) -> JSONDict:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_webhook(self, params: _Params) -> bool:
        self._webhook_url = params.req_str("url")
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: _Params) -> bool:
        self._webhook_url = ""
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: _Params) -> JSONDict:
        return {"url": self._webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _get_updates(self, params: _Params) -> list[JSONDict]:
        if self._webhook_url:
            raise BotAPIError(409, WEBHOOK_CONFLICT)
        offset = params.opt_int("offset")
        limit = max(1, min(100, params.opt_int("limit") or 100))
        timeout = max(0.0, params.opt_float("timeout") or 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(str(kind) for kind in allowed) if allowed else None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_updates()  # an older long poll still waiting ends with 409 Conflict
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise BotAPIError(409, GET_UPDATES_CONFLICT)
            if self._updates:
                return [copy.deepcopy(update) for _, update in list(self._updates)[:limit]]
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return []
            signal = self._updates_signal
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining)

    async def _send_message(self, params: _Params) -> JSONDict:
        chat = self._chat_for(params.chat_ref(), send=True)
        raw = params.opt_str("text")
        if raw is None or not raw.strip():
            raise BotAPIError(400, TEXT_EMPTY)
        parse_mode = params.opt_str("parse_mode")
        text, entities = self._formatted(raw, parse_mode, params.get("entities"))
        if not text.strip():
            raise BotAPIError(400, TEXT_EMPTY)
        if utf16_len(text) > TEXT_LIMIT:
            raise BotAPIError(400, TOO_LONG)
        markup = self._markup(params)
        reply_to = self._reply_to(chat, params)
        self._take_rate(chat, 1)
        message = self._new_message(
            chat,
            kind="text",
            text=text,
            entities=entities,
            raw=raw,
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return self._message_json(message)

    async def _send_photo(self, params: _Params) -> JSONDict:
        chat = self._chat_for(params.chat_ref(), send=True)
        source = params.file_input("photo")
        if source is None:
            raise _bad_request('parameter "photo" is required')
        raw = params.opt_str("caption")
        parse_mode = params.opt_str("parse_mode")
        caption, caption_entities = self._caption(raw, parse_mode, params.get("caption_entities"))
        markup = self._markup(params)
        reply_to = self._reply_to(chat, params)
        sizes = self._photo_from(source)
        self._take_rate(chat, 1)
        message = self._new_message(
            chat,
            kind="photo",
            photo=sizes,
            caption=caption,
            caption_entities=caption_entities,
            raw=raw,
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return self._message_json(message)

    async def _send_document(self, params: _Params) -> JSONDict:
        chat = self._chat_for(params.chat_ref(), send=True)
        source = params.file_input("document")
        if source is None:
            raise _bad_request('parameter "document" is required')
        raw = params.opt_str("caption")
        parse_mode = params.opt_str("parse_mode")
        caption, caption_entities = self._caption(raw, parse_mode, params.get("caption_entities"))
        markup = self._markup(params)
        reply_to = self._reply_to(chat, params)
        document = self._document_from(source)
        self._take_rate(chat, 1)
        message = self._new_message(
            chat,
            kind="document",
            document=document,
            caption=caption,
            caption_entities=caption_entities,
            raw=raw,
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return self._message_json(message)

    async def _send_media_group(self, params: _Params) -> list[JSONDict]:
        chat = self._chat_for(params.chat_ref(), send=True)
        media = params.get("media")
        if media is None or media == "":
            raise _bad_request('parameter "media" is required')
        if not isinstance(media, list):
            raise _bad_request("expected an Array of InputMedia")
        if not media:
            raise _bad_request("there are no messages to send")
        if len(media) > 10:
            raise _bad_request("too many messages to send as an album")
        if len(media) < 2:
            raise _bad_request("media group must contain 2-10 items")
        items: list[tuple[str, Upload | str, str | None, list[JSONDict], str | None, str | None]] = []
        for item in media:
            if not isinstance(item, dict):
                raise _bad_request("can't parse InputMedia: object expected")
            kind = item.get("type")
            if kind not in ("photo", "document"):
                raise _bad_request(f'can\'t parse InputMedia: type "{kind}" is not supported by the fake Bot API')
            reference = item.get("media")
            if not isinstance(reference, str) or not reference:
                raise _bad_request("can't parse InputMedia: media not found")
            source: Upload | str = reference
            if reference.startswith("attach://"):
                upload = params.uploads.get(reference[len("attach://") :])
                if upload is None:
                    raise _bad_request("can't parse InputMedia: media not found")
                source = upload
            raw = item.get("caption")
            raw = str(raw) if raw is not None else None
            parse_mode = item.get("parse_mode")
            parse_mode = str(parse_mode) if parse_mode else None
            caption, caption_entities = self._caption(raw, parse_mode, item.get("caption_entities"))
            items.append((str(kind), source, caption, caption_entities, raw, parse_mode))
        kinds = {kind for kind, *_ in items}
        if len(kinds) > 1:
            raise _bad_request("document can't be mixed with other media types")
        reply_to = self._reply_to(chat, params)
        contents: list[JSONDict] = []
        for kind, source, *_ in items:
            contents.append(
                {"photo": self._photo_from(source)} if kind == "photo" else {"document": self._document_from(source)}
            )
        self._take_rate(chat, len(items))
        group_id = str(next(self._media_group_numbers))
        sent: list[JSONDict] = []
        for (kind, _, caption, caption_entities, raw, parse_mode), content in zip(items, contents, strict=True):
            message = self._new_message(
                chat,
                kind=kind,
                caption=caption,
                caption_entities=caption_entities,
                raw=raw,
                parse_mode=parse_mode,
                media_group_id=group_id,
                reply_to_message_id=reply_to,
                **content,
            )
            sent.append(self._message_json(message))
        return sent

    async def _send_chat_action(self, params: _Params) -> bool:
        chat = self._chat_for(params.chat_ref(), send=True)
        action = params.req_str("action")
        if action not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True

    async def _edit_message_text(self, params: _Params) -> JSONDict:
        _, message = self._editable(params)
        raw = params.opt_str("text")
        if raw is None or not raw.strip():
            raise BotAPIError(400, TEXT_EMPTY)
        if message.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        parse_mode = params.opt_str("parse_mode")
        text, entities = self._formatted(raw, parse_mode, params.get("entities"))
        if not text.strip():
            raise BotAPIError(400, TEXT_EMPTY)
        if utf16_len(text) > TEXT_LIMIT:
            raise _bad_request("MESSAGE_TOO_LONG")
        markup = self._markup(params, inline_only=True)
        if text == message.text and entities == message.entities and markup == _inline_keyboard(message.reply_markup):
            raise BotAPIError(400, NOT_MODIFIED)
        return self._apply_edit(
            message, text=text, entities=entities, raw=raw, parse_mode=parse_mode, reply_markup=markup
        )

    async def _edit_message_caption(self, params: _Params) -> JSONDict:
        _, message = self._editable(params)
        if message.kind not in ("photo", "document"):
            raise _bad_request("there is no caption in the message to edit")
        raw = params.opt_str("caption")
        parse_mode = params.opt_str("parse_mode")
        caption, caption_entities = self._caption(raw, parse_mode, params.get("caption_entities"))
        markup = self._markup(params, inline_only=True)
        if (
            caption == message.caption
            and caption_entities == message.caption_entities
            and markup == _inline_keyboard(message.reply_markup)
        ):
            raise BotAPIError(400, NOT_MODIFIED)
        return self._apply_edit(
            message,
            caption=caption,
            caption_entities=caption_entities,
            raw=raw,
            parse_mode=parse_mode,
            reply_markup=markup,
        )

    async def _edit_message_reply_markup(self, params: _Params) -> JSONDict:
        _, message = self._editable(params)
        markup = self._markup(params, inline_only=True)
        if markup == _inline_keyboard(message.reply_markup):
            raise BotAPIError(400, NOT_MODIFIED)
        return self._apply_edit(message, reply_markup=markup)

    def _delete_one(self, chat: _Chat, message_id: int) -> None:
        message = self._messages.get(chat.id, {}).get(message_id)
        if message is None or message.deleted:
            raise _bad_request("message to delete not found")
        if chat.type != "private" and not message.from_bot:
            member = self._bot_member(chat)
            allowed = member.status == "creator" or (
                member.status == "administrator" and member.rights.get("can_delete_messages", False)
            )
            if not allowed:
                raise _bad_request("message can't be deleted")
        message.deleted = True

    async def _delete_message(self, params: _Params) -> bool:
        chat = self._chat_for(params.chat_ref(), send=False)
        self._delete_one(chat, params.req_int("message_id", "message identifier is not specified"))
        return True

    async def _delete_messages(self, params: _Params) -> bool:
        chat = self._chat_for(params.chat_ref(), send=False)
        ids = params.get("message_ids")
        if isinstance(ids, str):
            try:
                ids = json.loads(ids)
            except ValueError:
                raise _bad_request("can't parse message identifiers JSON object") from None
        if not isinstance(ids, list) or not ids or len(ids) > 100:
            raise _bad_request("message identifiers are not specified")
        for message_id in ids:
            if isinstance(message_id, int):
                with contextlib.suppress(BotAPIError):
                    self._delete_one(chat, message_id)
        return True

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.req_str("callback_query_id")
        if query_id not in self._open_queries:
            raise BotAPIError(400, QUERY_TOO_OLD)
        self._open_queries.discard(query_id)
        self.callback_answers.append(dict(params.values))
        return True

    async def _get_file(self, params: _Params) -> JSONDict:
        file_id = params.req_str("file_id")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad_request("invalid file_id")
        # Telegram's answer for any file over the 20 MB a bot may download.
        if stored.size > DOWNLOAD_LIMIT:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    async def _get_chat(self, params: _Params) -> JSONDict:
        chat = self._chat_for(params.chat_ref(), send=False)
        info = chat.to_json() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.type in ("group", "supergroup"):
            info["permissions"] = {"can_send_messages": True}
        return info

    def _status_of(self, chat: _Chat, user_id: int) -> _Member:
        if chat.type == "private":
            return _Member("member" if user_id in (chat.id, self._bot_id) else "left")
        return chat.members.get(user_id, _Member("left"))

    async def _get_chat_member(self, params: _Params) -> JSONDict:
        chat = self._chat_for(params.chat_ref(), send=False)
        user_id = params.req_int("user_id", "invalid user_id specified")
        return self._member_json(chat, self._user_json(user_id), self._status_of(chat, user_id))

    async def _get_chat_administrators(self, params: _Params) -> list[JSONDict]:
        chat = self._chat_for(params.chat_ref(), send=False)
        if chat.type == "private":
            raise _bad_request("there are no administrators in the private chat")
        admins = [
            (user_id, member)
            for user_id, member in chat.members.items()
            if member.status in ("creator", "administrator")
        ]
        admins.sort(key=lambda pair: (pair[1].status != "creator", pair[0] == self._bot_id))
        return [self._member_json(chat, self._user_json(user_id), member) for user_id, member in admins]

    async def _get_chat_member_count(self, params: _Params) -> int:
        chat = self._chat_for(params.chat_ref(), send=False)
        if chat.type == "private":
            return 2
        return sum(1 for m in chat.members.values() if m.status in ("creator", "administrator", "member"))

    async def _leave_chat(self, params: _Params) -> bool:
        chat = self._chat_for(params.chat_ref(), send=False)
        if chat.type == "private":
            raise _bad_request("chat member status can't be changed in private chats")
        old = copy.deepcopy(self._bot_member(chat))
        self._set_status(chat, self._bot_id, "left", None)
        update = self._chat_member_updated(chat, self.bot_user, self.bot_user, old, self._bot_member(chat))
        self._enqueue("my_chat_member", update)
        return True

    def _commands_key(self, scope: Any, language_code: str | None) -> tuple[str, str]:
        scope_value = scope if isinstance(scope, dict) and scope else {"type": "default"}
        return json.dumps(scope_value, sort_keys=True), language_code or ""

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand: object expected")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name.lstrip("/")):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("command description is invalid")
            cleaned.append({"command": name.lstrip("/"), "description": description})
        key = self._commands_key(params.get("scope"), params.opt_str("language_code"))
        self._command_sets[key] = cleaned
        self._last_commands_key = key
        return True

    async def _get_my_commands(self, params: _Params) -> list[JSONDict]:
        key = self._commands_key(params.get("scope"), params.opt_str("language_code"))
        return copy.deepcopy(self._command_sets.get(key, []))

    async def _delete_my_commands(self, params: _Params) -> bool:
        key = self._commands_key(params.get("scope"), params.opt_str("language_code"))
        self._command_sets.pop(key, None)
        return True


def _error_response(error: BotAPIError) -> web.Response:
    status = error.error_code if 400 <= error.error_code <= 599 else 500
    return web.json_response(error.body(), status=status)


def _button_texts(markup: JSONDict | None) -> list[list[str]]:
    keyboard = _inline_keyboard(markup)
    if keyboard is None:
        return []
    return [[str(button.get("text", "")) for button in row] for row in keyboard["inline_keyboard"]]


def _short(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
