"""Publishing to any HTTPS endpoint: a signed JSON POST of the post (Discord, Slack, n8n, Make…).

The receiver checks ``X-Herald-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact body
bytes keyed with the account's signing secret (``verify`` below does it), and may drop repeats by
``Idempotency-Key: <post_id>:<target_id>``. 2xx is sent, 4xx is refused for good (429 and 408 are
retried: they mean "later"), 5xx is retried, and a request that went out without an answer is
``unconfirmed``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from publishers.base import Outcome, Publisher, Sending, untracked
from storage.base import Store
from storage.models import DeliveryStatus, Image, Platform, Post, Target, utc_now

log = logging.getLogger(__name__)

# Publications of this kind running at once in one process.
AT_ONCE = 8

SIGNATURE_HEADER = "X-Herald-Signature"
TIMESTAMP_HEADER = "X-Herald-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_PREFIX = "sha256="
USER_AGENT = "Herald-Webhook/0.1"
# How much of a receiver's answer is kept in a delivery's message.
MESSAGE_CHARS = 300
# How much of a receiver's answer is read at all.
READ_LIMIT = 64 * 1024
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# 4xx answers that mean "not now" rather than "never".
RETRY_LATER_STATUSES = frozenset({408, 429})
MAX_CONNECT_TIMEOUT = 10.0


# -- the credential: address and secret, both encrypted at rest ------------------------------


def webhook_credential(url: str, secret: str) -> str:
    """What a webhook account stores (encrypted): its URL too, since Discord's and Slack's carry a token."""
    return json.dumps({"url": url.strip(), "secret": secret}, separators=(",", ":"))


def read_credential(credential: str, target: Target) -> tuple[str, str]:
    """(URL, secret) of a webhook account; accounts stored before the URL moved into the
    credential keep the URL as their target's address and the bare secret as credential."""
    try:
        stored = json.loads(credential)
    except ValueError:
        stored = None
    if isinstance(stored, dict) and isinstance(stored.get("url"), str) and isinstance(stored.get("secret"), str):
        return stored["url"], stored["secret"]
    return target.address.strip(), credential


# -- signing ---------------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """The ``X-Herald-Signature`` value for a body: ``sha256=`` and the hex HMAC-SHA256."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True if `header` is the signature of exactly these body bytes under `secret`."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).encode("ascii"), header.strip().encode("ascii", "replace"))


# -- what happened to a request that raised -------------------------------------------------


class Fate(StrEnum):
    """Whether a request that failed in transport can have reached the other side."""

    NOT_SENT = "not_sent"  # no connection was made: safe to send again
    MAYBE_SENT = "maybe_sent"  # the request went out (or may have) and no answer came back
    INVALID = "invalid"  # the request could not even be built (bad URL, bad header)


def request_fate(error: requests.RequestException) -> Fate:
    """Classifies a `requests` failure by whether anything can have reached the server.

    Shared by the HTTP publishers (webhook, Facebook)."""
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
    """A short, credential-free description of a transport failure (no URL, no headers)."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "the connection timed out"
    if isinstance(error, requests.exceptions.ReadTimeout):
        return "no answer came back in time"
    if isinstance(error, requests.exceptions.SSLError):
        return "the TLS handshake failed"
    if isinstance(error, requests.exceptions.ConnectionError):
        reason: object = error.args[0] if error.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        if isinstance(reason, NewConnectionError):
            return "the connection was refused or the host could not be found"
        return "the connection broke before an answer came back"
    if request_fate(error) is Fate.INVALID:
        return "the address is not a valid URL"
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


# -- the body -------------------------------------------------------------------------------


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``: ``2026-12-01T18:30:00.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_body(post: Post, target: Target, images: list[tuple[Image, bytes]], sent_at: datetime) -> bytes:
    """The request body, serialised once: compact JSON with sorted keys, UTF-8."""
    payload: dict[str, Any] = {
        "post_id": post.post_id,
        "target": {"id": target.target_id, "name": target.name},
        "caption": post.main_caption,
        "images": [
            {
                "name": image.name,
                "caption": image.caption,
                "mime_type": image.mime_type,
                "data_base64": base64.b64encode(data).decode("ascii"),
            }
            for image, data in images
        ],
        "scheduled_time": iso_utc(post.scheduled_time),
        "sent_at": iso_utc(sent_at),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def check_url(url: str, allow_http_loopback: bool = True) -> str | None:
    """Why this webhook address cannot be used, or None if it can."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return "the webhook address is not a valid URL"
    if not host:
        return "the webhook address is not a valid URL"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and allow_http_loopback and host in LOOPBACK_HOSTS:
        return None
    return "the webhook address must start with https://"


