"""The owners' reports on each store: one message per owner for posts that end together, marked
only once sent, retried after transient failures, never lost to a worker that dies, never twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from scheduler.engine import DELAY_NOTICE_AFTER, Publication, RetryPolicy
from scheduler.reporting import ReportDelayed, Reporter, ReportRefused
from storage.base import Store
from storage.models import Post, PostStatus, utc_now
from tests.contract.test_publication import USER, Recorder, ScriptedPublisher, _second_store, due_post, engine

OTHER = 2002


class Inbox:
    """Stands in for Telegram: records each message (owner, posts), or fails as told."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, list[str]]] = []
        self.failures: list[Exception] = []
        self.seen_notified: list[object] = []
        self.store: Store | None = None
        self.attempts = 0

    async def send(self, owner: int, posts: list[Post]) -> None:
        self.attempts += 1
        if self.store is not None:  # what another process sees while the message goes out
            stored = await self.store.load_post(posts[0].post_id)
            assert stored is not None
            self.seen_notified.append(stored.notified_at)
        if self.failures:
            raise self.failures.pop(0)
        self.messages.append((owner, [post.post_id for post in posts]))


def reporter(store: Store, inbox: Inbox, worker_id: str = "w1", **kwargs: object) -> Reporter:
    return Reporter(
        store,
        inbox.send,
        worker_id=worker_id,
        retry=RetryPolicy(base_delay=0.2, max_delay=1, jitter=0),
        **kwargs,  # type: ignore[arg-type]
    )


async def finished_posts(store: Store, owners: list[int]) -> list[Post]:
    posts = []
    for owner in owners:
        post = await due_post(store, targets=1)
        if owner != USER:
            await _move(store, post.post_id, owner)
        posts.append(post)
    assert await engine(store, ScriptedPublisher(), Recorder()).sweep() == len(owners)
    return posts


async def _move(store: Store, post_id: str, owner: int) -> None:
    from storage.mongo import MongoStore
    from storage.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        await store._execute("UPDATE posts SET user_id = ? WHERE post_id = ?", (owner, post_id))
    else:
        assert isinstance(store, MongoStore)
        await store.db.scheduled_posts.update_one({"post_id": post_id}, {"$set": {"user_id": owner}})


async def test_posts_that_end_together_make_one_message_per_owner_sent_once(store: Store) -> None:
    posts = await finished_posts(store, [USER, USER, USER, OTHER])
    inbox = Inbox()
    assert await reporter(store, inbox).run() == 4
    by_owner = {owner: sorted(ids) for owner, ids in inbox.messages}
    assert len(inbox.messages) == 2
    assert by_owner == {USER: sorted(p.post_id for p in posts[:3]), OTHER: [posts[3].post_id]}
    for post in posts:
        stored = await store.load_post(post.post_id)
        assert stored is not None and stored.notified_at is not None and stored.report_due_at is None
    # Nothing is left for this worker or another.
    assert await reporter(store, inbox).run() == 0
    assert await reporter(store, inbox, worker_id="w2").run() == 0
    assert len(inbox.messages) == 2


async def test_a_report_is_marked_only_after_it_was_sent_and_a_failure_is_tried_again(store: Store) -> None:
    (post,) = await finished_posts(store, [USER])
    witness = _second_store(store)
    await witness.open()
    try:
        inbox = Inbox()
        inbox.store = witness
        inbox.failures = [ConnectionError("Telegram is down"), ConnectionError("still down")]
        sender = reporter(store, inbox)
        assert await sender.run() == 1
        waiting = await store.load_post(post.post_id)
        assert waiting is not None and waiting.notified_at is None and waiting.report_holder is None
        assert waiting.report_due_at is not None and waiting.report_due_at > utc_now()
        # Tried again when due (the reporter wakes itself for it), with backoff, until it goes.
        for _ in range(100):
            if inbox.messages:
                break
            await asyncio.sleep(0.05)
        assert inbox.messages == [(USER, [post.post_id])]
        assert inbox.seen_notified == [None, None, None]  # never marked before Telegram took it
        stored = await store.load_post(post.post_id)
        assert stored is not None and stored.notified_at is not None
    finally:
        await witness.close()


async def test_reports_due_while_an_owners_chat_fails_wait_with_the_others_and_go_out_together(
    store: Store,
) -> None:
    (first,) = await finished_posts(store, [USER])
    inbox = Inbox()
    inbox.failures = [ConnectionError("Telegram is down")]
    sender = reporter(store, inbox)
    assert await sender.run() == 1 and inbox.attempts == 1
    # Another post of the same owner ends while their chat waits for its retry: no try of its own.
    (second,) = await finished_posts(store, [USER])
    assert await sender.run() == 1 and inbox.attempts == 1
    waits = {p.post_id: p.report_due_at for p in [await stored(store, first), await stored(store, second)]}
    assert len(set(waits.values())) == 1  # the same retry time
    for _ in range(100):
        if inbox.messages:
            break
        await asyncio.sleep(0.05)
    assert inbox.messages == [(USER, [first.post_id, second.post_id])] or inbox.messages == [
        (USER, [second.post_id, first.post_id])
    ]
    assert inbox.attempts == 2


