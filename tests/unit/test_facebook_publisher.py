"""The Facebook Page publisher over real HTTP (requests) against the fake Graph API."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from publishers.base import Shortfall
from publishers.facebook import FacebookPagePublisher, GraphError, PageInfo, classify
from storage.base import MEDIA_CHUNK
from storage.models import (
    Account,
    Button,
    Content,
    DeliveryStatus,
    ErrorKind,
    Image,
    MediaKind,
    Platform,
    Post,
    Target,
    new_post,
)
from storage.sqlite import SQLiteStore
from tests.contract.helpers import schedule, store_images
from tests.e2e.herald_process import closed_port
from tests.fakes.graph_api import FakeGraphAPI

USER_ID = 4242
PAGE_ID = "1001"
PAGE_TOKEN = "EAAPAGE-shop-5b1f0c9d7e"
USER_TOKEN = "EAAUSER-owner-a93c1e77f2"


def png(seed: int, size: int = 2048) -> bytes:
    """Bytes the fake accepts as an image: a PNG signature, then noise."""
    return b"\x89PNG\r\n\x1a\n" + hashlib.sha256(str(seed).encode()).digest() + os.urandom(size)


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as fake:
        fake.add_page_token(PAGE_ID, "Shop", PAGE_TOKEN)
        yield fake


@pytest.fixture
def publisher(sqlite_store: SQLiteStore, graph: FakeGraphAPI) -> Iterator[FacebookPagePublisher]:
    made = FacebookPagePublisher(sqlite_store, graph.url, timeout=2.0)
    yield made
    made.close()


@pytest.fixture
def impatient(sqlite_store: SQLiteStore, graph: FakeGraphAPI) -> Iterator[FacebookPagePublisher]:
    """A publisher that waits half a second for Facebook's answers."""
    made = FacebookPagePublisher(sqlite_store, graph.url, timeout=0.5)
    yield made
    made.close()


def page_target(page_id: str = PAGE_ID, name: str = "Shop") -> Target:
    return Target(target_id=f"fb-{page_id}", name=name, address=page_id, platform=Platform.FACEBOOK_PAGE)


async def add_account(store: SQLiteStore, credential: str, targets: list[Target] | None = None) -> Account:
    return await store.add_account(
        USER_ID, Platform.FACEBOOK_PAGE, "Shop owner", credential, targets or [page_target()]
    )


async def make_post(
    store: SQLiteStore, caption: str, images: list[tuple[bytes, str]] | None = None, account: Account | None = None
) -> Post:
    """A post due in an hour to the first target of `account` (by default a new one holding
    PAGE_TOKEN for the Shop page), its images stored first."""
    account = account or await add_account(store, PAGE_TOKEN)
    stored = await store_images(store, images or [], "photo{}.png", "image/png")
    when = datetime.now(UTC) + timedelta(hours=1)
    return await schedule(store, USER_ID, account, when=when, caption=caption, images=stored, target_count=1)


# -- publishing ------------------------------------------------------------------------------


async def test_text_post_goes_to_the_page_feed_with_a_link(sqlite_store, graph, publisher) -> None:
    post = await make_post(sqlite_store, "Open late tonight!")

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT, outcome
    [published] = graph.feed(PAGE_ID)
    assert published["message"] == "Open late tonight!"
    assert published["attached_media"] == []
    assert graph.photos(PAGE_ID) == []
    assert outcome.message_id == published["id"]
    assert published["id"].startswith(f"{PAGE_ID}_")
    assert outcome.url == f"https://www.facebook.com/{published['id']}"
    # The token travels in the Authorization header, never in a URL or a form field.
    feed_calls = [call for call in graph.calls if call["path"] == f"/{PAGE_ID}/feed"]
    assert [call["token_via"] for call in feed_calls] == ["header"]


async def test_one_photo_is_published_on_the_photos_edge(sqlite_store, graph, publisher) -> None:
    data = png(1)
    post = await make_post(sqlite_store, "New arrivals", [(data, "The blue one")])

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT, outcome
    [photo] = graph.photos(PAGE_ID)
    assert photo["published"] is True
    assert photo["caption"] == "New arrivals\n\nThe blue one"
    assert photo["size"] == len(data)
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()
    assert photo["content_type"] == "image/png"
    # The photo's own post, not the photo id, identifies the publication.
    assert outcome.message_id == photo["post_id"]
    assert outcome.url == f"https://www.facebook.com/{photo['post_id']}"
    assert [entry["id"] for entry in graph.feed(PAGE_ID)] == [photo["post_id"]]
    assert not any(call["path"].endswith("/feed") for call in graph.calls)


