"""What a post shows, kept alike by each store: formatting, media kinds, spoilers, buttons, link
preview and caption place (through scheduling, posters, edit caption, reschedule and retry); media
bytes written and read a chunk at a time; documents from before all this read as they were."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import timedelta

from storage.base import MEDIA_CHUNK, Store, retried_post
from storage.codec import ISO_TIMES, image_from_doc, post_from_doc, post_to_doc
from storage.models import (
    Account,
    Button,
    Content,
    Delivery,
    DeliveryStatus,
    Image,
    LinkPreview,
    MediaKind,
    Platform,
    Poster,
    PostStatus,
    Target,
    new_id,
    new_post,
    utc_now,
)
from tests.contract.helpers import add_account, schedule

ALICE = 1001
BOLD = {"type": "bold", "offset": 0, "length": 5}
LINK = {"type": "text_link", "offset": 6, "length": 4, "url": "https://shop.example"}
BUTTONS = [
    [Button("Order", url="https://shop.example/order"), Button("Code", copy_text="SPRING10")],
    [Button("Chat", url="tg://resolve?domain=shop")],
]


def rich_content(blob_ids: list[str]) -> Content:
    return Content(
        caption="Grand sale soon",
        caption_entities=[BOLD, LINK],
        images=[
            Image("a.jpg", blob_ids[0], "Front", 10, caption_entities=[{"type": "italic", "offset": 0, "length": 5}]),
            Image("clip.mp4", blob_ids[1], "", 20, "video/mp4", "BAAC-file", MediaKind.VIDEO, spoiler=True),
            Image("menu.pdf", blob_ids[2], "Menu", 30, "application/pdf", kind=MediaKind.DOCUMENT),
        ],
        buttons=BUTTONS,
        link_preview=LinkPreview(show=True, above_text=True, large_media=False),
        caption_above=True,
    )


async def test_everything_a_post_shows_survives_the_store(store: Store) -> None:
    account = await add_account(store, ALICE)
    blobs = [await store.put_image(f"media {n}".encode()) for n in range(3)]
    content = rich_content(blobs)
    post = new_post(
        user_id=ALICE,
        account=account,
        targets=account.targets,
        main_caption="ignored",
        scheduled_time=utc_now() + timedelta(hours=1),
        content=content,
    )
    await store.create_post(post)
    loaded = await store.get_post(ALICE, post.post_id)
    assert loaded is not None and loaded.content == content
    # Rescheduled, the content stays.
    moved = await store.reschedule_post(ALICE, post.post_id, utc_now() + timedelta(hours=2))
    assert moved is not None and moved.content == content


async def test_a_new_caption_replaces_its_formatting_and_keeps_the_rest(store: Store) -> None:
    account = await add_account(store, ALICE)
    blobs = [await store.put_image(f"media {n}".encode()) for n in range(3)]
    post = await store.create_post(
        new_post(
            user_id=ALICE,
            account=account,
            targets=account.targets,
            main_caption="",
            scheduled_time=utc_now() + timedelta(hours=1),
            content=rich_content(blobs),
        )
    )
    italic = [{"type": "italic", "offset": 4, "length": 3}]
    updated = await store.update_caption(ALICE, post.post_id, "New sale", italic)
    assert updated is not None and (updated.main_caption, updated.caption_entities) == ("New sale", italic)
    loaded = await store.get_post(ALICE, post.post_id)
    assert loaded is not None and loaded.caption_entities == italic
    assert loaded.buttons == BUTTONS and loaded.images == post.images and loaded.caption_above
    plain = await store.update_caption(ALICE, post.post_id, "Plain now")
    assert plain is not None and plain.caption_entities == []


async def test_a_retried_post_keeps_what_it_shows(store: Store) -> None:
    account = await add_account(store, ALICE)
    blobs = [await store.put_image(f"media {n}".encode()) for n in range(3)]
    post = new_post(
        user_id=ALICE,
        account=account,
        targets=account.targets,
        main_caption="",
        scheduled_time=utc_now() - timedelta(minutes=1),
        content=rich_content(blobs),
    )
    post.status = PostStatus.PARTIAL
    post.deliveries = {
        target.target_id: Delivery(target.target_id, DeliveryStatus.FAILED if n else DeliveryStatus.SENT)
        for n, target in enumerate(post.targets)
    }
    await store.create_post(post)
    retried = await store.retry_failed(ALICE, post.post_id, utc_now())
    assert retried is not None and retried.content == post.content
    loaded = await store.get_post(ALICE, post.post_id)
    assert loaded is not None and loaded.content == post.content
    assert retried_post(post, utc_now()).content == post.content


async def test_a_poster_keeps_what_it_shows(store: Store) -> None:
    blobs = [await store.put_image(f"media {n}".encode()) for n in range(3)]
    content = rich_content(blobs)
    poster = Poster(
        new_id(),
        ALICE,
        "Sale",
        content.caption,
        content.images,
        caption_entities=content.caption_entities,
        buttons=content.buttons,
        link_preview=content.link_preview,
        caption_above=content.caption_above,
    )
    await store.save_poster(poster)
    loaded = await store.get_poster(ALICE, poster.poster_id)
    assert loaded is not None and loaded.content == content


async def test_big_media_are_written_and_read_a_chunk_at_a_time(store: Store) -> None:
    video = os.urandom(MEDIA_CHUNK * 3 + 12345)
    blob_id = await store.put_media(io.BytesIO(video))
    assert blob_id == hashlib.sha256(video).hexdigest()
    chunks = [chunk async for chunk in store.media_chunks(blob_id)]
    assert b"".join(chunks) == video and max(len(chunk) for chunk in chunks) <= MEDIA_CHUNK
    assert await store.load_image(blob_id) == video
    # The same bytes again are the same blob; small ones are stored as put_image stores them.
    assert await store.put_media(io.BytesIO(video)) == blob_id
    small = b"a small photo"
    assert await store.put_media(io.BytesIO(small)) == await store.put_image(small)
    assert [chunk async for chunk in store.media_chunks(await store.put_image(small))] == [small]
    assert [chunk async for chunk in store.media_chunks("0" * 64)] == []
    await store.set_image_file_id(blob_id, "BAAC-video")
    assert await store.image_file_id(blob_id) == "BAAC-video"


async def test_unused_big_media_are_purged_with_their_chunks(store: Store) -> None:
    account = await add_account(store, ALICE)
    kept = await store.put_media(io.BytesIO(os.urandom(MEDIA_CHUNK * 2 + 1)))
    orphan = await store.put_media(io.BytesIO(os.urandom(MEDIA_CHUNK * 2 + 2)))
    await schedule(store, ALICE, account, images=[Image("v.mp4", kept, kind=MediaKind.VIDEO)])
    assert await store.purge_orphan_images(utc_now() + timedelta(seconds=1)) == 1
    assert [chunk async for chunk in store.media_chunks(orphan)] == []
    assert await store.load_image(orphan) is None
    assert len(b"".join([chunk async for chunk in store.media_chunks(kept)])) == MEDIA_CHUNK * 2 + 1


def test_documents_from_before_media_kinds_and_buttons_read_as_photos_and_plain_posts() -> None:
    old_image = {"name": "photo-1.jpg", "blob_id": "b1", "caption": "Front", "size": 5, "mime_type": "image/jpeg"}
    image = image_from_doc(old_image)
    assert (image.kind, image.spoiler, image.caption_entities) == (MediaKind.PHOTO, False, [])
    account = Account("telegram", ALICE, Platform.TELEGRAM, "Telegram", [Target("tg-1", "Shop", "-1")])
    post = new_post(
        user_id=ALICE, account=account, targets=account.targets, main_caption="Hi", scheduled_time=utc_now()
    )
    doc = post_to_doc(post, ISO_TIMES)
    for name in ("caption_entities", "buttons", "link_preview", "caption_above"):
        doc.pop(name)
    doc["images"] = [old_image]
    loaded = post_from_doc(post.post_id, doc, ISO_TIMES)
    assert loaded.content == Content(caption="Hi", images=[image])