async def stored(store: Store, post: Post) -> Post:
    found = await store.load_post(post.post_id)
    assert found is not None
    return found


async def test_an_owner_who_blocked_the_bot_is_given_up_and_a_throttled_one_waits(store: Store) -> None:
    blocked, throttled = await finished_posts(store, [USER, OTHER])
    inbox = Inbox()

    async def send(owner: int, posts: list[Post]) -> None:
        if owner == USER:
            raise ReportRefused("Forbidden: bot was blocked by the user")
        raise ReportDelayed(30)

    sender = Reporter(store, send, worker_id="w1")
    assert await sender.run() == 2
    given_up = await store.load_post(blocked.post_id)
    assert given_up is not None and given_up.notified_at is not None and given_up.report_due_at is None
    later = await store.load_post(throttled.post_id)
    assert later is not None and later.notified_at is None and later.report_due_at is not None
    assert later.report_due_at - utc_now() > timedelta(seconds=28)
    await sender.stop(0)
    assert inbox.messages == []


async def test_reports_held_by_a_dead_worker_are_sent_once_by_another(store: Store) -> None:
    (post,) = await finished_posts(store, [USER])
    # A worker claimed the report and died before sending it.
    assert [p.post_id for p in await store.claim_reports("dead-1/r1", utc_now(), timedelta(minutes=5))] == [
        post.post_id
    ]
    inbox = Inbox()
    survivor = reporter(store, inbox, worker_id="w2")
    assert await survivor.run() == 0  # its lease holds
    assert await store.expire_claims("dead-1", utc_now()) == 1  # the dead one is recognised
    assert await survivor.run() == 1
    assert await survivor.run() == 0
    assert inbox.messages == [(USER, [post.post_id])]


async def test_an_outage_gets_one_delay_notice_then_one_final_report(store: Store) -> None:
    post = await due_post(store, targets=1)
    publisher, recorder = ScriptedPublisher(), Recorder()
    from publishers.base import Outcome

    publisher.script["tg-100"] = [Outcome.retryable("500", "could not reach Telegram") for _ in range(3)]
    clock = [utc_now()]
    worker = engine(store, publisher, recorder, clock=lambda: clock[0])
    inbox = Inbox()
    sender = reporter(store, inbox)
    for minutes in (0, 3, 6, 9):
        clock[0] = post.scheduled_time + timedelta(minutes=minutes, seconds=1)
        await worker.sweep(now=clock[0])
        await sender.run(now=clock[0])
    # Failing since minute 0; the notice fell due at minute 5 and went once; the post then
    # went out at minute 9 and its report went once.
    assert timedelta(minutes=5) == DELAY_NOTICE_AFTER
    assert inbox.messages == [(USER, [post.post_id]), (USER, [post.post_id])]
    stored = await store.load_post(post.post_id)
    assert stored is not None and stored.status is PostStatus.PUBLISHED
    assert stored.delay_noticed_at is not None and stored.notified_at is not None
    assert stored.delay_noticed_at < stored.notified_at


async def test_a_stopping_reporter_leaves_what_it_did_not_send_to_the_next_process(store: Store) -> None:
    (post,) = await finished_posts(store, [USER])
    started = asyncio.Event()

    async def hanging(owner: int, posts: list[Post]) -> None:
        started.set()
        await asyncio.sleep(60)

    sender = Reporter(store, hanging, worker_id="w1")
    sender.kick(0)
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(sender.stop(0.1), 5)
    # Due again at once for whoever comes next (it may or may not have reached the owner).
    inbox = Inbox()
    assert await reporter(store, inbox, worker_id="w2").run() == 1
    assert inbox.messages == [(USER, [post.post_id])]


async def test_publication_makes_the_report_due_and_wakes_the_reporter(store: Store) -> None:
    await due_post(store, targets=1)
    inbox = Inbox()
    sender = reporter(store, inbox, gather=0.05)
    worker = Publication(
        store, {ScriptedPublisher.platform: ScriptedPublisher()}, on_finished=lambda post: sender.kick()
    )
    assert await worker.sweep() == 1
    for _ in range(100):
        if inbox.messages:
            break
        await asyncio.sleep(0.02)
    assert len(inbox.messages) == 1
