"""Publishing to any HTTPS endpoint: a signed JSON POST of the post (Discord, Slack, n8n, Make…):
its text (plain, as HTML and as Telegram's entities), each media item with its kind and bytes, the
buttons and the layout — nothing of the content is lost (the README documents the body). The body
is written to a temporary file as the media are read, a chunk at a time, and streamed from there.

The receiver checks ``X-Herald-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact body
bytes keyed with the account's signing secret (``verify`` below does it), and may drop repeats by
``Idempotency-Key: <post_id>:<target_id>``. 2xx is sent, 4xx is refused for good (429 and 408 are
retried: they mean "later"), 5xx is retried, and a request that went out without an answer is
``unconfirmed``.

Connecting one asks two questions: the URL (checked at once), then the signing secret; a signed
test delivery (``{"type": "ping"}``) goes out before the account is kept, and a refusal of it is
told but keeps nothing from being saved.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import urlsplit

import requests

from i18n import N_
from publishers.base import Connection, Outcome, Sending
from publishers.formatting import formatted, to_html
from publishers.http import MESSAGE_CHARS, HttpProvider, LostWords, Unreachable, parse_retry_after
from publishers.spool import MissingMedia
from storage.base import Store
from storage.models import Button, Content, DeliveryStatus, Image, Platform, Post, Target, new_id, utc_now

SIGNATURE_HEADER = "X-Herald-Signature"
TIMESTAMP_HEADER = "X-Herald-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_PREFIX = "sha256="
# How much of a receiver's answer is read at all.
READ_LIMIT = 64 * 1024
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# 4xx answers that mean "not now" rather than "never".
RETRY_LATER_STATUSES = frozenset({408, 429})
# The shortest signing secret taken.
MIN_SECRET = 16
LOST = LostWords(
    invalid_code="bad_url",
    invalid=N_("the webhook address cannot be used: {detail}"),
    unreachable=N_("could not reach the webhook ({detail})"),
    unanswered=N_("the webhook did not answer ({detail}); it may have received the post — check {target}"),
)


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


# -- the body -------------------------------------------------------------------------------


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``: ``2026-12-01T18:30:00.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payload(post: Post, target: Target, sent_at: datetime, media_data: Sequence[str]) -> dict[str, Any]:
    """The body as a JSON object: the text (plain, its HTML and its entities), each media item with
    its kind (`media_data` in place of its bytes' base64), the buttons, the link preview and layout."""
    content = post.content
    caption = formatted(content.caption, content.caption_entities)
    return {
        "post_id": post.post_id,
        "target": {"id": target.target_id, "name": target.name},
        "caption": post.main_caption,
        "caption_html": to_html(caption),
        "caption_entities": caption.entity_list(),
        "images": [
            {
                "name": image.name,
                "kind": image.kind.value,
                "caption": image.caption,
                "caption_html": to_html(formatted(image.caption, image.caption_entities)),
                "caption_entities": formatted(image.caption, image.caption_entities).entity_list(),
                "spoiler": image.spoiler,
                "mime_type": image.mime_type,
                "size": image.size,
                "data_base64": data,
            }
            for image, data in zip(content.images, media_data, strict=True)
        ],
        "buttons": buttons_json(content.buttons),
        "link_preview": asdict(content.link_preview),
        "caption_above": content.caption_above,
        "scheduled_time": iso_utc(post.scheduled_time),
        "sent_at": iso_utc(sent_at),
        # Silent, protected, pinned, unpin and delete after (seconds): the receiver's to honour.
        **({} if post.options.is_default else {"options": asdict(post.options)}),
    }


def buttons_json(rows: list[list[Button]]) -> list[list[dict[str, str]]]:
    """The buttons as a body carries them: each `{"text", "url"}` or `{"text", "copy_text"}`."""
    return [
        [
            {"text": button.label, "url": button.url}
            if button.url
            else {"text": button.label, "copy_text": button.copy_text or ""}
            for button in row
        ]
        for row in rows
    ]


def edited_event(post: Post, target: Target, new: Content, at: datetime) -> dict[str, Any]:
    """The body of an `edited` event: what the post shows now (its media named, not sent again)."""
    caption = formatted(new.caption, new.caption_entities)
    return {
        "type": "edited",
        "post_id": post.post_id,
        "target": {"id": target.target_id, "name": target.name},
        "caption": new.caption,
        "caption_html": to_html(caption),
        "caption_entities": caption.entity_list(),
        "images": [{"name": image.name, "kind": image.kind.value, "caption": image.caption} for image in new.images],
        "buttons": buttons_json(new.buttons),
        "edited_at": iso_utc(at),
    }


def deleted_event(post: Post, target: Target, at: datetime) -> dict[str, Any]:
    """The body of a `deleted` event: the post is to be taken down."""
    return {
        "type": "deleted",
        "post_id": post.post_id,
        "target": {"id": target.target_id, "name": target.name},
        "deleted_at": iso_utc(at),
    }


def serialise(value: Any) -> str:
    """Compact JSON with sorted keys, as every body is written."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


async def write_body(store: Store, post: Post, target: Target, sent_at: datetime, out: IO[bytes], secret: str) -> str:
    """Writes the request body into `out` — each media item's bytes read from the store and encoded
    a chunk at a time, never held whole — and returns its signature. The bytes are exactly
    `serialise(payload(...))` with each item's base64 in place. Raises MissingMedia."""
    marks = [f"@@herald-media-{number}-{secrets.token_hex(8)}@@" for number in range(len(post.images))]
    text = serialise(payload(post, target, sent_at, marks))
    mac = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)

    def emit(data: bytes) -> None:
        mac.update(data)
        out.write(data)

    for image, mark in zip(post.images, marks, strict=True):
        before, text = text.split(f'"{mark}"', 1)
        emit(before.encode("utf-8") + b'"')
        await _write_base64(store, image, emit)
        emit(b'"')
    emit(text.encode("utf-8"))
    out.flush()
    return f"{SIGNATURE_PREFIX}{mac.hexdigest()}"


