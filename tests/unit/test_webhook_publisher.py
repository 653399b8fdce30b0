"""The webhook publisher over real HTTP (requests) against a signature-checking receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from publishers.http import parse_retry_after
from publishers.webhook import WebhookPublisher, sign, verify, webhook_credential
from storage.base import MEDIA_CHUNK
from storage.models import (
    Button,
    Content,
    DeliveryStatus,
    ErrorKind,
    Image,
    LinkPreview,
    MediaKind,
    Platform,
    Post,
    Target,
    new_post,
)
from storage.sqlite import SQLiteStore
from tests.contract.helpers import schedule, store_images
from tests.e2e.herald_process import closed_port
from tests.fakes.webhook_receiver import WebhookReceiver

USER_ID = 777
SECRET = "whsec-9f2b7c41d0e3"


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver(SECRET) as started:
        yield started


@pytest.fixture
def publisher(sqlite_store: SQLiteStore) -> Iterator[WebhookPublisher]:
    made = WebhookPublisher(sqlite_store, timeout=2.0)
    yield made
    made.close()


@pytest.fixture
def impatient(sqlite_store: SQLiteStore) -> Iterator[WebhookPublisher]:
    """A publisher that waits half a second for the receiver's answers."""
    made = WebhookPublisher(sqlite_store, timeout=0.5)
    yield made
    made.close()


async def make_post(
    store: SQLiteStore,
    url: str,
    caption: str = "Hello hooks",
    images: list[tuple[bytes, str]] | None = None,
    secret: str = SECRET,
    legacy: bool = False,
) -> Post:
    """A post to a webhook account as Herald stores one: the URL inside the encrypted credential
    (or, `legacy`, as accounts made before that: the URL as the target's address)."""
    if legacy:
        target = Target(target_id="hook-1", name="Shop automations", address=url, platform=Platform.WEBHOOK)
        credential = secret
    else:
        target = Target(target_id="hook-1", name="Shop automations", address="127.0.0.1", platform=Platform.WEBHOOK)
        credential = webhook_credential(url, secret)
    account = await store.add_account(USER_ID, Platform.WEBHOOK, "Automations", credential, [target])
    stored = await store_images(store, images or [], "img{}.jpg", "image/jpeg")
    when = datetime(2030, 12, 1, 17, 30, tzinfo=UTC)
    return await schedule(store, USER_ID, account, when=when, caption=caption, images=stored, target_count=1)


# -- signing ---------------------------------------------------------------------------------


def test_sign_is_the_hex_hmac_sha256_of_the_body() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert sign("s3cret", body) == f"sha256={expected}"


def test_verify_accepts_only_the_exact_body_and_secret() -> None:
    body = b'{"caption":"hi"}'
    header = sign("s3cret", body)
    assert verify("s3cret", body, header)
    assert not verify("s3cret", body + b" ", header)
    assert not verify("other", body, header)
    assert not verify("s3cret", body, None)
    assert not verify("s3cret", body, header.removeprefix("sha256="))
    assert not verify("s3cret", body, "sha256=" + "0" * 64)


def test_retry_after_reads_seconds_and_dates() -> None:
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("12", now) == 12
    assert parse_retry_after("Tue, 01 Jan 2030 12:00:30 GMT", now) == 30
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


# -- publishing ------------------------------------------------------------------------------


