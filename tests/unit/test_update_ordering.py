"""PerUserUpdateProcessor: people in parallel, each person's updates in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from handlers.ordering import PerUserUpdateProcessor, ordering_key


def message_update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"u{user_id}", is_bot=False)
    chat = Chat(user_id, "private")
    return Update(update_id, message=Message(update_id, datetime.now(UTC), chat, from_user=user, text="hi"))


async def test_one_persons_updates_run_in_order_and_others_run_meanwhile() -> None:
    processor = PerUserUpdateProcessor(working=8)
    log: list[tuple[str, int, int]] = []
    running = {"now": 0, "most": 0}

    async def handle(user_id: int, n: int, delay: float) -> None:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        log.append(("start", user_id, n))
        await asyncio.sleep(delay)
        log.append(("end", user_id, n))
        running["now"] -= 1

    def start(update: Update, work: object) -> asyncio.Task[None]:
        return asyncio.create_task(processor.process_update(update, work))  # type: ignore[arg-type]

    # Alice's first update is the slowest: her later ones must still wait for it.
    tasks = [start(message_update(n, 1), handle(1, n, 0.05 - n * 0.01)) for n in range(5)]
    tasks += [start(message_update(10 + n, 100 + n), handle(100 + n, 0, 0.02)) for n in range(5)]
    await asyncio.gather(*tasks)

    alice = [(event, n) for event, user, n in log if user == 1]
    assert alice == [(event, n) for n in range(5) for event in ("start", "end")]
    # The others did not wait for Alice's queue.
    first_alice_end = log.index(("end", 1, 0))
    assert all(log.index(("start", 100 + n, 0)) < first_alice_end for n in range(5))
    assert running["most"] == 6  # Alice's one at a time, plus the five others
    assert processor.people_in_queue == 0  # nothing kept per person afterwards


async def test_working_bounds_updates_handled_at_once_without_starving_others() -> None:
    processor = PerUserUpdateProcessor(working=2)
    running = {"now": 0, "most": 0}
    order: list[int] = []

    async def handle(user_id: int) -> None:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        await asyncio.sleep(0.01)
        order.append(user_id)
        running["now"] -= 1

    # A flood from one person queued first, then one update of someone else.
    tasks = [asyncio.create_task(processor.process_update(message_update(n, 1), handle(1))) for n in range(20)]
    tasks.append(asyncio.create_task(processor.process_update(message_update(99, 2), handle(2))))
    await asyncio.gather(*tasks)
    assert running["most"] == 2
    assert order.index(2) < 3  # served next to the flood, not after it


async def test_a_failing_update_does_not_block_the_persons_next_one() -> None:
    processor = PerUserUpdateProcessor()

    async def fail() -> None:
        raise RuntimeError("handler bug")

    async def ok() -> str:
        return "ok"

    first = asyncio.create_task(processor.process_update(message_update(1, 7), fail()))
    second = asyncio.create_task(processor.process_update(message_update(2, 7), ok()))
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and results[1] is None
    assert processor.people_in_queue == 0


def test_updates_without_a_user_queue_by_chat_and_others_alone() -> None:
    channel = Chat(-100123, "channel")
    post = Update(1, channel_post=Message(1, datetime.now(UTC), channel, text="x"))
    assert ordering_key(post) == ("chat", -100123)
    assert ordering_key(message_update(2, 5)) == ("user", 5)
    one, other = object(), object()
    assert ordering_key(one) != ordering_key(other)