async def test_three_photos_become_one_post_attaching_exactly_them(sqlite_store, graph, publisher) -> None:
    images = [(png(1), "front"), (png(2), "side"), (png(3), "")]
    post = await make_post(sqlite_store, "Three new chairs", images)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT, outcome
    photos = graph.photos(PAGE_ID)
    assert [photo["published"] for photo in photos] == [False, False, False]
    assert [photo["caption"] for photo in photos] == ["front", "side", ""]
    assert [photo["sha256"] for photo in photos] == [hashlib.sha256(data).hexdigest() for data, _ in images]
    [published] = graph.feed(PAGE_ID)
    assert published["message"] == "Three new chairs"
    assert published["attached_media"] == [photo["id"] for photo in photos]
    assert outcome.message_id == published["id"]
    assert outcome.url == f"https://www.facebook.com/{published['id']}"
    photo_calls = [call for call in graph.calls if call["path"] == f"/{PAGE_ID}/photos"]
    assert [call["fields"]["published"] for call in photo_calls] == ["false"] * 3


async def test_a_refused_multi_photo_post_leaves_no_uploaded_photo_behind(sqlite_store, graph, publisher) -> None:
    post = await make_post(sqlite_store, "Refused", [(png(1), ""), (png(2), ""), (png(3), "")])
    graph.fail_next("/feed", 506, "Duplicate status message")

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.PERMANENT
    assert graph.feed(PAGE_ID) == []
    assert graph.photos(PAGE_ID) == []  # the three uploads were deleted again
    deletes = [call for call in graph.calls if call["method"] == "DELETE"]
    assert len(deletes) == 3
    # A retry starts clean: the post gets exactly its own three photos.
    retried = await publisher.publish(post, post.targets[0])
    assert retried.status is DeliveryStatus.SENT
    assert len(graph.photos(PAGE_ID)) == 3 and len(graph.feed(PAGE_ID)[0]["attached_media"]) == 3


async def test_photos_of_a_post_that_may_be_live_are_kept(sqlite_store, graph, impatient) -> None:
    post = await make_post(sqlite_store, "Maybe out", [(png(1), ""), (png(2), "")])
    graph.delay("/feed", 3)

    outcome = await impatient.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.UNCONFIRMED
    assert not [call for call in graph.calls if call["method"] == "DELETE"]
    await asyncio.sleep(3)  # the delayed feed post lands: its photos are there, attached
    [live] = graph.feed(PAGE_ID)
    assert live["attached_media"] == [photo["id"] for photo in graph.photos(PAGE_ID)]


async def test_a_user_token_finds_its_pages_and_posts_with_the_page_token(sqlite_store, graph, publisher) -> None:
    graph.add_user_token(USER_TOKEN, pages=[("2001", "Blog", "EAAPAGE-blog-1"), ("2002", "Cafe", "EAAPAGE-cafe-2")])

    pages = await publisher.discover_pages(USER_TOKEN)

    assert pages == [PageInfo("2001", "Blog", "EAAPAGE-blog-1"), PageInfo("2002", "Cafe", "EAAPAGE-cafe-2")]
    assert "EAAPAGE" not in repr(pages)
    account = await add_account(sqlite_store, USER_TOKEN, [page_target("2002", "Cafe")])
    post = await make_post(sqlite_store, "Cake of the day: lemon", account=account)

    outcome = await publisher.publish(post, post.targets[0])

    # The fake refuses a user token on a Page's feed, as Facebook does: success means the Page token was used.
    assert outcome.status is DeliveryStatus.SENT, outcome
    assert [entry["message"] for entry in graph.feed("2002")] == ["Cake of the day: lemon"]
    assert graph.feed("2001") == []


async def test_a_page_token_discovers_the_page_itself(graph, publisher) -> None:
    assert await publisher.discover_pages(PAGE_TOKEN) == [PageInfo(PAGE_ID, "Shop", PAGE_TOKEN)]


