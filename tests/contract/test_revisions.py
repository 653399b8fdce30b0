"""Edit everywhere and Delete everywhere, kept alike by each store: a revision is taken once (a
second press, a stale question, another user or a post not published takes none), and what it came
to — the new content, the targets deleted on, when — is kept, read back and survives other writes."""

from __future__ import annotations

from datetime import timedelta

from storage.base import Revised, Store
from storage.models import Button, Delivery, DeliveryStatus, Post, PostStatus, PostView
from tests.contract.helpers import add_account, claimed_post, schedule

ALICE, BOB = 1001, 1002


async def published(store: Store, *outcomes: DeliveryStatus) -> Post:
    """A post of Alice's published on two targets with these outcomes (both sent unless said)."""
    post, now = await claimed_post(store, ALICE)
    for target, outcome in zip(post.targets, outcomes or (DeliveryStatus.SENT,) * 2, strict=True):
        ids = ["11", "12", "13"] if outcome is DeliveryStatus.SENT else []
        post.deliveries[target.target_id] = Delivery(target.target_id, outcome, 1, ids[0] if ids else None, ids)
    finished = await store.finish_post(post, "w1", now)
    assert finished is not None
    return finished


async def test_a_revision_is_taken_once_and_only_by_the_owner(store: Store) -> None:
    post = await published(store)
    assert await store.begin_revision(BOB, post.post_id, 0) is None
    taken = await store.begin_revision(ALICE, post.post_id, 0)
    assert taken is not None and taken.revision == 1 and taken.status is PostStatus.PUBLISHED
    # The same confirm pressed again: the number it was asked at is gone.
    assert await store.begin_revision(ALICE, post.post_id, 0) is None
    again = await store.begin_revision(ALICE, post.post_id, 1)
    assert again is not None and again.revision == 2


async def test_only_a_published_or_partial_post_is_revised(store: Store) -> None:
    account = await add_account(store, ALICE)
    scheduled = await schedule(store, ALICE, account)
    assert await store.begin_revision(ALICE, scheduled.post_id, 0) is None
    partial = await published(store, DeliveryStatus.SENT, DeliveryStatus.FAILED)
    assert partial.status is PostStatus.PARTIAL
    assert await store.begin_revision(ALICE, partial.post_id, 0) is not None


async def test_an_edit_keeps_the_new_content_and_when(store: Store) -> None:
    post = await published(store)
    taken = await store.begin_revision(ALICE, post.post_id, 0)
    assert taken is not None
    new = taken.content
    new.caption, new.caption_entities = "Sale ends Sunday", [{"type": "bold", "offset": 0, "length": 4}]
    new.buttons = [[Button("Menu", url="https://shop.example/menu")]]
    at = post.published_at + timedelta(minutes=5) if post.published_at else None
    assert at is not None
    saved = await store.save_revision(ALICE, post.post_id, 1, Revised(at, content=new))
    assert saved is not None and saved.edited_at == at
    stored = await store.get_post(ALICE, post.post_id)
    assert stored is not None
    assert (stored.main_caption, stored.caption_entities, stored.buttons) == (
        "Sale ends Sunday",
        [{"type": "bold", "offset": 0, "length": 4}],
        [[Button("Menu", url="https://shop.example/menu")]],
    )
    assert stored.edited_at == at and stored.deleted_at is None and stored.revision == 1
    # Nothing edited anywhere: the content stays as it was.
    await store.begin_revision(ALICE, post.post_id, 1)
    await store.save_revision(ALICE, post.post_id, 2, Revised(at + timedelta(minutes=1)))
    kept = await store.get_post(ALICE, post.post_id)
    assert kept is not None and kept.main_caption == "Sale ends Sunday" and kept.edited_at == at


async def test_a_delete_marks_the_targets_it_reached_and_a_stale_save_is_refused(store: Store) -> None:
    post = await published(store)
    first, second = (target.target_id for target in post.targets)
    taken = await store.begin_revision(ALICE, post.post_id, 0)
    assert taken is not None and post.published_at is not None
    at = post.published_at + timedelta(hours=1)
    assert await store.save_revision(BOB, post.post_id, 1, Revised(at, deleted=[first])) is None
    assert await store.save_revision(ALICE, post.post_id, 0, Revised(at, deleted=[first])) is None
    saved = await store.save_revision(ALICE, post.post_id, 1, Revised(at, deleted=[first]))
    assert saved is not None
    stored = await store.get_post(ALICE, post.post_id)
    assert stored is not None and stored.deleted_at == at
    assert stored.deliveries[first].deleted_at == at and stored.deliveries[second].deleted_at is None
    assert stored.deliveries[first].message_ids == ["11", "12", "13"]
    history = (await store.list_posts(ALICE, PostView.HISTORY)).posts
    assert [p.post_id for p in history] == [post.post_id] and history[0].deleted_at == at
