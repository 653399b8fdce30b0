"""Recurring series in each store: kept and read back whole, written only over the version read,
found when due, abandoned or coming soon, settled only by their claim's holder; and an
occurrence's post written once however many times it is offered."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from storage.base import Store
from storage.models import Claim, Image, Occurrence, PostStatus, new_post, to_millis, utc_now
from storage.recurrence import Frequency, Rule
from storage.series import (
    Series,
    SeriesStatus,
    committed,
    new_series,
    occurrence_post,
    occurrence_post_id,
    paused,
)
from tests.contract.helpers import add_account

LEASE = timedelta(minutes=1)
LATE = timedelta(hours=24)


async def make_series(
    store: Store, user_id: int, now: datetime, rule: Rule | None = None, caption: str = "Hi"
) -> Series:
    """A daily series of `user_id`'s through a webhook account, stored; its first time after `now`."""
    account = await add_account(store, user_id)
    images = [Image("photo-1.jpg", await store.put_image(b"jpeg bytes"), "first photo", 10)]
    template = new_post(
        user_id=user_id,
        account=account,
        targets=account.targets,
        main_caption=caption,
        scheduled_time=now,
        images=images,
    )
    rule = rule or Rule(Frequency.DAILY, time(9), "Europe/Berlin")
    return await store.create_series(new_series(user_id, rule, template, now))


async def test_a_series_reads_back_whole_and_only_by_its_owner(store: Store) -> None:
    now = to_millis(datetime(2027, 3, 27, 12, tzinfo=UTC))
    rule = Rule(Frequency.WEEKLY, time(9, 30), "America/New_York", interval=2, weekdays=(0, 4), count=10)
    made = await make_series(store, 1001, now, rule, caption="Weekly news")
    read = await store.get_series(1001, made.series_id)
    assert read == made
    assert read is not None and read.template.images[0].caption == "first photo"
    assert read.rule.start == date(2027, 3, 29) and read.next_time == datetime(2027, 3, 29, 13, 30, tzinfo=UTC)
    assert await store.get_series(1002, made.series_id) is None
    assert await store.load_series(made.series_id) == made
    assert [series.series_id for series in await store.list_series(1001)] == [made.series_id]
    assert await store.list_series(1002) == []


async def test_a_write_holds_only_over_the_version_it_was_made_from(store: Store) -> None:
    made = await make_series(store, 1001, utc_now())
    first, second = paused(made), replace(made.changed(), made=5)
    assert first is not None
    assert await store.save_series(first)
    # Made from the same version: refused, nothing of it written.
    assert not await store.save_series(second)
    read = await store.load_series(made.series_id)
    assert read is not None and read.status is SeriesStatus.PAUSED and read.made == 0 and read.version == 1
    # Both at once from one version: exactly one holds.
    racing = [replace(read.changed(), made=n) for n in range(1, 9)]
    held = await asyncio.gather(*(store.save_series(one) for one in racing))
    assert sum(held) == 1
    final = await store.load_series(made.series_id)
    assert final is not None and final.made == racing[held.index(True)].made and final.version == 2


async def test_listing_shows_active_series_by_next_time_then_paused_ones_and_never_ended_ones(store: Store) -> None:
    now = to_millis(datetime(2027, 3, 27, 12, tzinfo=UTC))
    late = await make_series(store, 1001, now, Rule(Frequency.DAILY, time(21), "UTC"))
    early = await make_series(store, 1001, now, Rule(Frequency.DAILY, time(15), "UTC"))
    stopped = await make_series(store, 1001, now, Rule(Frequency.DAILY, time(13), "UTC"))
    resting = await make_series(store, 1001, now, Rule(Frequency.DAILY, time(14), "UTC"))
    assert await store.save_series(stopped.changed(status=SeriesStatus.ENDED, next_time=None))
    resting_paused = paused(resting)
    assert resting_paused is not None and await store.save_series(resting_paused)
    assert [s.series_id for s in await store.list_series(1001)] == [early.series_id, late.series_id, resting.series_id]