async def test_a_page_token_without_an_accounts_edge_discovers_the_page_itself(graph, publisher) -> None:
    # Graph may answer a Page token's /me/accounts with (#100) instead of an empty list.
    graph.fail_next("/me/accounts", 100, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)")
    assert await publisher.discover_pages(PAGE_TOKEN) == [PageInfo(PAGE_ID, "Shop", PAGE_TOKEN)]


async def test_discovery_with_a_revoked_token_raises_a_reconnect_error(graph, publisher) -> None:
    graph.revoke(PAGE_TOKEN, subcode=463)
    with pytest.raises(GraphError) as raised:
        await publisher.discover_pages(PAGE_TOKEN)
    assert (raised.value.code, raised.value.subcode) == (190, 463)
    outcome = classify(raised.value, publishing=False)
    assert "reconnect" in (outcome.error_message or "") and "expired" in (outcome.error_message or "")


async def test_a_user_without_pages_discovers_none(graph, publisher) -> None:
    graph.add_user_token(USER_TOKEN, pages=[])
    assert await publisher.discover_pages(USER_TOKEN) == []


async def test_many_pages_are_followed_across_result_pages(graph, publisher) -> None:
    listed = [(str(3000 + n), f"Page {n}", f"EAAPAGE-{n}") for n in range(130)]
    graph.add_user_token(USER_TOKEN, pages=listed)

    pages = await publisher.discover_pages(USER_TOKEN)

    assert [(page.id, page.name, page.access_token) for page in pages] == listed
    account_calls = [call for call in graph.calls if call["path"] == "/me/accounts"]
    assert len(account_calls) == 2


async def test_a_page_the_account_no_longer_manages_is_a_permanent_failure(sqlite_store, graph, publisher) -> None:
    graph.add_user_token(USER_TOKEN, pages=[("2001", "Blog", "EAAPAGE-blog-1")])
    account = await add_account(sqlite_store, USER_TOKEN, [page_target("9999", "Old page")])
    post = await make_post(sqlite_store, "hello", account=account)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.PERMANENT
    assert "Old page" in (outcome.error_message or "")


# -- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("subcode", [460, 463])
async def test_a_revoked_token_asks_to_reconnect(sqlite_store, graph, publisher, caplog, subcode) -> None:
    caplog.set_level(logging.DEBUG)
    post = await make_post(sqlite_store, "hello")
    graph.revoke(PAGE_TOKEN, subcode=subcode)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.PERMANENT
    assert outcome.error_code == "190"
    assert "reconnect" in (outcome.error_message or "").lower()
    assert PAGE_TOKEN not in (outcome.error_message or "")
    stored = await sqlite_store.get_account(USER_ID, post.account_id)
    assert stored is not None and stored.needs_reconnect
    assert graph.feed(PAGE_ID) == []
    assert PAGE_TOKEN not in caplog.text


async def test_a_token_revoked_after_discovery_is_caught_when_posting(sqlite_store, graph, publisher) -> None:
    account = await add_account(sqlite_store, PAGE_TOKEN)
    first = await make_post(sqlite_store, "one", account=account)
    assert (await publisher.publish(first, first.targets[0])).status is DeliveryStatus.SENT
    graph.revoke(PAGE_TOKEN, subcode=460)
    second = await make_post(sqlite_store, "two", account=account)

    outcome = await publisher.publish(second, second.targets[0])

    assert (outcome.error_kind, outcome.error_code) == (ErrorKind.PERMANENT, "190")
    assert "password" in (outcome.error_message or "")
    stored = await sqlite_store.get_account(USER_ID, account.account_id)
    assert stored is not None and stored.needs_reconnect


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (4, "(#4) Application request limit reached"),
        (17, "(#17) User request limit reached"),
        (32, "Page request limit reached"),
        (613, "(#613) Calls to this api have exceeded the rate limit."),
    ],
)
async def test_throttling_is_retryable(sqlite_store, graph, publisher, code, message) -> None:
    post = await make_post(sqlite_store, "hello")
    graph.fail_next("/feed", code, message)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.RETRYABLE
    assert outcome.error_code == str(code)
    assert outcome.retry_after is None
    assert graph.feed(PAGE_ID) == []
    # The engine's retry then goes through.
    assert (await publisher.publish(post, post.targets[0])).status is DeliveryStatus.SENT
    assert len(graph.feed(PAGE_ID)) == 1


