"""What the platforms spoken to over HTTP with `requests` share (Facebook's Graph API, webhooks):
one session each, a few publications at once, requests that follow no redirect and wait little to
connect, what a request lost in transport means for a delivery, Retry-After, one log line a delivery.

`requests` is blocking: every request runs in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import secrets
from abc import abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import IO, Any

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from i18n import N_
from publishers.base import Outcome, Provider, Sending, untracked
from storage.models import Post, Target

# Publications of one platform running at once in one process.
AT_ONCE = 8
MAX_CONNECT_TIMEOUT = 10.0
# How much of a platform's answer is kept in a delivery's message.
MESSAGE_CHARS = 300


class Fate(StrEnum):
    """Whether a request that failed in transport can have reached the other side."""

    NOT_SENT = "not_sent"  # no connection was made: safe to send again
    MAYBE_SENT = "maybe_sent"  # the request went out (or may have) and no answer came back
    INVALID = "invalid"  # the request could not even be built (bad URL, bad header)


def request_fate(error: requests.RequestException) -> Fate:
    """Classifies a `requests` failure by whether anything can have reached the server."""
    if isinstance(
        error,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema
        | requests.exceptions.InvalidHeader
        | requests.exceptions.URLRequired,
    ):
        return Fate.INVALID
    if isinstance(
        error, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError
    ):
        return Fate.NOT_SENT
    if isinstance(error, requests.exceptions.ConnectionError):
        reason: object = error.args[0] if error.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        # Connection refused, DNS failure, connect timeout: the request never left.
        if isinstance(reason, NewConnectionError):
            return Fate.NOT_SENT
    return Fate.MAYBE_SENT


def describe_transport(error: requests.RequestException) -> str:
    """A short, credential-free description of a transport failure (no URL, no headers); stored
    English, inside a delivery's reason."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return N_("the connection timed out")
    if isinstance(error, requests.exceptions.ReadTimeout):
        return N_("no answer came back in time")
    if isinstance(error, requests.exceptions.SSLError):
        return N_("the TLS handshake failed")
    if isinstance(error, requests.exceptions.ConnectionError):
        reason: object = error.args[0] if error.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        if isinstance(reason, NewConnectionError):
            return N_("the connection was refused or the host could not be found")
        return N_("the connection broke before an answer came back")
    if request_fate(error) is Fate.INVALID:
        return N_("the address is not a valid URL")
    return type(error).__name__


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


@dataclass(frozen=True)
class LostWords:
    """How a platform tells the user of a request lost in transport: `{detail}` says how it was
    lost (never a URL nor a header), `{target}` names the target."""

    # The code and sentence of a request that could not even be built (a bad address).
    invalid_code: str
    invalid: str
    # Nothing can have arrived, or nothing could appear: worth another try.
    unreachable: str
    # The post may be out: unconfirmed, never sent again on its own.
    unanswered: str


class Unreachable(Exception):
    """A request that failed in transport: `detail` names no URL nor header, `fate` says whether
    the request can have arrived."""

    def __init__(self, detail: str, fate: Fate) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fate = fate

    def outcome(self, words: LostWords, target: str, *, posting: bool) -> Outcome:
        """What the lost request means for a delivery: permanent when it could not be built; worth
        another try when nothing can have arrived, or when it could not make the post appear
        (`posting` False); else unconfirmed, since sending it again could post it twice."""
        if self.fate is Fate.INVALID:
            return Outcome.permanent(words.invalid_code, words.invalid.format(detail=self.detail, target=target))
        if self.fate is Fate.NOT_SENT or not posting:
            return Outcome.retryable("network", words.unreachable.format(detail=self.detail, target=target))
        return Outcome.unconfirmed(words.unanswered.format(detail=self.detail, target=target))


class HttpProvider(Provider):
    """A platform spoken to over HTTP: its session, its few publications at once, its log lines."""

    user_agent = "Herald/0.1"
    # What the log calls the platform: "<log_name> delivery to <where>: <status> …".
    log_name = "http"

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = self.user_agent
        self._busy = asyncio.Semaphore(AT_ONCE)

    def close(self) -> None:
        self.session.close()

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        # Each publication holds its images in memory and a worker thread: a few at a time, however
        # many posts PUBLISH_CONCURRENCY lets wait (a post waiting for Telegram's windows costs little).
        async with self._busy:
            outcome = await self._publish(post, target, sending)
        logging.getLogger(type(self).__module__).info(
            "%s delivery to %s: %s %s (%s)",
            self.log_name,
            self.log_place(target),
            outcome.status.value,
            outcome.error_code or outcome.message_id or "",
            outcome.error_message or "",
        )
        return outcome

    @abstractmethod
    async def _publish(self, post: Post, target: Target, sending: Sending) -> Outcome:
        """`publish` itself, with a place among the few running and its outcome logged."""

    @abstractmethod
    def log_place(self, target: Target) -> str:
        """Where a delivery went, as the log line says it: never anything that is a credential."""

    def request(self, method: str, url: str, **fields: Any) -> requests.Response:
        """One blocking request (run it in a worker thread) that follows no redirect and waits at
        most MAX_CONNECT_TIMEOUT to connect; raises Unreachable instead of `requests`' errors."""
        try:
            return self.session.request(
                method,
                url,
                timeout=(min(self.timeout, MAX_CONNECT_TIMEOUT), self.timeout),
                allow_redirects=False,
                **fields,
            )
        except requests.RequestException as error:
            # `from None`: the original exception holds the request, its URL and its headers.
            raise Unreachable(describe_transport(error), request_fate(error)) from None


class MultipartBody:
    """A multipart/form-data body read as it is sent: the text fields, then one file streamed
    from an open file — `requests` sends it a block at a time with its Content-Length, where its
    own `files=` would read the whole file into memory first."""

    def __init__(self, fields: dict[str, str], file_field: str, filename: str, mime_type: str, file: IO[bytes]):
        boundary = secrets.token_hex(16)
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
            for name, value in fields.items()
        )
        safe_name = re.sub(r"[^A-Za-z0-9._ -]", "_", filename) or "file"
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{safe_name}"\r\n'
            f"Content-Type: {mime_type}\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = os.fstat(file.fileno()).st_size - file.tell()
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._parts: list[IO[bytes]] = [io.BytesIO(head), file, io.BytesIO(tail)]
        self._length = len(head) + size + len(tail)

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        """The next bytes of the body (at most `size`; all that is left when negative)."""
        out = bytearray()
        while self._parts and (size < 0 or len(out) < size):
            block = self._parts[0].read(-1 if size < 0 else size - len(out))
            if block:
                out.extend(block)
            else:
                self._parts.pop(0)
        return bytes(out)