async def test_due_abandoned_and_upcoming_series_are_found_and_nothing_else(store: Store) -> None:
    now = utc_now()
    rule = Rule(Frequency.DAILY, time(9), "UTC")
    due = await make_series(store, 1001, now - timedelta(days=2), rule)
    assert due.next_time is not None and due.next_time <= now
    soon = await make_series(store, 1001, now, rule)
    assert soon.next_time is not None
    paused_one = paused(await make_series(store, 1001, now - timedelta(days=2), rule))
    assert paused_one is not None and await store.save_series(paused_one)

    assert [s.series_id for s in await store.due_series(now)] == [due.series_id]
    upcoming = await store.upcoming_series(until=soon.next_time, after=now)
    assert upcoming == [(soon.series_id, soon.next_time)]
    assert await store.upcoming_series(until=soon.next_time - timedelta(seconds=1), after=now) == []

    # Committed by a worker: no longer due; abandoned once its lease ran out.
    taken = committed(due, now, LATE, "w1/s1", LEASE)
    assert taken is not None and await store.save_series(taken)
    assert await store.due_series(now) == []
    assert await store.abandoned_series(now) == []
    found = await store.abandoned_series(now + LEASE + timedelta(seconds=1))
    assert [s.series_id for s in found] == [due.series_id] and found[0].pending == taken.pending


async def test_only_the_claims_holder_settles_a_pending_occurrence(store: Store) -> None:
    now = utc_now()
    series = await make_series(store, 1001, now - timedelta(days=1))
    taken = committed(series, now, LATE, "w1/s1", LEASE)
    assert taken is not None and await store.save_series(taken)
    assert not await store.settle_series(series.series_id, "w2/s1")
    assert await store.settle_series(series.series_id, "w1/s1")
    assert not await store.settle_series(series.series_id, "w1/s1")  # once
    settled = await store.load_series(series.series_id)
    assert settled is not None and settled.pending is None and settled.claim is None
    assert settled.version == taken.version + 1 and settled.next_number == 1
    # A write made from the version before the settle is refused.
    assert not await store.save_series(replace(taken.changed(), made=99))


async def test_a_dead_workers_claims_on_series_end_at_once_and_only_its_own(store: Store) -> None:
    now = utc_now()
    mine = await make_series(store, 1001, now - timedelta(days=1))
    other = await make_series(store, 1001, now - timedelta(days=1))
    for series, holder in ((mine, "host-dead/s1"), (other, "host-deadbeef/s1")):
        taken = committed(series, now, LATE, holder, timedelta(hours=1))
        assert taken is not None and await store.save_series(taken)
    assert await store.expire_series_claims("host-dead", now) == 1
    assert [s.series_id for s in await store.abandoned_series(now)] == [mine.series_id]


async def test_an_occurrences_post_is_written_once_however_often_it_is_offered(store: Store) -> None:
    now = utc_now()
    series = await make_series(store, 1001, now - timedelta(days=1))
    taken = committed(series, now, LATE, "w1/s1", LEASE)
    assert taken is not None and taken.pending is not None
    claimed = occurrence_post(taken, taken.pending, now, Claim("w1/p1", now + LEASE, now))
    unclaimed = occurrence_post(taken, taken.pending, now)
    assert claimed.post_id == unclaimed.post_id == occurrence_post_id(series.series_id, 0)
    written = await asyncio.gather(*(store.add_post_if_absent(one) for one in [unclaimed, claimed] * 10))
    assert sum(written) == 1
    stored = await store.load_post(claimed.post_id)
    assert stored is not None and stored.occurrence == Occurrence(series.series_id, 0)
    assert stored.status is (PostStatus.SCHEDULED if written[0] else PostStatus.PUBLISHING)
    assert stored.images == series.template.images and stored.main_caption == "Hi"
    assert stored.targets == series.template.targets
    assert set(stored.deliveries) == {target.target_id for target in stored.targets}
    # A claimed one is claimed as a claim would: the engine takes it over once its lease ends.
    assert not await store.add_post_if_absent(claimed)