async def test_a_retry_after_header_is_passed_on(sqlite_store, graph, publisher) -> None:
    post = await make_post(sqlite_store, "hello")
    graph.fail_next("/feed", 32, "Page request limit reached", retry_after=42)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.is_retryable and outcome.retry_after == 42


async def test_http_429_is_retryable(sqlite_store, graph, publisher) -> None:
    post = await make_post(sqlite_store, "hello")
    graph.fail_next_http("/feed", 429, "Too Many Requests")

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.is_retryable


@pytest.mark.parametrize("permission", ["pages_manage_posts", "pages_read_engagement"])
async def test_a_missing_permission_is_permanent_and_named(sqlite_store, graph, publisher, permission) -> None:
    post = await make_post(sqlite_store, "hello")
    graph.deny_permission(PAGE_ID, permission)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.PERMANENT
    assert outcome.error_code == "200"
    assert permission in (outcome.error_message or "")
    # Only the one Facebook named, so the user knows what to grant.
    other = {"pages_manage_posts", "pages_read_engagement"} - {permission}
    assert other.pop() not in (outcome.error_message or "")
    stored = await sqlite_store.get_account(USER_ID, post.account_id)
    assert stored is not None and not stored.needs_reconnect


def test_permission_code_10_names_both_publishing_permissions() -> None:
    outcome = classify(GraphError(403, "(#10) Application does not have permission for this action", code=10))
    assert outcome.error_kind is ErrorKind.PERMANENT
    assert "pages_manage_posts" in (outcome.error_message or "")
    assert "pages_read_engagement" in (outcome.error_message or "")


async def test_a_server_error_is_retryable(sqlite_store, graph, publisher) -> None:
    post = await make_post(sqlite_store, "hello")
    graph.fail_next("/feed", 2, "An unexpected error has occurred. Please retry your request later.", http_status=500)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.RETRYABLE
    assert outcome.error_code == "2"


async def test_a_bare_502_is_retryable(sqlite_store, graph, publisher) -> None:
    post = await make_post(sqlite_store, "hello", [(png(1), ""), (png(2), "")])
    graph.fail_next_http("/photos", 502, "<html><body>Bad Gateway</body></html>")

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.RETRYABLE
    assert outcome.error_code == "502"
    assert graph.feed(PAGE_ID) == []


async def test_another_client_error_is_permanent_with_graphs_message(sqlite_store, graph, publisher) -> None:
    post = await make_post(sqlite_store, "hello")
    graph.fail_next("/feed", 506, "Duplicate status message")

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.PERMANENT
    assert outcome.error_code == "506"
    assert "Duplicate status message" in (outcome.error_message or "")


async def test_an_answer_lost_after_publishing_is_unconfirmed(sqlite_store, graph, impatient) -> None:
    post = await make_post(sqlite_store, "hello")
    graph.delay("/feed", 3)
    started = time.monotonic()

    outcome = await impatient.publish(post, post.targets[0])

    assert time.monotonic() - started < 2.5
    assert outcome.status is DeliveryStatus.UNCONFIRMED
    assert outcome.error_kind is ErrorKind.UNCONFIRMED
    assert "Shop" in (outcome.error_message or "")
    # Why it must not be retried on its own: the post is there.
    assert [entry["message"] for entry in graph.feed(PAGE_ID)] == ["hello"]


async def test_a_lost_answer_to_an_unpublished_upload_is_retryable(sqlite_store, graph, impatient) -> None:
    post = await make_post(sqlite_store, "two photos", [(png(1), ""), (png(2), "")])
    graph.delay("/photos", 3)

    outcome = await impatient.publish(post, post.targets[0])

    # Nothing became visible: an unpublished photo shows nowhere, so trying again is safe.
    assert outcome.error_kind is ErrorKind.RETRYABLE
    assert graph.feed(PAGE_ID) == []


