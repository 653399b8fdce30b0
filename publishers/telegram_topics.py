"""Forum topics as the people who run them name them: a pasted `t.me` link to a topic (or to a
message in one), read into the chat and the thread it names, and why such a link cannot become a
target.

Telegram writes a topic's link in these forms (the first number after the chat is the topic's
thread id, a second one a message in it):
`https://t.me/c/<internal id>/<topic>`, `https://t.me/c/<internal id>/<topic>/<message>`,
`https://t.me/c/<internal id>/<message>?thread=<topic>`, and the same with a public chat's
username in place of `c/<internal id>`. A private supergroup's internal id is its chat id without
the `-100` in front."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs

# The General topic: the chat itself, posted to without a thread id.
GENERAL_TOPIC = 1
# Longest name Telegram gives a topic.
TOPIC_NAME_LIMIT = 128

# Anything that looks like a Telegram link: worth an answer even when it names no topic.
TELEGRAM_LINK = re.compile(r"(?i)(?:^|[\s(])(?:https?://)?(?:www\.)?(?:t|telegram)\.me/\S")
_TOPIC_LINK = re.compile(
    r"""^\s*(?:https?://)?(?:www\.)?(?:t|telegram)\.me/
    (?:c/(?P<internal>\d{1,20})|(?P<username>[A-Za-z][A-Za-z0-9_]{3,31}))
    /(?P<first>\d{1,10})(?:/(?P<second>\d{1,10}))?/?
    (?:\?(?P<query>\S*))?
    (?:\s+(?P<name>\S.*?))?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class TopicLink:
    """What a topic link names: the chat (its id, or `@username` for a public one), the topic's
    thread id (None: the General topic, which is the chat itself), and the name typed after the
    link, if any."""

    chat: int | str
    thread_id: int | None
    name: str | None = None


def parse_topic_link(text: str) -> TopicLink | None:
    """The chat and topic a pasted link names, or None if the text is not a link to a topic. A
    name may follow the link ("https://t.me/c/123/42 Announcements")."""
    found = _TOPIC_LINK.match(text)
    if found is None:
        return None
    query = parse_qs(found["query"] or "")
    # A message's link names its topic in the query; a topic's own link by its first number.
    threads = query.get("thread") or query.get("topic")
    if threads and not threads[0].isdigit():
        return None
    thread_id = int(threads[0]) if threads else int(found["first"])
    if thread_id <= 0:
        return None
    chat: int | str = int(f"-100{found['internal']}") if found["internal"] else f"@{found['username']}"
    name = " ".join((found["name"] or "").split())[:TOPIC_NAME_LIMIT] or None
    return TopicLink(chat, None if thread_id == GENERAL_TOPIC else thread_id, name)


class TopicRefusal(StrEnum):
    """Why a pasted topic link cannot become a target."""

    # getChat refused: no such chat, or the bot is not in it.
    CANNOT_SEE = "cannot_see"
    NOT_A_FORUM = "not_a_forum"
    BOT_NOT_ADMIN = "bot_not_admin"
    # The person who pasted it does not administer the chat.
    NOT_YOUR_CHAT = "not_your_chat"
    CLOSED = "closed"
    # Telegram could not be asked (a network error): worth trying again.
    UNREACHABLE = "unreachable"
