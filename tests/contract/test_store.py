"""The Store contract: every operation behaves the same on SQLite and on MongoDB."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from storage.base import Store
from storage.crypto import CredentialCipher, CredentialError
from storage.models import (
    Delivery,
    DeliveryStatus,
    ErrorKind,
    Image,
    Poster,
    PostStatus,
    PostView,
    Target,
    TelegramChat,
    new_id,
    utc_now,
)
from tests.contract.helpers import LEASE, add_account, claimed_post, record, schedule

ALICE, BOB = 1001, 2002


async def test_user_time_zone_is_saved_and_changed(store: Store) -> None:
    assert await store.get_user(ALICE) is None
    user = await store.set_timezone(ALICE, "Europe/Berlin")
    assert (user.user_id, user.timezone) == (ALICE, "Europe/Berlin")
    await store.set_timezone(ALICE, "Asia/Tokyo")
    again = await store.get_user(ALICE)
    assert again is not None and again.timezone == "Asia/Tokyo"
    assert again.created_at == user.created_at
    assert await store.get_user(BOB) is None


async def test_user_language_choice_and_app_language_are_kept_apart_from_the_zone(store: Store) -> None:
    first = await store.set_app_language(ALICE, "ru")
    assert (first.language, first.app_language, first.timezone) == (None, "ru", None)
    await store.set_timezone(ALICE, "Europe/Moscow")
    chosen = await store.set_language(ALICE, "en")
    assert (chosen.language, chosen.app_language, chosen.timezone) == ("en", "ru", "Europe/Moscow")
    assert chosen.created_at == first.created_at
    # Back to "the app's language": the choice is cleared, nothing else changes.
    await store.set_language(ALICE, None)
    again = await store.get_user(ALICE)
    assert again is not None and (again.language, again.app_language, again.timezone) == (None, "ru", "Europe/Moscow")
    assert await store.get_user(BOB) is None
    bob = await store.set_language(BOB, "ru")
    assert (bob.language, bob.app_language) == ("ru", None)


async def test_accounts_are_scoped_to_their_owner(store: Store) -> None:
    account = await add_account(store, ALICE, credential="alice-secret")
    assert [a.account_id for a in await store.list_accounts(ALICE)] == [account.account_id]
    assert await store.list_accounts(BOB) == []
    assert await store.get_account(BOB, account.account_id) is None
    loaded = await store.get_account(ALICE, account.account_id)
    assert loaded is not None and loaded.targets == account.targets and loaded.name == "Shop hooks"
    assert all(t.account_id == account.account_id for t in loaded.targets)
    assert await store.account_credential(account.account_id) == "alice-secret"

    new_targets = [Target(target_id="w1", name="Zapier", address="https://example.test/hook")]
    assert not await store.set_account_targets(BOB, account.account_id, new_targets)
    assert await store.set_account_targets(ALICE, account.account_id, new_targets)
    loaded = await store.get_account(ALICE, account.account_id)
    assert loaded is not None and [t.name for t in loaded.targets] == ["Zapier"]
    # Each target names the account that publishes to it.
    assert {t.account_id for t in loaded.targets} == {account.account_id}


async def test_account_reconnect_flag_and_new_credential(store: Store) -> None:
    account = await add_account(store, ALICE, credential="old")
    await store.mark_account_needs_reconnect(account.account_id)
    flagged = await store.get_account(ALICE, account.account_id)
    assert flagged is not None and flagged.needs_reconnect
    assert not await store.set_account_credential(BOB, account.account_id, "stolen")
    assert await store.set_account_credential(ALICE, account.account_id, "new")
    fixed = await store.get_account(ALICE, account.account_id)
    assert fixed is not None and not fixed.needs_reconnect
    assert await store.account_credential(account.account_id) == "new"


async def test_removing_an_account_cancels_its_scheduled_posts(store: Store) -> None:
    account = await add_account(store, ALICE)
    other = await add_account(store, ALICE)
    first = await schedule(store, ALICE, account)
    await schedule(store, ALICE, account)
    kept = await schedule(store, ALICE, other)
    assert await store.remove_account(BOB, account.account_id) is None
    assert await store.remove_account(ALICE, account.account_id) == 2
    assert await store.get_account(ALICE, account.account_id) is None
    cancelled = await store.get_post(ALICE, first.post_id)
    assert cancelled is not None and cancelled.status is PostStatus.CANCELLED
    untouched = await store.get_post(ALICE, kept.post_id)
    assert untouched is not None and untouched.status is PostStatus.SCHEDULED
    assert await store.remove_account(ALICE, account.account_id) is None


async def test_a_wrong_key_cannot_read_credentials(store: Store) -> None:
    account = await add_account(store, ALICE, credential="alice-secret")
    store.cipher = CredentialCipher(Fernet.generate_key())
    with pytest.raises(CredentialError, match="ENCRYPTION_KEY"):
        await store.account_credential(account.account_id)


async def test_telegram_chats_are_remembered_and_migrated(store: Store) -> None:
    await store.upsert_chat(TelegramChat(-100, "Shop news", "channel", bot_is_admin=True))
    await store.upsert_chat(TelegramChat(-200, "Archive", "group", bot_is_admin=False))
    assert [c.chat_id for c in await store.list_chats()] == [-100]
    assert {c.chat_id for c in await store.list_chats(admin_only=False)} == {-100, -200}
    await store.upsert_chat(TelegramChat(-100, "Shop news!", "channel", bot_is_admin=False))
    assert await store.list_chats() == []
    chat = await store.get_chat(-100)
    assert chat is not None and chat.title == "Shop news!" and not chat.bot_is_admin

    await store.migrate_chat(-200, -1009)
    await store.migrate_chat(-200, -1009)  # told twice: the second time changes nothing
    assert await store.get_chat(-200) is None
    migrated = await store.get_chat(-1009)
    assert migrated is not None and migrated.title == "Archive" and migrated.chat_type == "supergroup"
    assert await store.get_chat(-404) is None


async def test_image_bytes_round_trip_and_are_stored_once(store: Store) -> None:
    data = bytes(range(256)) * 4000  # about 1 MB: several GridFS chunks
    blob_id = await store.put_image(data)
    assert await store.put_image(data) == blob_id
    assert await store.load_image(blob_id) == data
    assert await store.load_image("0" * 64) is None
    assert await store.image_file_id(blob_id) is None
    await store.set_image_file_id(blob_id, "AgADBAAD-file")
    assert await store.image_file_id(blob_id) == "AgADBAAD-file"


async def test_only_unused_images_are_purged(store: Store) -> None:
    account = await add_account(store, ALICE)
    used_by_post = await store.put_image(b"post image")
    used_by_poster = await store.put_image(b"poster image")
    orphan = await store.put_image(b"nobody's image")
    await schedule(store, ALICE, account, images=[Image(name="a.jpg", blob_id=used_by_post)])
    await store.save_poster(Poster(new_id(), ALICE, "Sale", images=[Image(name="b.jpg", blob_id=used_by_poster)]))
    assert await store.purge_orphan_images(utc_now() - timedelta(hours=1)) == 0
    assert await store.purge_orphan_images(utc_now() + timedelta(seconds=1)) == 1
    assert await store.load_image(orphan) is None
    assert await store.load_image(used_by_post) == b"post image"
    assert await store.load_image(used_by_poster) == b"poster image"


async def test_posters_are_scoped_to_their_owner(store: Store) -> None:
    blob = await store.put_image(b"jpeg bytes")
    poster = Poster(
        poster_id=new_id(),
        user_id=ALICE,
        name="Winter sale",
        main_caption="Everything -20%",
        images=[Image(name="sale.jpg", blob_id=blob, caption="Front", size=10)],
    )
    await store.save_poster(poster)
    assert await store.list_posters(ALICE) == [poster]
    assert await store.list_posters(BOB) == []
    assert await store.get_poster(BOB, poster.poster_id) is None
    assert await store.get_poster(ALICE, poster.poster_id) == poster
    assert not await store.delete_poster(BOB, poster.poster_id)
    assert await store.delete_poster(ALICE, poster.poster_id)
    assert await store.get_poster(ALICE, poster.poster_id) is None
    # The images stay for posts that still use them.
    assert await store.load_image(blob) == b"jpeg bytes"


async def test_a_post_round_trips_with_every_field(store: Store) -> None:
    account = await add_account(store, ALICE)
    blob = await store.put_image(b"photo")
    post = await schedule(
        store,
        ALICE,
        account,
        caption="Opening at 9 — come early! 🎉",
        images=[Image(name="p.jpg", blob_id=blob, caption="Our door", size=5, telegram_file_id="F1")],
    )
    loaded = await store.get_post(ALICE, post.post_id)
    assert loaded == post
    assert loaded is not None and loaded.deliveries[loaded.targets[0].target_id].status is DeliveryStatus.PENDING


async def test_nobody_reads_lists_or_cancels_another_users_post(store: Store) -> None:
    account = await add_account(store, ALICE)
    post = await schedule(store, ALICE, account)
    assert await store.get_post(BOB, post.post_id) is None
    assert (await store.list_posts(BOB, PostView.UPCOMING)).posts == []
    assert await store.cancel_post(BOB, post.post_id) is None
    assert await store.reschedule_post(BOB, post.post_id, utc_now() + timedelta(days=1)) is None
    unchanged = await store.get_post(ALICE, post.post_id)
    assert unchanged == post


async def test_listing_pages_upcoming_soonest_first_and_history_latest_first(store: Store) -> None:
    account = await add_account(store, ALICE)
    now = utc_now()
    upcoming = [await schedule(store, ALICE, account, when=now + timedelta(hours=h)) for h in (3, 1, 2)]
    past = [await schedule(store, ALICE, account, when=now + timedelta(days=d)) for d in (5, 7, 6)]
    for post in past:
        await store.cancel_post(ALICE, post.post_id)

    first = await store.list_posts(ALICE, PostView.UPCOMING, page=0, per_page=2)
    assert [p.post_id for p in first.posts] == [upcoming[1].post_id, upcoming[2].post_id]
    assert first.has_next
    second = await store.list_posts(ALICE, PostView.UPCOMING, page=1, per_page=2)
    assert [p.post_id for p in second.posts] == [upcoming[0].post_id]
    assert not second.has_next

    history = await store.list_posts(ALICE, PostView.HISTORY, page=0, per_page=5)
    assert [p.post_id for p in history.posts] == [past[1].post_id, past[2].post_id, past[0].post_id]
    assert all(p.status is PostStatus.CANCELLED for p in history.posts)
    assert not history.has_next


async def test_cancel_only_while_scheduled(store: Store) -> None:
    account = await add_account(store, ALICE)
    post = await schedule(store, ALICE, account, when=utc_now() - timedelta(seconds=1))
    claimed = await store.claim_post(post.post_id, "w1", utc_now(), LEASE)
    assert claimed is not None
    assert await store.cancel_post(ALICE, post.post_id) is None
    other = await schedule(store, ALICE, account)
    cancelled = await store.cancel_post(ALICE, other.post_id)
    assert cancelled is not None and cancelled.status is PostStatus.CANCELLED
    assert await store.cancel_post(ALICE, other.post_id) is None


async def test_reschedule_moves_the_time_and_the_due_list(store: Store) -> None:
    account = await add_account(store, ALICE)
    now = utc_now()
    post = await schedule(store, ALICE, account, when=now + timedelta(hours=2))
    assert await store.scheduled_posts(until=now + timedelta(hours=1)) == []
    moved = await store.reschedule_post(ALICE, post.post_id, now + timedelta(minutes=10))
    assert moved is not None and moved.scheduled_time == now + timedelta(minutes=10)
    assert await store.scheduled_posts(until=now + timedelta(hours=1)) == [(post.post_id, now + timedelta(minutes=10))]
    # Only what is still to come, when asked: an overdue post is the sweep's, not a job's.
    overdue = await schedule(store, ALICE, account, when=now - timedelta(minutes=5))
    every = await store.scheduled_posts(until=now + timedelta(hours=1))
    assert [post_id for post_id, _ in every] == [overdue.post_id, post.post_id]
    assert await store.scheduled_posts(until=now + timedelta(hours=1), after=now) == [
        (post.post_id, now + timedelta(minutes=10))
    ]


async def test_claim_takes_only_due_scheduled_posts(store: Store) -> None:
    account = await add_account(store, ALICE)
    now = utc_now()
    due = await schedule(store, ALICE, account, when=now - timedelta(seconds=5))
    await schedule(store, ALICE, account, when=now + timedelta(minutes=5))
    cancelled = await schedule(store, ALICE, account, when=now - timedelta(seconds=5))
    await store.cancel_post(ALICE, cancelled.post_id)

    claimed = await store.claim_due_posts("w1", now, LEASE)
    assert [p.post_id for p in claimed] == [due.post_id]
    post = claimed[0]
    assert post.status is PostStatus.PUBLISHING and post.attempts == 1
    assert post.claim is not None and post.claim.worker_id == "w1"
    assert post.claim.lease_until == now + LEASE
    assert await store.claim_due_posts("w2", now, LEASE) == []
    assert await store.claim_post(cancelled.post_id, "w2", now, LEASE) is None


async def test_a_finished_post_cannot_be_claimed(store: Store) -> None:
    post, now = await claimed_post(store, ALICE, target_count=1)
    target = post.targets[0].target_id
    post.deliveries[target] = Delivery(target, DeliveryStatus.SENT, 1, "42")
    finished = await store.finish_post(post, "w1", now)
    assert finished is not None and finished.status is PostStatus.PUBLISHED
    later = now + LEASE * 3
    assert await store.claim_post(post.post_id, "w2", later, LEASE) is None
    assert await store.claim_due_posts("w2", later, LEASE) == []


async def test_an_expired_lease_is_taken_over_and_sent_deliveries_stay_sent(store: Store) -> None:
    post, now = await claimed_post(store, ALICE, worker="crashed")
    first_target, second_target = [t.target_id for t in post.targets]
    sent = Delivery(first_target, DeliveryStatus.SENT, attempts=1, message_id="77", url="https://t.me/c/1/77")
    assert await store.record_delivery(post.post_id, "crashed", sent)

    # The lease still holds: nobody else may take the post.
    assert await store.claim_due_posts("rescuer", now + LEASE / 2, LEASE) == []
    later = now + LEASE + timedelta(seconds=1)
    taken = await store.claim_due_posts("rescuer", later, LEASE)
    assert [p.post_id for p in taken] == [post.post_id]
    assert taken[0].attempts == 2 and taken[0].claim is not None
    assert taken[0].claim.worker_id == "rescuer"
    assert taken[0].deliveries[first_target].status is DeliveryStatus.SENT
    assert taken[0].deliveries[first_target].message_id == "77"

    # The old worker wakes up: its writes are refused.
    late = Delivery(second_target, DeliveryStatus.FAILED, 1, error_kind=ErrorKind.PERMANENT)
    assert not await store.record_delivery(post.post_id, "crashed", late)
    assert not await store.renew_lease(post.post_id, "crashed", later, LEASE)
    stale = taken[0]
    stale.deliveries[second_target] = late
    assert await store.finish_post(stale, "crashed", later) is None
    still = await store.load_post(post.post_id)
    assert still is not None and still.status is PostStatus.PUBLISHING
    assert still.deliveries[second_target].status is DeliveryStatus.PENDING

    assert await store.renew_lease(post.post_id, "rescuer", later, LEASE)
    done = Delivery(second_target, DeliveryStatus.SENT, attempts=1, message_id="78")
    taken[0].deliveries[second_target] = done
    finished = await store.finish_post(taken[0], "rescuer", later)
    assert finished is not None and finished.status is PostStatus.PUBLISHED
    assert finished.claim is None and finished.published_at == later
    assert finished.deliveries[first_target].message_id == "77"
    stored = await store.load_post(post.post_id)
    assert stored is not None and stored.status is PostStatus.PUBLISHED and stored.claim is None
    assert stored.deliveries[second_target].message_id == "78"
    assert stored.published_at == later and stored.result == finished.result


async def test_claim_post_takes_an_expired_lease_but_not_a_live_one(store: Store) -> None:
    post, now = await claimed_post(store, ALICE, worker="w1")
    assert await store.claim_post(post.post_id, "w2", now + timedelta(seconds=1), LEASE) is None
    taken = await store.claim_post(post.post_id, "w2", now + LEASE * 2, LEASE)
    assert taken is not None and taken.claim is not None and taken.claim.worker_id == "w2"


async def test_a_future_post_cannot_be_claimed_early(store: Store) -> None:
    account = await add_account(store, ALICE)
    now = utc_now()
    post = await schedule(store, ALICE, account, when=now + timedelta(seconds=30))
    assert await store.claim_post(post.post_id, "w1", now, LEASE) is None
    assert await store.claim_post(post.post_id, "w1", now + timedelta(seconds=30), LEASE) is not None


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ((DeliveryStatus.SENT, DeliveryStatus.SENT), PostStatus.PUBLISHED),
        ((DeliveryStatus.SENT, DeliveryStatus.FAILED), PostStatus.PARTIAL),
        ((DeliveryStatus.UNCONFIRMED, DeliveryStatus.FAILED), PostStatus.FAILED),
        ((DeliveryStatus.SENT, DeliveryStatus.UNCONFIRMED), PostStatus.PARTIAL),
    ],
)
async def test_finishing_derives_the_status_from_the_deliveries(
    store: Store, outcomes: tuple[DeliveryStatus, DeliveryStatus], expected: PostStatus
) -> None:
    post, now = await claimed_post(store, ALICE)
    for number, (target_id, outcome) in enumerate(zip([t.target_id for t in post.targets], outcomes, strict=True)):
        failed = outcome is not DeliveryStatus.SENT
        delivery = Delivery(
            target_id,
            outcome,
            attempts=1,
            error_kind=ErrorKind.PERMANENT if failed else None,
            error_code="403" if failed else None,
            error_message="the bot is no longer an admin there" if failed else None,
        )
        post.deliveries[target_id] = delivery
        if number == 0:  # the first recorded on its own, the last only by finish_post
            assert await store.record_delivery(post.post_id, "w1", delivery)
    finished = await store.finish_post(post, "w1", now)
    assert finished is not None and finished.status is expected
    assert finished.result is not None and finished.result["worker_id"] == "w1"
    stored = await store.get_post(ALICE, post.post_id)
    assert stored is not None and stored.status is expected and stored.result == finished.result
    assert stored.result is not None and stored.result["total"] == 2
    assert [stored.deliveries[t].status for t in [t.target_id for t in post.targets]] == list(outcomes)
    assert stored.claim is None and stored.published_at == now


async def test_a_post_with_open_deliveries_is_not_finished(store: Store) -> None:
    claimed, now = await claimed_post(store, ALICE)
    first, second = [t.target_id for t in claimed.targets]
    await record(
        store, claimed, "w1", Delivery(first, DeliveryStatus.SENT, 1), Delivery(second, DeliveryStatus.SENDING, 1)
    )
    assert await store.finish_post(claimed, "w1", now) is None
    still = await store.get_post(ALICE, claimed.post_id)
    assert still is not None and still.status is PostStatus.PUBLISHING
    assert still.deliveries[second].status is DeliveryStatus.SENDING


async def test_retry_failed_reschedules_only_failed_targets(store: Store) -> None:
    claimed, now = await claimed_post(store, ALICE)
    first, second = [t.target_id for t in claimed.targets]
    await record(store, claimed, "w1", Delivery(first, DeliveryStatus.SENT, 1, "5"))
    failure = Delivery(second, DeliveryStatus.FAILED, 3, error_kind=ErrorKind.PERMANENT, error_message="kicked")
    claimed.deliveries[second] = failure  # written only by finish_post
    assert await store.finish_post(claimed, "w1", now) is not None

    assert await store.retry_failed(BOB, claimed.post_id, now) is None
    retried = await store.retry_failed(ALICE, claimed.post_id, now + timedelta(minutes=1))
    assert retried is not None and retried.status is PostStatus.SCHEDULED
    assert retried.deliveries[first].status is DeliveryStatus.SENT
    assert retried.deliveries[first].message_id == "5"
    assert retried.deliveries[second].status is DeliveryStatus.PENDING
    assert retried.deliveries[second].error_message is None
    assert retried.deliveries[second].attempts == 3
    assert await store.get_post(ALICE, claimed.post_id) == retried
    # Only failed or partial posts can be retried.
    assert await store.retry_failed(ALICE, claimed.post_id, now) is None


async def test_persistence_state_saves_replaces_and_deletes(store: Store) -> None:
    assert await store.load_state("user_data") == {}
    await store.save_state("user_data", "1001", {"draft": {"caption": "hi", "images": [1, 2]}})
    await store.save_state("user_data", "2002", {"draft": None})
    await store.save_state("user_data", "1001", {"draft": {"caption": "hello"}})
    await store.save_state("conversation:new_post", "[1001, 1001]", 3)
    assert await store.load_state("user_data") == {
        "1001": {"draft": {"caption": "hello"}},
        "2002": {"draft": None},
    }
    assert await store.load_state("conversation:new_post") == {"[1001, 1001]": 3}
    await store.save_state("user_data", "2002", None)
    assert await store.load_state("user_data") == {"1001": {"draft": {"caption": "hello"}}}


async def test_64_bit_telegram_ids_come_back_as_integers(store: Store) -> None:
    big_user, big_chat = 7_123_456_789, -1001234567890
    await store.upsert_chat(TelegramChat(big_chat, "Big", "channel", bot_is_admin=True))
    chats = await store.list_chats()
    assert chats[0].chat_id == big_chat and isinstance(chats[0].chat_id, int)
    await store.set_timezone(big_user, "UTC")
    user = await store.get_user(big_user)
    assert user is not None and isinstance(user.user_id, int)
    account = await add_account(store, big_user)
    post = await schedule(store, big_user, account)
    loaded = await store.get_post(big_user, post.post_id)
    assert loaded is not None and loaded.user_id == big_user and isinstance(loaded.user_id, int)
    listed = await store.list_accounts(big_user)
    assert isinstance(listed[0].user_id, int)


async def test_the_caption_of_a_scheduled_post_can_be_edited_by_its_owner_only(store: Store) -> None:
    account = await add_account(store, ALICE)
    post = await schedule(store, ALICE, account, caption="Old")
    assert await store.update_caption(BOB, post.post_id, "Hacked") is None
    edited = await store.update_caption(ALICE, post.post_id, "New words")
    assert edited is not None and edited.main_caption == "New words"
    stored = await store.get_post(ALICE, post.post_id)
    assert stored is not None and stored.main_caption == "New words"
    await store.cancel_post(ALICE, post.post_id)
    assert await store.update_caption(ALICE, post.post_id, "Too late") is None


async def test_posting_by_hand_is_confirmed_and_finishes_the_post(store: Store) -> None:
    claimed, now = await claimed_post(store, ALICE)
    first, second = [t.target_id for t in claimed.targets]
    sent, awaiting = Delivery(first, DeliveryStatus.SENT, 1, "1"), Delivery(second, DeliveryStatus.AWAITING_YOU, 1)
    await record(store, claimed, "w1", sent, awaiting)
    assert await store.finish_post(claimed, "w1", now) is None  # awaiting is not final

    assert await store.confirm_delivery(BOB, claimed.post_id, second, now) is None
    assert await store.confirm_delivery(ALICE, claimed.post_id, first, now) is None  # not awaiting
    done = await store.confirm_delivery(ALICE, claimed.post_id, second, now + timedelta(minutes=3))
    assert done is not None and done.status is PostStatus.PUBLISHED
    assert done.deliveries[second].status is DeliveryStatus.SENT and done.claim is None
    stored = await store.get_post(ALICE, claimed.post_id)
    assert stored is not None and stored.status is PostStatus.PUBLISHED
    assert stored.published_at == now + timedelta(minutes=3)
    assert await store.confirm_delivery(ALICE, claimed.post_id, second, now) is None  # only once


async def test_two_groups_confirmed_at_once_finish_the_post_once_with_its_report_due(store: Store) -> None:
    import asyncio

    post, now = await claimed_post(store, ALICE)
    first, second = [t.target_id for t in post.targets]
    await record(store, post, "w1", *(Delivery(target, DeliveryStatus.AWAITING_YOU, 1) for target in (first, second)))
    answers = await asyncio.gather(
        *(store.confirm_delivery(ALICE, post.post_id, target, now) for target in (first, second))
    )
    assert all(answer is not None for answer in answers)
    assert sum(1 for answer in answers if answer is not None and answer.status is PostStatus.PUBLISHED) == 1
    stored = await store.get_post(ALICE, post.post_id)
    assert stored is not None and stored.status is PostStatus.PUBLISHED and stored.claim is None
    assert {d.status for d in stored.deliveries.values()} == {DeliveryStatus.SENT}
    assert stored.report_due_at == now and stored.result is not None and "worker_id" not in stored.result


async def test_a_finish_by_a_stale_claim_token_changes_nothing(store: Store) -> None:
    """The fence is the claim's token, not the process: an older claim of the same worker is refused."""
    stale, now = await claimed_post(store, ALICE, worker="host-1/1")
    later = now + LEASE + timedelta(seconds=1)
    current = await store.claim_post(stale.post_id, "host-1/2", later, LEASE)
    assert current is not None
    before = await store.load_post(stale.post_id)

    for target_id in [t.target_id for t in stale.targets]:
        stale.deliveries[target_id] = Delivery(target_id, DeliveryStatus.SENT, 1, "99")
    assert await store.finish_post(stale, "host-1/1", later) is None
    assert await store.load_post(stale.post_id) == before
    # A finished post is fenced too: finishing it again (by its own token) changes nothing.
    for target_id in [t.target_id for t in current.targets]:
        current.deliveries[target_id] = Delivery(target_id, DeliveryStatus.FAILED, 1, error_message="gone")
    done = await store.finish_post(current, "host-1/2", later)
    assert done is not None and done.status is PostStatus.FAILED
    after = await store.load_post(stale.post_id)
    assert await store.finish_post(current, "host-1/2", later + LEASE) is None
    assert await store.load_post(stale.post_id) == after


