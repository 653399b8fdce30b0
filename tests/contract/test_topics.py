"""The Store contract for forum topics: learned, renamed, closed, forgotten and listed per chat the
same way on SQLite and on MongoDB; a post to a topic keeps its thread id."""

from __future__ import annotations

from datetime import timedelta

from storage.base import Store
from storage.models import Account, ForumTopic, Platform, PostView, Target, TelegramChat, new_post, utc_now

ALICE, BOB = 1001, 2002
SHOP, TEAM, ELSEWHERE = -1001000000001, -1001000000002, -1001000000003


async def test_a_topic_is_learned_renamed_closed_and_reopened(store: Store) -> None:
    assert await store.get_topic(SHOP, 42) is None
    await store.upsert_topic(ForumTopic(SHOP, 42, "Announcements"))
    learned = await store.get_topic(SHOP, 42)
    assert learned is not None and (learned.name, learned.closed) == ("Announcements", False)

    await store.upsert_topic(ForumTopic(SHOP, 42, "News"))
    await store.upsert_topic(ForumTopic(SHOP, 42, "News", closed=True))
    closed = await store.get_topic(SHOP, 42)
    assert closed is not None and (closed.name, closed.closed) == ("News", True)
    assert closed.updated_at >= learned.updated_at
    assert [(t.thread_id, t.name) for t in await store.list_topics([SHOP])] == [(42, "News")], "renamed, not added"

    await store.upsert_topic(ForumTopic(SHOP, 42, "News", closed=False))
    reopened = await store.get_topic(SHOP, 42)
    assert reopened is not None and not reopened.closed


async def test_topics_of_one_chat_share_no_ids_with_another_chats(store: Store) -> None:
    await store.upsert_topic(ForumTopic(SHOP, 7, "Offers"))
    await store.upsert_topic(ForumTopic(TEAM, 7, "Rota"))
    shop = await store.get_topic(SHOP, 7)
    team = await store.get_topic(TEAM, 7)
    assert shop is not None and shop.name == "Offers"
    assert team is not None and team.name == "Rota"


async def test_a_deleted_topic_is_forgotten_once(store: Store) -> None:
    await store.upsert_topic(ForumTopic(SHOP, 42, "Announcements"))
    await store.upsert_topic(ForumTopic(SHOP, 43, "Offers"))
    assert await store.forget_topic(SHOP, 42) is True
    assert await store.forget_topic(SHOP, 42) is False, "told twice, the second time finds nothing"
    assert await store.get_topic(SHOP, 42) is None
    assert [t.thread_id for t in await store.list_topics([SHOP])] == [43]


async def test_topics_are_listed_only_for_the_chats_asked_by_chat_then_name(store: Store) -> None:
    await store.upsert_topic(ForumTopic(TEAM, 5, "Rota"))
    await store.upsert_topic(ForumTopic(SHOP, 9, "Offers"))
    await store.upsert_topic(ForumTopic(SHOP, 3, "Announcements"))
    await store.upsert_topic(ForumTopic(ELSEWHERE, 2, "Not yours"))
    listed = await store.list_topics([TEAM, SHOP])
    # By chat id (TEAM's is the lower), then by name within a chat.
    assert [(t.chat_id, t.thread_id, t.name) for t in listed] == [
        (TEAM, 5, "Rota"),
        (SHOP, 3, "Announcements"),
        (SHOP, 9, "Offers"),
    ]
    assert await store.list_topics([]) == []
    assert [t.name for t in await store.list_topics([ELSEWHERE])] == ["Not yours"]


async def test_topics_outlive_their_chats_admin_flag_but_are_kept_apart_from_chats(store: Store) -> None:
    await store.upsert_chat(TelegramChat(SHOP, "Shop chat", "supergroup", bot_is_admin=True))
    await store.upsert_topic(ForumTopic(SHOP, 42, "Announcements"))
    await store.upsert_chat(TelegramChat(SHOP, "Shop chat", "supergroup", bot_is_admin=False))
    assert await store.list_chats() == []
    assert [t.name for t in await store.list_topics([SHOP])] == ["Announcements"]


async def test_a_post_to_a_topic_keeps_its_thread_id_and_is_listed_for_its_owner_only(store: Store) -> None:
    topic = Target(
        f"tg{SHOP}/42", "Shop chat › Announcements", str(SHOP), "supergroup", account_id="telegram", thread_id=42
    )
    chat = Target(f"tg{SHOP}", "Shop chat", str(SHOP), "supergroup", account_id="telegram")
    account = Account("telegram", ALICE, Platform.TELEGRAM, "Telegram (this bot)")
    post = new_post(
        user_id=ALICE,
        account=account,
        targets=[topic, chat],
        main_caption="Sale",
        scheduled_time=utc_now() + timedelta(hours=1),
    )
    await store.create_post(post)
    stored = await store.get_post(ALICE, post.post_id)
    assert stored is not None
    assert [(t.target_id, t.thread_id, t.name) for t in stored.targets] == [
        (f"tg{SHOP}/42", 42, "Shop chat › Announcements"),
        (f"tg{SHOP}", None, "Shop chat"),
    ]
    assert set(stored.deliveries) == {f"tg{SHOP}/42", f"tg{SHOP}"}
    assert [p.post_id for p in (await store.list_posts(ALICE, PostView.UPCOMING)).posts] == [post.post_id]
    assert (await store.list_posts(BOB, PostView.UPCOMING)).posts == []
    assert await store.get_post(BOB, post.post_id) is None
