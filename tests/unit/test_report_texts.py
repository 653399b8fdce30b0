"""What the owner reads: a failure retried until it could no longer matter says for how long (in the
owner's zone), an outage says the post is delayed and until when, posts that end together share a
message with buttons for each, and no report is longer than Telegram allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers import when
from handlers.posts import details_text
from handlers.reports import report, reports
from publishers.telegram_layout import TEXT_LIMIT, utf16_len
from storage.models import Account, Delivery, DeliveryStatus, ErrorKind, Platform, Post, PostStatus, Target, new_post

# 13:00 UTC on a winter day: 14:00 in Berlin, 08:00 in New York, 22:00 in Tokyo.
START = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


def a_post(targets: int = 2, caption: str = "Hello") -> Post:
    account = Account("telegram", 7, Platform.TELEGRAM, "Telegram")
    chosen = [Target(f"tg{n}", f"Channel {n}", str(-100 - n), "channel") for n in range(targets)]
    return new_post(user_id=7, account=account, targets=chosen, main_caption=caption, scheduled_time=START)


def outage_failed(post: Post, target_id: str, minutes: int) -> None:
    post.deliveries[target_id] = Delivery(
        target_id,
        DeliveryStatus.FAILED,
        attempts=9,
        error_kind=ErrorKind.RETRYABLE,
        error_code="500",
        error_message="could not reach Telegram (Internal Server Error)",
        updated_at=START + timedelta(minutes=minutes),
        retry_since=START,
        retries=9,
    )


@pytest.mark.parametrize(
    ("zone", "since", "until"),
    [("Europe/Berlin", "14:00", "14:40"), ("America/New_York", "08:00", "08:40"), ("Asia/Tokyo", "22:00", "22:40")],
)
def test_a_failure_retried_to_the_end_says_from_when_to_when_in_the_owners_zone(
    zone: str, since: str, until: str
) -> None:
    post = a_post()
    post.deliveries["tg0"] = Delivery("tg0", DeliveryStatus.SENT, 1, message_id="5")
    outage_failed(post, "tg1", 40)
    post.status = PostStatus.PARTIAL
    text, markup = report(post, zone)
    assert f"⚠️ Partly published #{post.short_id}: 1/2" in text
    assert f"Channel 1: could not reach Telegram (Internal Server Error) — tried from {since} to {until}" in text
    labels = [button.text for row in markup.inline_keyboard for button in row]
    assert labels == ["🔎 Details", "🔁 Retry failed"]


def test_a_delay_notice_names_the_waiting_targets_and_the_deadline() -> None:
    post = a_post()
    post.status = PostStatus.PUBLISHING
    post.deliveries["tg0"] = Delivery("tg0", DeliveryStatus.SENT, 1)
    post.deliveries["tg1"] = Delivery(
        "tg1", DeliveryStatus.PENDING, 3, error_message="could not reach Telegram (Bad Gateway)", retry_since=START
    )
    text, markup = reports([post], "Europe/Berlin", {post.post_id: START + timedelta(days=1)})
    assert f"⏳ Post #{post.short_id} is delayed: 1 of 2 targets could not be reached since 14:00." in text
    assert "Channel 1: could not reach Telegram (Bad Gateway)" in text
    assert "I keep trying until Thu 3 Dec 14:00 (Europe/Berlin)" in text
    assert [button.text for row in markup.inline_keyboard for button in row] == [f"🔎 Details #{post.short_id}"]


def test_posts_that_end_together_share_one_message_with_buttons_for_each() -> None:
    done, failed = a_post(caption="one"), a_post(caption="two")
    for target_id in [t.target_id for t in done.targets]:
        done.deliveries[target_id] = Delivery(target_id, DeliveryStatus.SENT, 1)
    done.status = PostStatus.PUBLISHED
    for target_id in [t.target_id for t in failed.targets]:
        outage_failed(failed, target_id, 30)
    failed.status = PostStatus.FAILED
    text, markup = reports([done, failed], "UTC", {})
    assert f"✅ Published #{done.short_id} to 2/2 targets" in text
    assert f"❌ Failed #{failed.short_id}: 0/2" in text
    rows = [[button.text for button in row] for row in markup.inline_keyboard]
    assert rows == [
        [f"🔎 Details #{done.short_id}"],
        [f"🔎 Details #{failed.short_id}", f"🔁 Retry failed #{failed.short_id}"],
    ]


def test_a_report_of_many_long_failures_is_cut_to_fit_one_message() -> None:
    post = a_post(targets=60)
    for target_id in [t.target_id for t in post.targets]:
        post.deliveries[target_id] = Delivery(
            target_id, DeliveryStatus.FAILED, 1, error_kind=ErrorKind.PERMANENT, error_message="😕 refused " * 20
        )
    post.status = PostStatus.FAILED
    text, _ = report(post, "UTC")
    assert utf16_len(text) <= TEXT_LIMIT
    assert text.endswith("more lines: see Details.")


def test_details_of_a_post_waiting_to_retry_say_when_it_is_tried_next(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(when, "clock", lambda: START)
    post = a_post()
    post.status = PostStatus.PUBLISHING
    post.retry_at = START + timedelta(minutes=5)
    assert "trying again at Wed 2 Dec 08:05 (America/New_York)" in details_text(post, "America/New_York")