async def test_fenced_writes_made_together_each_get_their_own_answer(store: Store) -> None:
    """Writes of many publications in one tick go out together (group commit, bulk write); each
    still applies only under its own claim and tells its caller whether it did."""
    import asyncio

    account = await add_account(store, ALICE)
    now = utc_now()
    held, taken, finishing, refused = [await schedule(store, ALICE, account, when=now) for _ in range(4)]
    for post, token in ((held, "w/1"), (taken, "w/2"), (finishing, "w/3"), (refused, "w/4")):
        assert await store.claim_post(post.post_id, token, now, LEASE) is not None
    later = now + LEASE + timedelta(seconds=1)
    assert await store.claim_post(taken.post_id, "other/1", later, LEASE) is not None  # w/2 lost it
    assert await store.claim_post(refused.post_id, "other/2", later, LEASE) is not None  # so did w/4
    target = held.targets[0].target_id
    mine = await store.load_post(finishing.post_id)
    theirs = await store.load_post(refused.post_id)
    assert mine is not None and theirs is not None
    for post in (mine, theirs):
        for target_id in [t.target_id for t in post.targets]:
            post.deliveries[target_id] = Delivery(target_id, DeliveryStatus.SENT, 1, "7")

    answers = await asyncio.gather(
        store.record_delivery(held.post_id, "w/1", Delivery(target, DeliveryStatus.SENDING, 1)),
        store.record_delivery(taken.post_id, "w/2", Delivery(target, DeliveryStatus.SENDING, 1)),
        store.finish_post(mine, "w/3", later),
        store.finish_post(theirs, "w/4", later),
    )

    assert answers[0] is True and answers[1] is False
    assert answers[2] is not None and answers[2].status is PostStatus.PUBLISHED and answers[3] is None
    recorded = await store.load_post(held.post_id)
    assert recorded is not None and recorded.deliveries[target].status is DeliveryStatus.SENDING
    untouched = await store.load_post(taken.post_id)
    assert untouched is not None and untouched.deliveries[target].status is DeliveryStatus.PENDING
    finished = await store.load_post(finishing.post_id)
    assert finished is not None and finished.status is PostStatus.PUBLISHED
    still = await store.load_post(refused.post_id)
    assert still is not None and still.status is PostStatus.PUBLISHING


