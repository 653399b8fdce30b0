"""The Bot API's error answers: HTTP status, ``error_code``, ``description``, optional ``parameters``.

The descriptions are Telegram's own, so that python-telegram-bot turns each into the exception it
raises for the real thing (``BadRequest``, ``Forbidden``, ``RetryAfter``, ``ChatMigrated``...).
"""

from __future__ import annotations

from typing import Any

JSONDict = dict[str, Any]

TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
TEXT_EMPTY = "Bad Request: message text is empty"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
THREAD_NOT_FOUND = "Bad Request: message thread not found"
TOPIC_CLOSED = "Bad Request: TOPIC_CLOSED"
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
GET_UPDATES_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)

DEFAULT_DESCRIPTIONS = {
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


class BotAPIError(Exception):
    """An error answer: HTTP status and `error_code`, `description`, optional `parameters`."""

    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """The JSON body Telegram answers with."""
        body: JSONDict = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def bad_request(detail: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> BotAPIError:
    return BotAPIError(403, f"Forbidden: {detail}")


def too_many_requests(retry_after: int) -> BotAPIError:
    return BotAPIError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def unsupported(what: str) -> BotAPIError:
    """A 400 for what Telegram accepts but the fake does not model (nothing in Herald uses it):
    a request for it fails loudly instead of being half understood."""
    return bad_request(f"{what} is not supported by the fake Bot API")


def injected(error_code: int, description: str | None = None, retry_after: int | None = None) -> BotAPIError:
    """An error a test asks for; a 429 says `retry_after` (1 s unless given) as Telegram does."""
    if error_code == 429 and retry_after is None:
        retry_after = 1
    if description is None:
        default = DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error")
        description = f"Too Many Requests: retry after {retry_after}" if error_code == 429 else default
    return BotAPIError(error_code, description, {"retry_after": retry_after} if retry_after is not None else None)
