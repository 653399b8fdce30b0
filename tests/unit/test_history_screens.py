"""The Scheduled & history screens without a bot: button data, keyboards, texts and quick times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram import InlineKeyboardMarkup

from handlers import keyboards
from handlers.history import history_text
from handlers.keyboards import callback, parse_callback, parse_origin, parse_post_ref, post_ref
from handlers.posts import details_text
from handlers.when import quick_time
from storage.models import Account, Delivery, DeliveryStatus, Platform, Post, PostStatus, PostView, Target, new_post

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ACCOUNT = Account("telegram", 1, Platform.TELEGRAM, "Telegram (this bot)")


def post_with(targets: int, caption: str = "Hello") -> Post:
    chosen = [Target(f"tg-100{n}", f"Channel number {n}", f"-100{n}", "channel") for n in range(targets)]
    return new_post(user_id=1, account=ACCOUNT, targets=chosen, main_caption=caption, scheduled_time=NOW)


def labels(markup: InlineKeyboardMarkup) -> list[list[str]]:
    return [[button.text for button in row] for row in markup.inline_keyboard]


def test_a_details_button_carries_the_page_it_returns_to() -> None:
    data = callback("post", "details", post_ref("a1b2c3d4e5f6", keyboards.origin("history", 12345)))
    pressed = parse_callback(data)
    assert pressed is not None and len(data.encode()) <= 64
    assert parse_post_ref(pressed.argument) == ("a1b2c3d4e5f6", "h12345")
    assert parse_origin("h12345") == ("history", 12345)
    assert parse_post_ref("a1b2c3d4e5f6") == ("a1b2c3d4e5f6", "")


@pytest.mark.parametrize("forged", ["x1", "u", "u-1", "h123456", "u0/u0", "../u0"])
def test_origins_of_a_shape_herald_never_makes_are_ignored(forged: str) -> None:
    assert parse_origin(forged) is None
    assert parse_post_ref(f"a1b2c3d4e5f6/{forged}") == ("a1b2c3d4e5f6", "")


def test_paging_buttons_appear_only_where_there_is_somewhere_to_go() -> None:
    first = labels(keyboards.history_keyboard([("🕒 #a1", "a1")], "upcoming", 0, has_next=True))
    assert first[0] == ["• Upcoming", "History"] and first[-1] == ["· 1 ·", "▶"]
    last = labels(keyboards.history_keyboard([("✅ #b2", "b2")], "history", 3, has_next=False))
    assert last[0] == ["Upcoming", "• History"] and last[-1] == ["◀", "· 4 ·"]
    alone = labels(keyboards.history_keyboard([], "upcoming", 0, has_next=False))
    assert alone == [["• Upcoming", "History"]]


def test_details_buttons_follow_the_status() -> None:
    def shown(status: str) -> set[str]:
        return {label for row in labels(keyboards.details_keyboard("a1", status, "u0")) for label in row}

    assert {"🕒 Reschedule", "✏️ Edit caption", "🚫 Cancel post"} <= shown("scheduled")
    assert "🔁 Retry failed" in shown("partial") and "🔁 Retry failed" in shown("failed")
    for status in ("publishing", "published", "cancelled"):
        assert shown(status) == {"◀ Back to the list", "🔄 Refresh"}, status


def test_details_of_a_post_with_many_targets_fit_one_message() -> None:
    post = post_with(300)
    post.status = PostStatus.FAILED
    post.deliveries = {
        t: Delivery(t, DeliveryStatus.FAILED, 1, error_message="Forbidden: the bot was kicked from the channel")
        for t in [t.target_id for t in post.targets]
    }
    text = details_text(post, "Europe/Berlin")
    assert len(text) < 4096 - 300  # room for a notice or a question
    assert "more targets" in text and "Channel number 0: failed" in text


def test_the_list_says_so_when_a_view_is_empty() -> None:
    assert "Nothing is scheduled" in history_text([], PostView.UPCOMING, 0, "UTC", NOW)
    assert "Nothing has been published" in history_text([], PostView.HISTORY, 0, "UTC", NOW)
    line = history_text([post_with(2, "A <b>bold</b> claim " * 10)], PostView.UPCOMING, 1, "UTC", NOW)
    assert "page 2" in line and "2 targets" in line and "&lt;b&gt;" in line and "…" in line


def test_quick_times_keep_the_rules_of_a_new_post() -> None:
    evening = datetime(2026, 3, 10, 19, 0, tzinfo=UTC)
    assert quick_time("1h", "UTC", NOW).when == NOW + timedelta(hours=1)
    assert quick_time("today18", "UTC", NOW).when == datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
    assert quick_time("today18", "UTC", evening).problem == "past"
    assert quick_time("tomorrow9", "Europe/Berlin", NOW).when == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    assert quick_time("now", "UTC", NOW).when == NOW
    assert quick_time("next-century", "UTC", NOW).problem == "unreadable"


def test_the_list_marks_a_post_that_may_have_gone_out_everywhere_as_not_confirmed() -> None:
    unsure, failed = post_with(2, "unsure"), post_with(2, "failed")
    for post, status in ((unsure, DeliveryStatus.UNCONFIRMED), (failed, DeliveryStatus.FAILED)):
        post.status = PostStatus.FAILED
        post.deliveries = {t.target_id: Delivery(t.target_id, status, 1) for t in post.targets}
    lines = history_text([unsure, failed], PostView.HISTORY, 0, "UTC", NOW).splitlines()
    assert any(line.startswith("❓") and unsure.short_id in line for line in lines)
    assert any(line.startswith("❌") and failed.short_id in line for line in lines)