async def _finished(store: Store, user_id: int, caption: str) -> str:
    """A post claimed, sent and finished now; its id."""
    claimed, _ = await claimed_post(store, user_id, f"w-{caption}/1", target_count=1, caption=caption)
    target = claimed.targets[0].target_id
    claimed.deliveries[target] = Delivery(target, DeliveryStatus.SENT, 1, "7")
    assert await store.finish_post(claimed, f"w-{caption}/1", utc_now()) is not None
    return claimed.post_id


async def test_a_finished_posts_report_is_due_and_claimed_by_one_holder_at_a_time(store: Store) -> None:
    first, second = await _finished(store, ALICE, "a"), await _finished(store, BOB, "b")
    now = utc_now()
    claimed = await store.claim_reports("r1/1", now, LEASE)
    assert sorted(p.post_id for p in claimed) == sorted([first, second])
    assert all(p.report_holder == "r1/1" and p.notified_at is None for p in claimed)
    assert await store.claim_reports("r2/1", now, LEASE) == []  # held until the lease ends
    # A holder that lost its hold marks nothing; the holder marks each post, once.
    assert await store.mark_reported([first, second], "r2/1", now) == 0
    assert await store.mark_reported([first], "r1/1", now) == 1
    told = await store.load_post(first)
    assert told is not None and told.notified_at == now and told.report_due_at is None
    assert told.report_holder is None
    # The lease of the other ran out: another holder takes it.
    later = now + LEASE + timedelta(seconds=1)
    retaken = await store.claim_reports("r2/1", later, LEASE)
    assert [p.post_id for p in retaken] == [second]
    assert await store.mark_reported([second], "r1/1", later) == 0  # the first holder lost it


