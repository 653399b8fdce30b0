"""Small builders for contract tests: accounts, targets and posts with sensible defaults."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from storage.base import Store
from storage.models import Account, Delivery, Image, Platform, Post, Target, new_post, utc_now

LEASE = timedelta(minutes=5)


def targets(count: int = 2, prefix: str = "tg") -> list[Target]:
    return [
        Target(target_id=f"{prefix}{-1000 - n}", name=f"Channel {n}", address=str(-1000 - n), kind="channel")
        for n in range(count)
    ]


async def store_images(store: Store, images: Sequence[tuple[bytes, str]], name: str, mime_type: str) -> list[Image]:
    """Each (bytes, caption) stored as one of a post's images, named `name` with its number from 1
    (`"photo{}.png"` → photo1.png …)."""
    return [
        Image(name.format(number), await store.put_image(data), caption, len(data), mime_type)
        for number, (data, caption) in enumerate(images, start=1)
    ]


async def add_account(store: Store, user_id: int, credential: str = "token-123") -> Account:
    return await store.add_account(user_id, Platform.WEBHOOK, "Shop hooks", credential, targets())


async def schedule(
    store: Store,
    user_id: int,
    account: Account,
    when: datetime | None = None,
    caption: str = "Hello",
    images: list[Image] | None = None,
    target_count: int = 2,
) -> Post:
    post = new_post(
        user_id=user_id,
        account=account,
        targets=account.targets[:target_count] or targets(target_count),
        main_caption=caption,
        scheduled_time=when or utc_now() + timedelta(hours=1),
        images=images,
    )
    return await store.create_post(post)


async def claimed_post(
    store: Store, user_id: int, worker: str = "w1", target_count: int = 2, caption: str = "Hello"
) -> tuple[Post, datetime]:
    """A post of `user_id`'s (on an account of its own), due now and claimed by `worker` for LEASE;
    with that now."""
    account = await add_account(store, user_id)
    now = utc_now()
    post = await schedule(store, user_id, account, when=now, caption=caption, target_count=target_count)
    claimed = await store.claim_post(post.post_id, worker, now, LEASE)
    assert claimed is not None
    return claimed, now


async def record(store: Store, claimed: Post, worker: str, *deliveries: Delivery) -> None:
    """What `worker` writes as it publishes: each delivery, under its claim and on its copy of the post."""
    for delivery in deliveries:
        await store.record_delivery(claimed.post_id, worker, delivery)
        claimed.deliveries[delivery.target_id] = delivery