async def _write_base64(store: Store, image: Image, emit: Callable[[bytes], None]) -> None:
    carry = b""
    seen = False
    async for chunk in store.media_chunks(image.blob_id):
        seen = True
        data = carry + chunk
        whole = len(data) - len(data) % 3  # base64 of whole 3-byte groups joins up seamlessly
        emit(base64.b64encode(data[:whole]))
        carry = data[whole:]
    if not seen and await store.load_image(image.blob_id) is None:
        raise MissingMedia(image)
    emit(base64.b64encode(carry))


def check_url(url: str, allow_http_loopback: bool = True) -> str | None:
    """Why this webhook address cannot be used, or None if it can."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return N_("the webhook address is not a valid URL")
    if not host:
        return N_("the webhook address is not a valid URL")
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and allow_http_loopback and host in LOOPBACK_HOSTS:
        return None
    return N_("the webhook address must start with https://")


@dataclass
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class WebhookPublisher(HttpProvider):
    """POSTs each post as signed JSON to the account's URL, signed with the account's secret."""

    platform = Platform.WEBHOOK
    user_agent = "Herald-Webhook/0.1"
    log_name = "webhook"

    def __init__(self, store: Store, timeout: float = 15.0, *, allow_http_loopback: bool = True) -> None:
        super().__init__(timeout)
        self.store = store
        self.allow_http_loopback = allow_http_loopback

    # -- connecting: the URL, then the signing secret --------------------------------------------

    def check(self, answers: Sequence[str]) -> str | None:
        """Why the URL (and the secret, once given) cannot be used, before anything is sent."""
        if not answers:
            return None
        problem = check_url(answers[0], self.allow_http_loopback)
        if problem is None and len(answers) > 1 and len(answers[1].strip()) < MIN_SECRET:
            problem = N_("the signing secret must be at least {count} characters long").format(count=MIN_SECRET)
        return problem

    async def connect(self, user_id: int, answers: Sequence[str]) -> Connection:
        """The webhook as one target named after its host, once a signed test delivery was sent
        (its refusal is a warning: the receiver may not be ready yet)."""
        problem = self.check(answers) if len(answers) == 2 else N_("a webhook needs its URL and its signing secret")
        if problem is not None:
            return Connection.refusal(problem)
        url, secret = answers[0].strip(), answers[1].strip()
        host = urlsplit(url).hostname or "webhook"
        # The target shows only the host; the URL (which may carry a token) is in the credential.
        target = Target(f"wh{new_id()}", host, host, platform=Platform.WEBHOOK)
        warning = await self.ping(url, secret)
        return Connection([target], webhook_credential(url, secret), warning=warning)

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
        except Unreachable as lost:
            return lost.detail
        outcome = self._answer_outcome(answer)
        return None if outcome.status is DeliveryStatus.SENT else outcome.error_message

    # -- publishing --------------------------------------------------------------------------

    def log_place(self, target: Target) -> str:
        # The target id, never its URL: a URL may carry a token of its own.
        return target.target_id

    async def _publish(self, post: Post, target: Target, sending: Sending) -> Outcome:
        credential = await self.store.account_credential(target.account_id or post.account_id)
        if credential is None:
            return Outcome.permanent("no_account", N_("the webhook account was removed"))
        url, secret = read_credential(credential, target)
        problem = check_url(url, self.allow_http_loopback)
        if problem is not None:
            return Outcome.permanent("bad_url", problem)
        sent_at = utc_now()
        with tempfile.TemporaryFile() as body:
            try:
                signature = await write_body(self.store, post, target, sent_at, body, secret)
            except MissingMedia as missing:
                return Outcome.permanent("missing_image", str(missing))
            body.seek(0)
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: signature,
                TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
                IDEMPOTENCY_HEADER: f"{post.post_id}:{target.target_id}",
            }
            await sending()
            try:
                answer = await asyncio.to_thread(self._post, url, body, headers)
            except Unreachable as lost:
                return lost.outcome(LOST, target.name, posting=True)
        return self._answer_outcome(answer)

    def _post(self, url: str, body: bytes | IO[bytes], headers: dict[str, str]) -> _Answer:
        """The blocking request, run in a worker thread."""
        response = self.request("POST", url, data=body, headers=headers, stream=True)
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
    def _answer_outcome(answer: _Answer, *, event: bool = False) -> Outcome:
        """What the receiver's answer means; `event`: it answered an event about a post (its
        refusal names no post)."""
        status = answer.status
        text = answer.body.decode("utf-8", "replace").strip()
        said = text[:MESSAGE_CHARS] or N_("no message")
        if 200 <= status < 300:
            return Outcome.sent(message_id=_receiver_id(answer.body))
        retry_after = parse_retry_after(_header(answer.headers, "Retry-After"))
        if status in RETRY_LATER_STATUSES:
            message = N_("the webhook asked to try later ({status}: {said})").format(status=status, said=said)
            return Outcome.retryable(str(status), message, retry_after)
        if status >= 500:
            message = N_("the webhook failed with {status}: {said}").format(status=status, said=said)
            return Outcome.retryable(str(status), message, retry_after)
        if 300 <= status < 400:
            message = N_("the webhook redirects elsewhere ({status}); update its address").format(status=status)
            return Outcome.permanent(str(status), message)
        if event:
            refusal = N_("the webhook refused it ({status}): {said}")
        else:
            refusal = N_("the webhook refused the post ({status}): {said}")
        return Outcome.permanent(str(status), refusal.format(status=status, said=said))

    # -- after publication: events about a delivered post ----------------------------------------

    async def send_event(self, post: Post, target: Target, event: dict[str, Any], key: str) -> Outcome:
        """A signed event about a post the receiver already has (`edited`, `deleted`); 2xx: taken.
        `key` is its Idempotency-Key, the same for a repeat of the same event."""
        credential = await self.store.account_credential(target.account_id or post.account_id)
        if credential is None:
            return Outcome.permanent("no_account", N_("the webhook account was removed"))
        url, secret = read_credential(credential, target)
        problem = check_url(url, self.allow_http_loopback)
        if problem is not None:
            return Outcome.permanent("bad_url", problem)
        body = serialise(event).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body),
            TIMESTAMP_HEADER: str(int(utc_now().timestamp())),
            IDEMPOTENCY_HEADER: key,
        }
        try:
            answer = await asyncio.to_thread(self._post, url, body, headers)
        except Unreachable as lost:
            return lost.outcome(LOST, target.name, posting=False)
        outcome = self._answer_outcome(answer, event=True)
        if outcome.status is DeliveryStatus.SENT:
            return Outcome.sent()
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