async def test_a_postponed_report_is_due_again_at_its_time_and_held_by_nobody(store: Store) -> None:
    post_id = await _finished(store, ALICE, "a")
    now = utc_now()
    assert len(await store.claim_reports("r1/1", now, LEASE)) == 1
    assert await store.postpone_reports([post_id], "r1/1", now + timedelta(seconds=30)) == 1
    waiting = await store.load_post(post_id)
    assert waiting is not None and waiting.report_holder is None and waiting.notified_at is None
    assert waiting.report_due_at == now + timedelta(seconds=30)
    assert await store.claim_reports("r2/1", now + timedelta(seconds=29), LEASE) == []
    assert len(await store.claim_reports("r2/1", now + timedelta(seconds=30), LEASE)) == 1


async def test_a_post_given_back_waits_unclaimed_until_its_retry_time(store: Store) -> None:
    claimed, now = await claimed_post(store, ALICE, worker="w/1")
    first, second = [t.target_id for t in claimed.targets]
    claimed.deliveries[first] = Delivery(first, DeliveryStatus.SENT, 1, "7")
    claimed.deliveries[second] = Delivery(
        second, DeliveryStatus.PENDING, 1, error_code="500", error_message="down", retry_since=now, retries=1
    )
    retry_at = now + timedelta(seconds=20)
    assert not await store.release_post(claimed, "w/2", retry_at)  # not the holder: nothing written
    assert await store.release_post(claimed, "w/1", retry_at, report_due_at=now + timedelta(minutes=5))
    waiting = await store.load_post(claimed.post_id)
    assert waiting is not None and waiting.status is PostStatus.PUBLISHING
    assert waiting.claim is None and waiting.retry_at == retry_at
    assert waiting.deliveries[first].status is DeliveryStatus.SENT
    assert waiting.deliveries[second].retry_since == now and waiting.deliveries[second].retries == 1
    assert waiting.report_due_at == now + timedelta(minutes=5)
    assert await store.record_delivery(claimed.post_id, "w/1", Delivery(second, DeliveryStatus.SENDING, 2)) is False
    # Planned as an exact-time job, and claimable from then on by any worker.
    assert (claimed.post_id, retry_at) in await store.scheduled_posts(until=now + timedelta(minutes=1))
    assert await store.claim_post(claimed.post_id, "w/3", now + timedelta(seconds=19), LEASE) is None
    again = await store.claim_post(claimed.post_id, "w/3", now + timedelta(seconds=21), LEASE)
    assert again is not None and again.claim is not None and again.retry_at is None
    # Given back again with a delay notice due: the one already due stays.
    assert await store.release_post(again, "w/3", retry_at, report_due_at=now)
    kept = await store.load_post(claimed.post_id)
    assert kept is not None and kept.report_due_at == now + timedelta(minutes=5)


