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

It speaks the HTTP contract of https://core.telegram.org/bots/api for the methods Herald calls:
methods at ``/bot{token}/{method}`` (query string, url-encoded form or multipart/form-data; nested
values such as ``reply_markup`` or ``media`` as JSON text inside form fields; uploads as multipart
parts, referenced as ``attach://<name>`` from ``media``), files at ``/file/bot{token}/{file_path}``,
answers ``{"ok": true, "result": ...}`` or Telegram-shaped errors with the matching HTTP status, so
that PTB's own parsing checks it (``RetryAfter``, ``ChatMigrated``, ``Forbidden``, ``BadRequest``,
``InvalidToken``...). A method it does not serve answers 404 "method not found"; a parameter or
parse mode it does not model answers 400 "... is not supported by the fake Bot API".

Tests drive it like people do (``send_text`` with entities, ``send_photo``, ``send_album``,
``send_media`` for videos, GIFs, documents and audio, ``send_mixed_album``, ``press``,
``bot_added_to_chat``, ``topic_created`` and the other forum topic events...; see ``person.py``),
inject faults (``fail_next``, ``delay``, ``start_outage``), optionally enforce Telegram's flood
limits, and read back what the bot did (``messages``, ``bot_messages``, ``calls``,
``callback_answers``, ``refusals`` — every 4xx the fake gave of its own accord —, ``wait_for``...).

The parts, by concern: ``server`` (HTTP, faults, calls), ``params`` (reading a request),
``state`` (users, chats, members, messages, files, updates), ``session`` (getMe, getUpdates,
commands, button answers), ``sending``, ``editing``, ``formatting`` (HTML or explicit entities),
``limits`` (UTF-16 lengths, file sizes, flood limits), ``errors``, ``person``, ``webhook``
(setWebhook, getWebhookInfo, POSTing updates to the bot's webhook; getUpdates refused meanwhile).
"""

from __future__ import annotations

from tests.fakes.bot_api.editing import Editing
from tests.fakes.bot_api.errors import BotAPIError
from tests.fakes.bot_api.limits import RateLimits, utf16_len
from tests.fakes.bot_api.person import Person
from tests.fakes.bot_api.sending import Sending
from tests.fakes.bot_api.server import Call, Handler, Server
from tests.fakes.bot_api.session import Session
from tests.fakes.bot_api.state import DEFAULT_TOKEN, SAMPLE_JPEG, image_size, jpeg_bytes
from tests.fakes.bot_api.webhook import Webhooks

__all__ = [
    "SAMPLE_JPEG",
    "BotAPIError",
    "Call",
    "FakeBotAPI",
    "RateLimits",
    "image_size",
    "jpeg_bytes",
    "utf16_len",
]


class FakeBotAPI(Server, Session, Webhooks, Sending, Editing, Person):
    """A fake Bot API server and the people on the other side, for one test.

    Start it with ``await api.start()`` (returns ``http://127.0.0.1:PORT``) and ``await api.stop()``,
    or ``async with FakeBotAPI() as api``. All control methods are plain Python, called from the
    test's event loop. The bot's id is the token's number.
    """

    def __init__(self, token: str = DEFAULT_TOKEN, enforce_limits: bool = False, *, limits: RateLimits | None = None):
        super().__init__(token, enforce_limits, limits or RateLimits())

    async def stop(self) -> None:
        """Stops delivering to a webhook, then serving."""
        await self._stop_delivering()
        await super().stop()

    def _bot_methods(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "answerCallbackQuery": self._answer_callback_query,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendVideo": self._send_video,
            "sendAnimation": self._send_animation,
            "sendDocument": self._send_document,
            "sendAudio": self._send_audio,
            "sendMediaGroup": self._send_media_group,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageCaption": self._edit_message_caption,
            "editMessageMedia": self._edit_message_media,
            "deleteMessage": self._delete_message,
            "getChat": self._get_chat,
            "deleteMessages": self._delete_messages,
            "pinChatMessage": self._pin_chat_message,
            "unpinChatMessage": self._unpin_chat_message,
            "getChatMember": self._get_chat_member,
            "getFile": self._get_file,
        }
