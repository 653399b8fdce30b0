"""The long-lived parts the chat and the scheduler share, and the one way they tell each other
that a post changed. Neutral ground: handlers/ and scheduler/ both import it, it imports neither."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from config import Settings
from storage.base import Store
from storage.models import Post
from storage.series import Series


class PostEvent(StrEnum):
    """What happened to a post outside the scheduler."""

    SCHEDULED = "scheduled"  # new, moved to another time, or retried
    CANCELLED = "cancelled"
    FINISHED = "finished"  # finished by a person (the last target confirmed as posted by hand)


PostListener = Callable[[PostEvent, Post], Awaitable[None]]
SeriesListener = Callable[[Series], Awaitable[None]]


async def _nobody(event: PostEvent, post: Post) -> None:
    """No scheduler is listening (a test of the chat alone)."""


async def _no_one(series: Series) -> None:
    """No scheduler is listening for series (a test of the chat alone)."""


@dataclass
class Services:
    """The store and settings, kept in `bot_data` (not persisted), and the listener that the
    scheduler installs to hear of posts changed in the chat."""

    store: Store
    settings: Settings
    listener: PostListener = _nobody
    series_listener: SeriesListener = _no_one

    async def post_changed(self, event: PostEvent, post: Post) -> None:
        """Tells the scheduler that `post` was scheduled, cancelled or finished in the chat."""
        await self.listener(event, post)

    async def series_changed(self, series: Series) -> None:
        """Tells the scheduler that a series was made or changed in the chat (its next time moved,
        paused, resumed, ended)."""
        await self.series_listener(series)