async def test_an_unreachable_graph_is_retryable(sqlite_store) -> None:
    publisher = FacebookPagePublisher(sqlite_store, f"http://127.0.0.1:{closed_port()}/v21.0", timeout=2.0)
    try:
        post = await make_post(sqlite_store, "hello")

        outcome = await publisher.publish(post, post.targets[0])

        assert outcome.error_kind is ErrorKind.RETRYABLE
        assert outcome.error_code == "network"
        assert PAGE_TOKEN not in (outcome.error_message or "")
    finally:
        publisher.close()


async def test_a_missing_image_is_a_permanent_failure(sqlite_store, graph, publisher) -> None:
    post = await make_post(sqlite_store, "hello", [(png(1), "")])
    post.images[0].blob_id = "0" * 64

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.error_kind is ErrorKind.PERMANENT
    assert outcome.error_code == "missing_image"
    assert graph.photos(PAGE_ID) == []


async def test_no_token_reaches_any_log_line(sqlite_store, graph, publisher, caplog) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3 logs every request line at DEBUG
    graph.add_user_token(USER_TOKEN, pages=[("2001", "Blog", "EAAPAGE-blog-1")])
    account = await add_account(sqlite_store, USER_TOKEN, [page_target("2001", "Blog")])
    post = await make_post(sqlite_store, "hello", [(png(1), ""), (png(2), "")], account=account)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT
    assert "/2001/feed" in caplog.text  # the request lines were captured...
    assert USER_TOKEN not in caplog.text  # ...and carry no token
    assert "EAAPAGE-blog-1" not in caplog.text


# -- what a Page shows of formatting, buttons and media beyond photos --------------------------------

MP4 = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 16


async def content_post(
    store: SQLiteStore, caption: str, media: list[tuple[MediaKind, bytes, str]], **content: Any
) -> Post:
    """A post to the Shop page of `caption` and `media` (kind, bytes, caption), with the rest of
    its content (`caption_entities`, `buttons`…); big media stored a chunk at a time."""
    account = await add_account(store, PAGE_TOKEN)
    images = []
    for number, (kind, data, own) in enumerate(media, start=1):
        photo = kind is MediaKind.PHOTO
        name, mime = (f"item{number}.png", "image/png") if photo else (f"item{number}.mp4", "video/mp4")
        images.append(Image(name, await store.put_media(io.BytesIO(data)), own, len(data), mime, kind=kind))
    post = new_post(
        user_id=USER_ID,
        account=account,
        targets=account.targets,
        main_caption=caption,
        scheduled_time=datetime.now(UTC) + timedelta(hours=1),
        content=Content(caption=caption, images=images, **content),
    )
    return await store.create_post(post)


async def test_formatting_goes_plain_with_links_and_buttons_written_out(sqlite_store, graph, publisher) -> None:
    post = await content_post(
        sqlite_store,
        "Big sale at our shop today",
        [],
        caption_entities=[
            {"type": "bold", "offset": 0, "length": 8},
            {"type": "text_link", "offset": 16, "length": 4, "url": "https://shop.example"},
        ],
        buttons=[[Button("Order", url="https://shop.example/order"), Button("Code", copy_text="SPRING10")]],
    )

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT, outcome
    [published] = graph.feed(PAGE_ID)
    assert published["message"] == (
        "Big sale at our shop (https://shop.example) today\n\nOrder: https://shop.example/order\nCode: SPRING10"
    )


async def test_a_video_goes_through_the_video_upload_streamed_with_the_text(sqlite_store, graph, publisher) -> None:
    video = MP4 + os.urandom(MEDIA_CHUNK * 2 + 77)  # more than one chunk of the store
    post = await content_post(sqlite_store, "Watch this", [(MediaKind.VIDEO, video, "Our kitchen")])

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT, outcome
    [uploaded] = graph.videos(PAGE_ID)
    assert uploaded["sha256"] == hashlib.sha256(video).hexdigest() and uploaded["size"] == len(video)
    assert uploaded["description"] == "Watch this\n\nOur kitchen" and uploaded["published"] is True
    assert uploaded["content_type"] == "video/mp4"
    assert outcome.message_id == uploaded["id"]
    assert outcome.url == f"https://www.facebook.com/{PAGE_ID}/videos/{uploaded['id']}"
    assert graph.feed(PAGE_ID) == [] and graph.photos(PAGE_ID) == []
    [call] = [call for call in graph.calls if call["path"] == f"/{PAGE_ID}/videos"]
    assert call["token_via"] == "header" and call["fields"]["source"]["size"] == len(video)


