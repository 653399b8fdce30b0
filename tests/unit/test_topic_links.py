"""Forum topics named by people and by Herald: the links Telegram writes for a topic read into its
chat and thread, a topic's target id (stable, never a chat's, never another topic's), its name
under its chat, and Telegram's refusals of a topic worded for the owner."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest

from publishers.telegram import chat_target, classify, message_link, topic_target, topic_target_id
from publishers.telegram_topics import TELEGRAM_LINK, TopicLink, parse_topic_link
from storage.models import ErrorKind, ForumTopic, TelegramChat

SHOP = TelegramChat(-1001234567890, "Shop chat", "supergroup", bot_is_admin=True)
PUBLIC = TelegramChat(-1009876543210, "Open forum", "supergroup", bot_is_admin=True, username="openforum")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://t.me/c/1234567890/42", TopicLink(-1001234567890, 42)),
        ("t.me/c/1234567890/42", TopicLink(-1001234567890, 42)),
        ("http://telegram.me/c/1234567890/42/", TopicLink(-1001234567890, 42)),
        ("  https://www.t.me/c/1234567890/42  ", TopicLink(-1001234567890, 42)),
        # A message inside the topic: the topic comes first, then the message.
        ("https://t.me/c/1234567890/42/977", TopicLink(-1001234567890, 42)),
        # A message's link naming its topic in the query.
        ("https://t.me/c/1234567890/977?thread=42", TopicLink(-1001234567890, 42)),
        ("https://t.me/c/1234567890/977?topic=42", TopicLink(-1001234567890, 42)),
        ("https://t.me/openforum/42", TopicLink("@openforum", 42)),
        ("https://t.me/OpenForum/42/977", TopicLink("@OpenForum", 42)),
        # A name typed after the link, spaces tidied.
        ("https://t.me/c/1234567890/42 Announcements", TopicLink(-1001234567890, 42, "Announcements")),
        ("https://t.me/c/1234567890/42   Big   sale ", TopicLink(-1001234567890, 42, "Big sale")),
        # The General topic is the chat itself.
        ("https://t.me/c/1234567890/1", TopicLink(-1001234567890, None)),
    ],
)
def test_a_topics_links_read_into_its_chat_and_thread(text: str, expected: TopicLink) -> None:
    assert parse_topic_link(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://t.me/c/1234567890",  # a chat, no topic
        "https://t.me/openforum",
        "https://t.me/joinchat/AAAAAEx",  # an invitation
        "https://t.me/+AbCdEf123",
        "https://t.me/c/1234567890/0",
        "https://t.me/c/1234567890/abc",
        "https://t.me/c/1234567890/977?thread=x1",
        "https://t.me/abc/42",  # too short for a username
        "https://example.com/c/1234567890/42",
        "see https://t.me/c/1234567890/42",  # the link must lead the message
        "Announcements",
        "",
    ],
)
def test_what_names_no_topic_reads_as_none(text: str) -> None:
    assert parse_topic_link(text) is None


def test_a_long_name_after_the_link_is_cut_to_telegrams_limit() -> None:
    link = parse_topic_link("https://t.me/c/1234567890/42 " + "x" * 300)
    assert link is not None and link.name == "x" * 128


@pytest.mark.parametrize(
    ("text", "is_link"),
    [
        ("https://t.me/openforum", True),
        ("t.me/c/1/2", True),
        ("look (t.me/c/1/2)", True),
        ("https://example.com/t.me", False),
        ("at.me/c/1/2", False),
        ("Sale today", False),
    ],
)
def test_telegram_links_are_told_from_other_text(text: str, is_link: bool) -> None:
    # Any t.me link pasted gets an answer about links, a topic's or not.
    assert (TELEGRAM_LINK.search(text) is not None) is is_link


def test_a_topics_target_id_is_its_chats_and_thread_and_stays_the_same() -> None:
    announcements = topic_target(SHOP, ForumTopic(SHOP.chat_id, 42, "Announcements"))
    renamed = topic_target(SHOP, ForumTopic(SHOP.chat_id, 42, "News"))
    offers = topic_target(SHOP, ForumTopic(SHOP.chat_id, 43, "Offers"))
    chat = chat_target(SHOP)
    assert announcements.target_id == topic_target_id(SHOP.chat_id, 42) == "tg-1001234567890/42"
    assert renamed.target_id == announcements.target_id, "a rename keeps the target"
    assert len({announcements.target_id, offers.target_id, chat.target_id}) == 3
    assert chat.thread_id is None and announcements.thread_id == 42
    assert announcements.address == chat.address == str(SHOP.chat_id)
    assert announcements.name == "Shop chat › Announcements"
    assert (announcements.kind, announcements.account_id) == ("supergroup", "telegram")


def test_a_topics_target_links_to_the_topic() -> None:
    assert topic_target(SHOP, ForumTopic(SHOP.chat_id, 42, "A")).url == "https://t.me/c/1234567890/42"
    assert topic_target(PUBLIC, ForumTopic(PUBLIC.chat_id, 7, "B")).url == "https://t.me/openforum/7"
    assert message_link(SHOP.chat_id, None, 977, 42) == "https://t.me/c/1234567890/42/977"
    assert message_link(SHOP.chat_id, None, 977) == "https://t.me/c/1234567890/977"


def test_a_deleted_or_closed_topic_is_told_in_words_and_not_retried() -> None:
    topic = topic_target(SHOP, ForumTopic(SHOP.chat_id, 42, "Announcements"))
    gone = classify(BadRequest("Message thread not found"), topic)
    assert (gone.error_code, gone.error_message) == ("topic_deleted", "the topic was deleted")
    closed = classify(BadRequest("Topic_closed"), topic)
    assert closed.error_code == "topic_closed" and "closed" in (closed.error_message or "")
    for outcome in (gone, closed):
        assert outcome.error_kind is ErrorKind.PERMANENT
    # The same words from a chat's own target are not about any topic.
    plain = classify(BadRequest("Message thread not found"), chat_target(SHOP))
    assert plain.error_code == "400" and "message thread not found" in (plain.error_message or "").lower()
