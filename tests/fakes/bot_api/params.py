"""A method's parameters as the Bot API reads them: form fields decoded (JSON, integers, booleans),
uploads by part name or ``attach://name``, and typed accessors that fail the way Telegram does."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.fakes.bot_api.errors import JSONDict, bad_request, unsupported

_JSON_FIELDS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "media": "can't parse media JSON object",
    "commands": "can't parse commands JSON object",
    "allowed_updates": "can't parse allowed updates JSON object",
    "scope": "can't parse JSON object",
    "link_preview_options": "Can't parse link preview options JSON object",
    # Telegram ignores entities it cannot parse; the fake refuses them, so a test sees the loss.
    "entities": "can't parse entities JSON object (Telegram would ignore them)",
    "caption_entities": "can't parse entities JSON object (Telegram would ignore them)",
    "message_ids": "can't parse message identifiers JSON object",
}
_INT_FIELDS = frozenset({"chat_id", "message_id", "offset", "limit", "user_id", "message_thread_id"})
_FLOAT_FIELDS = frozenset({"timeout"})
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "drop_pending_updates",
        "has_spoiler",
        "show_caption_above_media",
        "disable_notification",
        "protect_content",
    }
)
_INT_RE = re.compile(r"^[+-]?\d+$")
# Telegram reads these; the fake does not model them, so it refuses them rather than ignore them.
_UNMODELLED_FIELDS = ("reply_parameters", "reply_to_message_id", "inline_message_id", "thumbnail", "cover")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    data: bytes

    def summary(self) -> JSONDict:
        return {"upload": self.filename, "size": len(self.data)}


def decode_value(name: str, value: Any) -> Any:
    """Turn a form field's text into what the Bot API reads it as (JSON, integer, boolean...)."""
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(_JSON_FIELDS[name]) from None
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


class Params:
    """A method's decoded parameters, with typed accessors that fail the way the Bot API does."""

    def __init__(self, values: JSONDict, uploads: Mapping[str, Upload]) -> None:
        for name in _UNMODELLED_FIELDS:
            if values.get(name) not in (None, ""):
                raise unsupported(f'parameter "{name}"')
        self.values = values
        self.uploads = uploads

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def opt_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise bad_request(f'field "{name}" must be of type String')

    def req_str(self, name: str) -> str:
        value = self.opt_str(name)
        if not value:
            raise bad_request(f'parameter "{name}" is required')
        return value

    def opt_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad_request(f'field "{name}" must be of type Integer')

    def req_int(self, name: str, missing: str) -> int:
        value = self.opt_int(name)
        if value is None:
            raise bad_request(missing)
        return value

    def opt_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "" or isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return float(value)
        raise bad_request(f'field "{name}" must be a Number')

    def flag(self, name: str) -> bool:
        return self.values.get(name) is True

    def chat_id(self) -> int:
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.strip().startswith("@"):
            raise unsupported("a chat_id by @username")
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request("chat not found")
        return value

    def file_input(self, name: str) -> Upload | str | None:
        """An upload (a part of that name, or `attach://x`), a file_id/URL string, or None."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise bad_request(f'field "{name}" must be of type String')
        return self.attached(value) if value.startswith("attach://") else value

    def attached(self, reference: str) -> Upload:
        """The upload `attach://name` names, or the Bot API's 400."""
        upload = self.uploads.get(reference.removeprefix("attach://"))
        if upload is None:
            raise bad_request(f'can\'t find attached file "{reference}"')
        return upload
