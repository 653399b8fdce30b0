"""A person's posting schedule and the queue it feeds: weekly slots (a weekday and a local time,
for all targets or for one set of targets), which of them is the next free one, and the times of
queued posts re-placed after the person reorders them.

Slots live on the wall clock of the person's zone, placed with `storage.recurrence.on_the_wall`
like the occurrences of a series: 09:00 stays 09:00 across a DST change, a slot the clocks skip
that day moves forward by the gap, and one they repeat is taken once (the first time).

A slot is taken only by a queued post at its instant; a post given an exact time never takes one,
so a chosen time always wins over the queue."""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from storage.models import to_millis
from storage.recurrence import local_day, on_the_wall

# How far ahead the queue looks for a free slot: as far as a post may be scheduled at all.
QUEUE_HORIZON = timedelta(days=365)
# At most this many slots in one schedule: 7 days × a few times a day, with room to spare.
MAX_SLOTS = 70


@dataclass(frozen=True, order=True)
class Slot:
    """A weekly posting time: `weekday` (Monday = 0) at the local time `at`, for the posts that go
    to exactly the targets `targets` (sorted target ids), or for all posts when it is empty."""

    weekday: int
    at: time
    targets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"a weekday from 0 (Monday) to 6, not {self.weekday}")
        if self.at.second or self.at.microsecond or self.at.tzinfo is not None:
            raise ValueError("a slot is a local time to the minute")

    @property
    def code(self) -> str:
        """The slot in a button's callback data: `0-0900` (its targets are the screen's)."""
        return f"{self.weekday}-{self.at:%H%M}"


def slot_from_code(code: str, targets: tuple[str, ...] = ()) -> Slot | None:
    """The slot a button's `code` names (see `Slot.code`), or None for data of another shape."""
    day, _, clock = code.partition("-")
    if not (day.isdigit() and len(day) == 1 and clock.isdigit() and len(clock) == 4):
        return None
    hour, minute = int(clock[:2]), int(clock[2:])
    if int(day) > 6 or hour > 23 or minute > 59:
        return None
    return Slot(int(day), time(hour, minute), targets)


def target_key(target_ids: Iterable[str]) -> tuple[str, ...]:
    """The key of a set of targets as slots name it: its ids, sorted, each once."""
    return tuple(sorted(set(target_ids)))


def schedule_for(slots: Iterable[Slot], target_ids: Iterable[str]) -> tuple[str, ...]:
    """Which schedule a post to `target_ids` follows: the key of its own target set when slots
    exist for exactly that set, else () — the slots for all targets."""
    key = target_key(target_ids)
    return key if any(slot.targets == key for slot in slots) else ()


def slots_of(slots: Iterable[Slot], key: tuple[str, ...]) -> list[Slot]:
    """The slots of one schedule (`key` from `schedule_for`), in weekly order."""
    return sorted(slot for slot in slots if slot.targets == key)


def slot_times(slots: Iterable[Slot], zone: str, after: datetime) -> Iterator[datetime]:
    """The instants (UTC) of weekly `slots` in `zone` strictly after `after`, soonest first, each
    instant once (two slots the clocks move onto the same instant are one), up to a year ahead."""
    by_weekday: dict[int, list[time]] = {}
    for slot in slots:
        by_weekday.setdefault(slot.weekday, []).append(slot.at)
    if not by_weekday:
        return
    last = after
    # From the local day before: in a zone behind UTC, a late slot of the day before may still lie ahead.
    day = local_day(after, zone) - timedelta(days=1)
    end = after + QUEUE_HORIZON
    while True:
        for at in sorted(by_weekday.get(day.weekday(), ())):
            when = on_the_wall(day, at, zone)
            if when > end:
                return
            if when > last:
                last = when
                yield when
        if on_the_wall(day, time(0), zone) > end:
            return
        day += timedelta(days=1)


def next_free_slots(
    slots: Iterable[Slot], zone: str, now: datetime, taken: Collection[datetime], count: int = 1
) -> list[datetime]:
    """The next `count` slot instants after `now` that no queued post takes (`taken`: the times
    of the queued posts of this schedule), soonest first; fewer if the year ahead has no more."""
    busy = {to_millis(moment) for moment in taken}
    free: list[datetime] = []
    if count <= 0:
        return free
    for when in slot_times(slots, zone, now):
        if when in busy:
            continue
        free.append(when)
        if len(free) == count:
            break
    return free


def spaced_times(start: datetime, every: timedelta, count: int) -> list[datetime]:
    """`count` times from `start`, `every` apart (an exact interval: "every 2 hours" is 2 hours
    of real time, across a DST change too)."""
    if every <= timedelta(0):
        raise ValueError("an interval is positive")
    return [to_millis(start + every * number) for number in range(count)]


# -- reordering the queue -----------------------------------------------------------------------------
def replaced(order: Sequence[str], times: Iterable[datetime]) -> dict[str, datetime]:
    """The queue's times given out again in slot order: the first post of `order` gets the
    earliest of `times`, the next the next one… (the set of times stays the same)."""
    ordered = sorted(times)
    if len(ordered) != len(order):
        raise ValueError("one time per queued post")
    return dict(zip(order, ordered, strict=True))


def moved(order: Sequence[str], post_id: str, step: int) -> list[str]:
    """`order` with `post_id` swapped with its neighbour `step` (−1 up, +1 down) places away;
    unchanged at either end or if the post is not in it."""
    result = list(order)
    if post_id not in result:
        return result
    here = result.index(post_id)
    there = here + step
    if not 0 <= there < len(result):
        return result
    result[here], result[there] = result[there], result[here]
    return result


def shuffled(order: Sequence[str], rng: random.Random | None = None) -> list[str]:
    """`order` in a random order, different from it whenever it has two posts or more."""
    result = list(order)
    if len(result) < 2:
        return result
    chooser = rng or random.Random()
    while result == list(order):
        chooser.shuffle(result)
    return result


@dataclass(frozen=True)
class Queued:
    """A queued post as reordering sees it: its id, time, and the schedule it follows (the key
    from `schedule_for`: a post only ever moves onto the slots of its own schedule)."""

    post_id: str
    when: datetime
    schedule: tuple[str, ...] = ()


def _of_schedule(queue: Sequence[Queued], schedule: tuple[str, ...]) -> list[Queued]:
    return sorted((item for item in queue if item.schedule == schedule), key=lambda item: (item.when, item.post_id))


def _changed(items: Sequence[Queued], order: Sequence[str]) -> dict[str, datetime]:
    times = replaced(order, [item.when for item in items])
    return {item.post_id: times[item.post_id] for item in items if times[item.post_id] != item.when}


def moved_times(queue: Sequence[Queued], post_id: str, step: int) -> dict[str, datetime]:
    """The new times after `post_id` moves one place up (−1) or down (+1) among the queued posts
    of its schedule: it and that neighbour swap times. Only changed times; {} if it cannot move
    (at that end, or not queued)."""
    item = next((one for one in queue if one.post_id == post_id), None)
    if item is None:
        return {}
    group = _of_schedule(queue, item.schedule)
    return _changed(group, moved([one.post_id for one in group], post_id, step))


def shuffled_times(queue: Sequence[Queued], rng: random.Random | None = None) -> dict[str, datetime]:
    """The new times after each schedule's queued posts are shuffled onto that schedule's times
    (only changed ones; {} when no schedule has two posts)."""
    result: dict[str, datetime] = {}
    for schedule in dict.fromkeys(item.schedule for item in queue):
        group = _of_schedule(queue, schedule)
        result |= _changed(group, shuffled([one.post_id for one in group], rng))
    return result