async def test_photos_make_the_post_and_each_video_a_post_of_its_own(sqlite_store, graph, publisher) -> None:
    media = [
        (MediaKind.PHOTO, png(1), "front"),
        (MediaKind.VIDEO, MP4 + b"one", "tour"),
        (MediaKind.ANIMATION, MP4 + b"gif", ""),
        (MediaKind.PHOTO, png(2), "side"),
        (MediaKind.DOCUMENT, b"%PDF-1.4", "menu"),
        (MediaKind.AUDIO, b"ID3", "jingle"),
    ]
    post = await content_post(sqlite_store, "Open house", media)

    outcome = await publisher.publish(post, post.targets[0])

    assert outcome.status is DeliveryStatus.SENT, outcome
    [published] = graph.feed(PAGE_ID)
    assert published["message"] == "Open house"
    assert [photo["caption"] for photo in graph.photos(PAGE_ID)] == ["front", "side"]
    assert outcome.message_id == published["id"]
    # A feed post attaches photos only; the files and the audio have no place on a Page.
    assert [video["description"] for video in graph.videos(PAGE_ID)] == ["tour", ""]
    uploads = [call["fields"]["source"]["filename"] for call in graph.calls if "source" in call["fields"]]
    assert uploads == ["item1.png", "item4.png", "item2.mp4", "item3.mp4"]


async def test_a_post_of_files_only_is_refused_saying_why(sqlite_store, graph, publisher) -> None:
    post = await content_post(sqlite_store, "", [(MediaKind.DOCUMENT, b"%PDF", "menu"), (MediaKind.AUDIO, b"ID3", "")])

    outcome = await publisher.publish(post, post.targets[0])

    assert (outcome.status, outcome.error_kind, outcome.error_code) == (
        DeliveryStatus.FAILED,
        ErrorKind.PERMANENT,
        "nothing_to_post",
    )
    assert "documents and audio files" in (outcome.error_message or "")
    assert graph.calls == []


async def test_a_video_refused_after_the_post_is_out_is_reported_not_retried(sqlite_store, graph, publisher) -> None:
    post = await content_post(
        sqlite_store, "Two clips", [(MediaKind.VIDEO, MP4 + b"1", "first"), (MediaKind.VIDEO, MP4 + b"2", "second")]
    )
    graph.fail_next("/videos", 352, "(#352) Sorry, the video file you selected is in a format that we don't support.")

    refused = await publisher.publish(post, post.targets[0])
    assert (refused.status, refused.error_kind) == (DeliveryStatus.FAILED, ErrorKind.PERMANENT)
    assert graph.videos(PAGE_ID) == []

    other = await content_post(
        sqlite_store, "Two clips", [(MediaKind.VIDEO, MP4 + b"3", "first"), (MediaKind.VIDEO, b"not a video", "x")]
    )
    partly = await publisher.publish(other, other.targets[0])
    assert partly.status is DeliveryStatus.SENT and partly.message_id == graph.videos(PAGE_ID)[0]["id"]
    assert "a video did not go out" in (partly.error_message or "")


def test_what_a_page_shows_otherwise_is_named_for_the_preview() -> None:
    photo, video = Image("p", "b1"), Image("v", "b2", kind=MediaKind.VIDEO, spoiler=True)
    plain = Content(caption="Hi", images=[photo])
    assert FacebookPagePublisher.shortfalls(plain) == []
    rich = Content(
        caption="Hi",
        caption_entities=[{"type": "bold", "offset": 0, "length": 2}],
        images=[photo, video, Image("d", "b3", kind=MediaKind.DOCUMENT), Image("g", "b4", kind=MediaKind.ANIMATION)],
        buttons=[[Button("Go", url="https://a.example")]],
    )
    assert FacebookPagePublisher.shortfalls(rich) == [
        Shortfall.PLAIN_TEXT,
        Shortfall.BUTTONS_AS_TEXT,
        Shortfall.NO_SPOILERS,
        Shortfall.DOCUMENTS_LEFT_OUT,
        Shortfall.VIDEOS_APART,
        Shortfall.GIFS_AS_VIDEOS,
    ]