@dataclass
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class WebhookPublisher(Publisher):
    """POSTs each post as signed JSON to the target's URL; the account's credential is the secret."""

    platform = Platform.WEBHOOK

    def __init__(self, store: Store, timeout: float = 15.0, *, allow_http_loopback: bool = True) -> None:
        self.store = store
        self.timeout = timeout
        self.allow_http_loopback = allow_http_loopback
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self._busy = asyncio.Semaphore(AT_ONCE)

    def close(self) -> None:
        self.session.close()

    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        # Each publication holds its images in memory and a worker thread: a few at a time, however
        # many posts PUBLISH_CONCURRENCY lets wait (a post waiting for Telegram's windows costs little).
        async with self._busy:
            return await self._publish(post, target, sending)

    async def _publish(self, post: Post, target: Target, sending: Sending) -> Outcome:
        credential = await self.store.account_credential(target.account_id or post.account_id)
        if credential is None:
            return self._logged(target, Outcome.permanent("no_account", "the webhook account was removed"))
        url, secret = read_credential(credential, target)
        problem = check_url(url, self.allow_http_loopback)
        if problem is not None:
            return self._logged(target, Outcome.permanent("bad_url", problem))
        images: list[tuple[Image, bytes]] = []
        for image in post.images:
            data = await self.store.load_image(image.blob_id)
            if data is None:
                return self._logged(
                    target, Outcome.permanent("missing_image", f"the image {image.name} is missing from storage")
                )
            images.append((image, data))

        sent_at = utc_now()
        body = build_body(post, target, images, sent_at)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body),
            TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
            IDEMPOTENCY_HEADER: f"{post.post_id}:{target.target_id}",
        }
        await sending()
        try:
            answer = await asyncio.to_thread(self._post, url, body, headers)
        except requests.RequestException as error:
            return self._logged(target, self._transport_outcome(error, target))
        return self._logged(target, self._answer_outcome(answer))

    async def ping(self, url: str, secret: str) -> str | None:
        """Sends a signed test delivery (`{"type": "ping"}`); None if accepted, else what went wrong."""
        problem = check_url(url.strip(), self.allow_http_loopback)
        if problem is not None:
            return problem
        sent_at = utc_now()
        body = json.dumps({"type": "ping", "sent_at": iso_utc(sent_at)}, separators=(",", ":"), sort_keys=True)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body.encode()),
            TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
        }
        try:
            answer = await asyncio.to_thread(self._post, url.strip(), body.encode(), headers)
        except requests.RequestException as error:
            return describe_transport(error)
        outcome = self._answer_outcome(answer)
        return None if outcome.status is DeliveryStatus.SENT else outcome.error_message

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> _Answer:
        """The blocking request, run in a worker thread."""
        response = self.session.post(
            url,
            data=body,
            headers=headers,
            timeout=(min(self.timeout, MAX_CONNECT_TIMEOUT), self.timeout),
            allow_redirects=False,
            stream=True,
        )
        with response:
            # The status is known from here on: a body that fails to arrive changes nothing.
            content = bytearray()
            try:
                for chunk in response.iter_content(chunk_size=8192):
                    content.extend(chunk)
                    if len(content) >= READ_LIMIT:
                        break
            except requests.RequestException:
                pass
            return _Answer(response.status_code, dict(response.headers), bytes(content[:READ_LIMIT]))

    @staticmethod
    def _transport_outcome(error: requests.RequestException, target: Target) -> Outcome:
        fate, detail = request_fate(error), describe_transport(error)
        if fate is Fate.INVALID:
            return Outcome.permanent("bad_url", f"the webhook address cannot be used: {detail}")
        if fate is Fate.NOT_SENT:
            return Outcome.retryable("network", f"could not reach the webhook ({detail})")
        return Outcome.unconfirmed(
            f"the webhook did not answer ({detail}); it may have received the post — check {target.name}"
        )

    @staticmethod
    def _answer_outcome(answer: _Answer) -> Outcome:
        status = answer.status
        text = answer.body.decode("utf-8", "replace").strip()
        said = text[:MESSAGE_CHARS] or "no message"
        if 200 <= status < 300:
            return Outcome.sent(message_id=_receiver_id(answer.body))
        retry_after = parse_retry_after(_header(answer.headers, "Retry-After"))
        if status in RETRY_LATER_STATUSES:
            return Outcome.retryable(str(status), f"the webhook asked to try later ({status}: {said})", retry_after)
        if status >= 500:
            return Outcome.retryable(str(status), f"the webhook failed with {status}: {said}", retry_after)
        if 300 <= status < 400:
            return Outcome.permanent(str(status), f"the webhook redirects elsewhere ({status}); update its address")
        return Outcome.permanent(str(status), f"the webhook refused the post ({status}): {said}")

    @staticmethod
    def _logged(target: Target, outcome: Outcome) -> Outcome:
        # The target id, never its URL: a URL may carry a token of its own.
        log.info(
            "webhook delivery to %s: %s %s (%s)",
            target.target_id,
            outcome.status.value,
            outcome.error_code or outcome.message_id or "",
            outcome.error_message or "",
        )
        return outcome


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _receiver_id(body: bytes) -> str | None:
    """The `id` of a JSON object answer, if the receiver gave one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if isinstance(parsed, dict):
        value = parsed.get("id")
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None