async def test_the_receiver_verifies_a_signed_body_carrying_the_post(sqlite_store, receiver, publisher) -> None:
    photos = [(os.urandom(300), "front"), (os.urandom(200), "")]
    post = await make_post(sqlite_store, receiver.url, "Grand opening 🎉", photos)
    before = datetime.now(UTC) - timedelta(seconds=1)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT, outcome
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.verified
    assert request.header("Content-Type") == "application/json"
    assert request.header("Idempotency-Key") == f"{post.post_id}:hook-1"
    # Serialised once, compact, keys sorted: the signed bytes are exactly this.
    assert request.body == json.dumps(request.json, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    body = request.json
    assert body["post_id"] == post.post_id
    assert body["target"] == {"id": "hook-1", "name": "Shop automations"}
    assert body["caption"] == "Grand opening 🎉"
    assert body["scheduled_time"] == "2030-12-01T17:30:00.000Z"
    sent_at = datetime.fromisoformat(body["sent_at"].replace("Z", "+00:00"))
    assert before <= sent_at <= datetime.now(UTC)
    assert abs(int(request.header("X-Herald-Timestamp") or 0) - sent_at.timestamp()) < 2
    assert [(image["name"], image["caption"], image["mime_type"]) for image in body["images"]] == [
        ("img1.jpg", "front", "image/jpeg"),
        ("img2.jpg", "", "image/jpeg"),
    ]
    assert [base64.b64decode(image["data_base64"]) for image in body["images"]] == [data for data, _ in photos]


async def test_an_account_stored_before_the_url_was_encrypted_still_publishes(
    sqlite_store, receiver, publisher
) -> None:
    post = await make_post(sqlite_store, receiver.url, "Old account", legacy=True)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT, outcome
    [request] = receiver.requests
    assert request.verified and request.json["caption"] == "Old account"


async def test_a_2xx_is_sent_with_the_receivers_id(sqlite_store, receiver, publisher) -> None:
    post = await make_post(sqlite_store, receiver.url)
    receiver.respond_next(202, {"id": "msg-81", "status": "queued"})

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT
    assert outcome.message_id == "msg-81"
    assert outcome.error_kind is None


async def test_a_2xx_without_an_id_is_still_sent(sqlite_store, receiver, publisher) -> None:
    post = await make_post(sqlite_store, receiver.url)
    receiver.respond_next(204)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT
    assert outcome.message_id is None


async def test_a_wrong_secret_is_refused_by_the_receiver_for_good(sqlite_store, receiver, publisher) -> None:
    post = await make_post(sqlite_store, receiver.url, secret="not-the-receivers-secret")

    outcome = await publisher.publish(post, post.targets[0])

    [request] = receiver.requests
    assert not request.verified
    assert outcome.error_kind is ErrorKind.PERMANENT
    assert outcome.error_code == "401"
    assert "invalid signature" in (outcome.error_message or "")


async def test_a_500_is_retryable(sqlite_store, receiver, publisher) -> None:
    post = await make_post(sqlite_store, receiver.url)
    receiver.respond_next(500, "database is down")

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.RETRYABLE
    assert outcome.error_code == "500"
    assert "database is down" in (outcome.error_message or "")
    # And the retry, with the same idempotency key, goes through.
    retried = await publisher.publish(post, post.targets[0])
    assert retried.status is DeliveryStatus.SENT
    assert [r.header("Idempotency-Key") for r in receiver.requests] == [f"{post.post_id}:hook-1"] * 2


async def test_a_503_passes_on_retry_after(sqlite_store, receiver, publisher) -> None:
    post = await make_post(sqlite_store, receiver.url)
    receiver.respond_next(503, "busy", headers={"Retry-After": "17"})

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.is_retryable and outcome.retry_after == 17


async def test_a_429_is_retried_later(sqlite_store, receiver, publisher) -> None:
    post = await make_post(sqlite_store, receiver.url)
    receiver.respond_next(429, "slow down", headers={"Retry-After": "5"})

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.is_retryable and outcome.retry_after == 5


async def test_a_400_is_permanent_with_the_receivers_message(sqlite_store, receiver, publisher) -> None:
    post = await make_post(sqlite_store, receiver.url)
    said = "unknown channel 'news'; " + "x" * 400 + "TAIL"
    receiver.respond_next(400, said)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.PERMANENT
    assert outcome.error_code == "400"
    message = outcome.error_message or ""
    assert said[:300] in message
    assert "TAIL" not in message


async def test_a_redirect_is_not_followed(sqlite_store, receiver, publisher) -> None:
    post = await make_post(sqlite_store, receiver.url)
    receiver.respond_next(302, "", headers={"Location": receiver.url + "/moved"})

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.PERMANENT
    assert len(receiver.requests) == 1


async def test_a_late_answer_is_unconfirmed(sqlite_store, receiver, impatient) -> None:
    post = await make_post(sqlite_store, receiver.url)
    receiver.delay_next(3)
    started = time.monotonic()

    outcome = await impatient.publish(post, post.targets[0])

    assert time.monotonic() - started < 2.5
    assert outcome.status is DeliveryStatus.UNCONFIRMED
    assert outcome.error_kind is ErrorKind.UNCONFIRMED
    # It did arrive: that is why it must not be resent on its own.
    assert len(receiver.requests) == 1 and receiver.requests[0].verified


async def test_a_closed_port_is_retryable(sqlite_store, publisher) -> None:
    post = await make_post(sqlite_store, f"http://127.0.0.1:{closed_port()}/hook")

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.RETRYABLE
    assert outcome.error_code == "network"


async def test_plain_http_to_another_host_is_refused_before_sending(sqlite_store, publisher) -> None:
    post = await make_post(sqlite_store, "http://hooks.example.com/in")

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.PERMANENT
    assert "https://" in (outcome.error_message or "")


async def test_the_signing_secret_never_reaches_the_logs(sqlite_store, receiver, publisher, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    post = await make_post(sqlite_store, receiver.url)
    receiver.respond_next(500, "boom")

    await publisher.publish(post, post.targets[0])

    assert "webhook delivery to hook-1" in caplog.text
    assert SECRET not in caplog.text
    assert sign(SECRET, receiver.requests[0].body) not in caplog.text


# -- the whole content: text, its HTML and entities, media kinds, buttons ------------------------------


async def test_the_body_carries_the_formatting_every_media_kind_and_the_buttons(
    sqlite_store, receiver, publisher
) -> None:
    video = os.urandom(MEDIA_CHUNK * 2 + 5)  # read and encoded a chunk at a time
    photo = os.urandom(400)
    target = Target(target_id="hook-1", name="Shop automations", address="127.0.0.1", platform=Platform.WEBHOOK)
    account = await sqlite_store.add_account(
        USER_ID, Platform.WEBHOOK, "Automations", webhook_credential(receiver.url, SECRET), [target]
    )
    italic = [{"type": "italic", "offset": 0, "length": 5}]
    front = Image("front.jpg", await sqlite_store.put_image(photo), "Front <door>", len(photo), spoiler=True)
    front.caption_entities = italic
    tour = Image("tour.mp4", await sqlite_store.put_media(io.BytesIO(video)), "", len(video), "video/mp4")
    tour.kind = MediaKind.VIDEO
    images = [front, tour]
    content = Content(
        caption="Big sale & more",
        caption_entities=[
            {"type": "bold", "offset": 0, "length": 8},
            {"type": "text_link", "offset": 11, "length": 4, "url": "https://shop.example/?a=1&b=2"},
        ],
        images=images,
        buttons=[[Button("Order", url="https://shop.example/order")], [Button("Code", copy_text="SPRING10")]],
        link_preview=LinkPreview(show=False),
        caption_above=True,
    )
    post = await sqlite_store.create_post(
        new_post(
            user_id=USER_ID,
            account=account,
            targets=[account.targets[0]],
            main_caption="",
            scheduled_time=datetime(2030, 12, 1, 17, 30, tzinfo=UTC),
            content=content,
        )
    )

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT, outcome
    [request] = receiver.requests
    assert request.verified
    assert request.body == json.dumps(request.json, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    body = request.json
    assert body["caption"] == "Big sale & more"
    assert body["caption_html"] == '<b>Big sale</b> &amp; <a href="https://shop.example/?a=1&amp;b=2">more</a>'
    assert body["caption_entities"] == content.caption_entities
    assert [(item["name"], item["kind"], item["spoiler"], item["size"]) for item in body["images"]] == [
        ("front.jpg", "photo", True, len(photo)),
        ("tour.mp4", "video", False, len(video)),
    ]
    assert body["images"][0]["caption_html"] == "<i>Front</i> &lt;door&gt;"
    assert body["images"][0]["caption_entities"] == [{"type": "italic", "offset": 0, "length": 5}]
    assert [base64.b64decode(item["data_base64"]) for item in body["images"]] == [photo, video]
    assert body["buttons"] == [
        [{"text": "Order", "url": "https://shop.example/order"}],
        [{"text": "Code", "copy_text": "SPRING10"}],
    ]
    assert body["link_preview"] == {"show": False, "above_text": False, "large_media": False}
    assert body["caption_above"] is True


async def test_a_media_file_gone_from_storage_is_a_permanent_failure_and_nothing_is_sent(
    sqlite_store, receiver, publisher
) -> None:
    post = await make_post(sqlite_store, receiver.url, "Gone", [(b"photo", "")])
    post.images[0].blob_id = "0" * 64

    outcome = await publisher.publish(post, post.targets[0])

    assert (outcome.status, outcome.error_code) == (DeliveryStatus.FAILED, "missing_image")
    assert receiver.requests == []
