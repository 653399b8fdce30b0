"""Small builders for contract tests: accounts, targets and posts with sensible defaults."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.base import Store
from storage.models import Account, Image, Platform, Post, Target, new_post, utc_now


def targets(count: int = 2, prefix: str = "tg") -> list[Target]:
    return [
        Target(target_id=f"{prefix}{-1000 - n}", name=f"Channel {n}", address=str(-1000 - n), kind="channel")
        for n in range(count)
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
