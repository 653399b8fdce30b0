"""Updates handled concurrently across people, one after another for each person.

python-telegram-bot handles updates one at a time by default: one person's slow step (a few Bot API
round trips, a database call) delays everybody's answer. Handling them all concurrently would let
two updates of the same person race on their draft and their conversation state (an album arrives as
several updates at once). So: one queue per person (per chat for updates without a user), many
people at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates being handled at once, across people. The semaphore of BaseUpdateProcessor is taken
# before a person's turn comes, so it is set much higher: a person with many queued updates must
# not hold the places of the others while waiting for their own earlier updates.
WORKING = 32
QUEUED = 100_000


def ordering_key(update: object) -> Hashable:
    """Whose queue an update joins: its user's, else its chat's, else a queue of its own."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
    return ("update", id(update))


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Each person's updates in the order they came; up to `working` people's at the same time."""

    def __init__(self, working: int = WORKING, queued: int = QUEUED) -> None:
        super().__init__(max_concurrent_updates=max(queued, working))
        self._working = asyncio.Semaphore(working)
        # Per key: the lock and how many updates hold or wait for it (dropped at zero: no leak).
        self._turns: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        lock, waiting = self._turns.get(key, (asyncio.Lock(), 0))
        self._turns[key] = (lock, waiting + 1)
        try:
            async with lock, self._working:
                await coroutine
        finally:
            lock, waiting = self._turns[key]
            if waiting == 1:
                del self._turns[key]
            else:
                self._turns[key] = (lock, waiting - 1)

    @property
    def people_in_queue(self) -> int:
        """How many people have updates being handled or waiting (for tests and debugging)."""
        return len(self._turns)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
