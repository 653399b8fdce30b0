"""The long-lived parts the chat and the scheduler share, and the one way they tell each other
that a post changed. Neutral ground: handlers/ and scheduler/ both import it, it imports neither."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from config import Settings
from storage.base import Store
from storage.models import Post


class PostEvent(StrEnum):
    """What happened to a post outside the scheduler."""

    SCHEDULED = "scheduled"  # new, moved to another time, or retried
    CANCELLED = "cancelled"
    FINISHED = "finished"  # finished by a person (the last target confirmed as posted by hand)


PostListener = Callable[[PostEvent, Post], Awaitable[None]]


async def _nobody(event: PostEvent, post: Post) -> None:
    """No scheduler is listening (a test of the chat alone)."""


@dataclass
class Services:
    """The store and settings, kept in `bot_data` (not persisted), and the listener that the
    scheduler installs to hear of posts changed in the chat."""

    store: Store
    settings: Settings
    listener: PostListener = _nobody

    async def post_changed(self, event: PostEvent, post: Post) -> None:
        """Tells the scheduler that `post` was scheduled, cancelled or finished in the chat."""
        await self.listener(event, post)
