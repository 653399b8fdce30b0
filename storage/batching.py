"""Writes made by many coroutines at the same moment, sent to the database together.

The publication's fenced single-post writes (a delivery marked `sending`, a post finished, a
lease renewed) come from hundreds of publications at once; each alone would cost a round trip (a
thread hop and a COMMIT for SQLite, a request for MongoDB). Both stores queue them here instead."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, TypeVar

Write = TypeVar("Write")
Answer = TypeVar("Answer")


class WriteBatcher(Generic[Write, Answer]):
    """Queues writes; the first one starts a flush, and everything queued until that flush takes
    the queue (at least the rest of this event-loop tick; with a `gate`, until the flush gets
    through it) is one batch for `send`. `send` returns one answer or exception per write, in
    order; each caller resumes only once its batch is done, with its own answer or exception. A
    caller cancelled meanwhile is simply skipped."""

    def __init__(
        self,
        send: Callable[[list[Write]], Awaitable[Sequence[Answer | Exception]]],
        gate: Callable[[], AbstractAsyncContextManager[Any]] = contextlib.nullcontext,
    ) -> None:
        self._send = send
        self._gate = gate
        self._queued: list[tuple[Write, asyncio.Future[Answer]]] = []
        self._flusher: asyncio.Task[None] | None = None  # the flush that will take the queue
        self._flushes: set[asyncio.Task[None]] = set()  # every flush not yet done (strong refs)

    async def write(self, write: Write) -> Answer:
        """Sends `write` with the others queued meanwhile; its own answer, or its own error."""
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._queued.append((write, answer))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
            self._flushes.add(self._flusher)
            self._flusher.add_done_callback(self._flushes.discard)
        return await answer

    async def drain(self) -> None:
        """Waits for the flushes in flight (before the connection closes)."""
        if self._flushes:
            await asyncio.wait(set(self._flushes))

    async def _flush(self) -> None:
        batch: list[tuple[Write, asyncio.Future[Answer]]] = []
        try:
            async with self._gate():
                # Writes queued from here on wait for the next flush.
                batch = [(write, answer) for write, answer in self._queued if not answer.done()]
                self._queued, self._flusher = [], None
                if not batch:
                    return
                outcomes = await self._send([write for write, _ in batch])
        except BaseException as exc:
            if self._flusher is asyncio.current_task():  # stopped before taking its batch
                batch, self._queued, self._flusher = self._queued, [], None
            for _, answer in batch:
                if answer.done():
                    continue
                if isinstance(exc, Exception):
                    answer.set_exception(exc)
                else:
                    answer.cancel()
            if not isinstance(exc, Exception):
                raise
            return  # every caller has the error; nobody awaits this task
        for (_, answer), outcome in zip(batch, outcomes, strict=True):
            if answer.done():  # its caller was cancelled meanwhile
                continue
            if isinstance(outcome, Exception):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)