async def test_a_delay_notice_is_marked_on_a_post_still_publishing(store: Store) -> None:
    claimed, now = await claimed_post(store, ALICE, worker="w/1", target_count=1)
    assert await store.release_post(claimed, "w/1", now + timedelta(minutes=1), report_due_at=now)
    (notice,) = await store.claim_reports("r/1", now, LEASE)
    assert notice.status is PostStatus.PUBLISHING
    assert await store.mark_reported([claimed.post_id], "r/1", now) == 1
    noticed = await store.load_post(claimed.post_id)
    assert noticed is not None and noticed.delay_noticed_at == now and noticed.notified_at is None
    assert noticed.report_due_at is None and noticed.retry_at == now + timedelta(minutes=1)


async def test_the_claims_of_a_dead_worker_end_at_once_and_no_one_elses(store: Store) -> None:
    account = await add_account(store, ALICE)
    now = utc_now()
    posts = [await schedule(store, ALICE, account, when=now, caption=f"p{n}") for n in range(3)]
    assert await store.claim_post(posts[0].post_id, "host-1/7", now, LEASE)
    assert await store.claim_post(posts[1].post_id, "host-10/1", now, LEASE)  # another worker
    reported = await _finished(store, ALICE, "host-1")
    now = utc_now()
    assert [p.post_id for p in await store.claim_reports("host-1/r3", now, LEASE)] == [reported]
    assert await store.expire_claims("host-1", now) == 2
    assert [p.post_id for p in await store.claim_reports("x/1", now, LEASE)] == [reported]
    taken = await store.claim_due_posts("x/2", now, LEASE, limit=10)
    assert sorted(p.post_id for p in taken) == sorted([posts[0].post_id, posts[2].post_id])


async def test_claims_skip_the_posts_this_process_is_publishing(store: Store) -> None:
    account = await add_account(store, ALICE)
    now = utc_now()
    posts = [await schedule(store, ALICE, account, when=now, caption=f"p{n}") for n in range(3)]
    taken = await store.claim_due_posts("w/1", now, LEASE, limit=10, exclude={posts[1].post_id})
    assert sorted(p.post_id for p in taken) == sorted([posts[0].post_id, posts[2].post_id])
