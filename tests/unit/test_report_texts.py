"""What the owner reads: a failure retried until it could no longer matter says for how long (in the
owner's zone), an outage says the post is delayed and until when, posts that end together share a
message with buttons for each, and no report is longer than Telegram allows; a post that may have
gone out is "Not confirmed", a refused Facebook token brings a Reconnect button, and every count is
said with a real plural."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from telegram import InlineKeyboardMarkup

from handlers import texts, when
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


# -- what a person can act on: Not confirmed, Reconnect, real plurals --------------------------------
def unconfirmed(target_id: str) -> Delivery:
    return Delivery(
        target_id, DeliveryStatus.UNCONFIRMED, 1, error_kind=ErrorKind.UNCONFIRMED, error_message="no answer came back"
    )


def refused(target_id: str, code: str = "190") -> Delivery:
    return Delivery(
        target_id,
        DeliveryStatus.FAILED,
        1,
        error_kind=ErrorKind.PERMANENT,
        error_code=code,
        error_message="Facebook no longer accepts this account",
    )


def pages_post(*accounts: str) -> Post:
    """A post to one Facebook Page of each account named, and to one Telegram channel."""
    pages = [
        Target(f"fb{n}", f"Page {n}", str(n), account_id=account, platform=Platform.FACEBOOK_PAGE)
        for n, account in enumerate(accounts)
    ]
    channel = Target("tg0", "Shop news", "-1000", "channel", account_id="telegram")
    account = Account("telegram", 7, Platform.TELEGRAM, "Telegram")
    return new_post(user_id=7, account=account, targets=[*pages, channel], main_caption="Hi", scheduled_time=START)


def labels_of(markup: InlineKeyboardMarkup) -> list[list[str]]:
    return [[button.text for button in row] for row in markup.inline_keyboard]


def test_a_post_whose_only_outcome_is_unconfirmed_is_headed_not_confirmed() -> None:
    post = a_post(targets=1)
    post.deliveries["tg0"] = unconfirmed("tg0")
    post.status = PostStatus.FAILED
    text, markup = report(post, "UTC")
    assert text.splitlines()[0] == f"❓ Not confirmed #{post.short_id}: 0/1"
    assert "Failed" not in text and "No answer came back from Channel 0" in text
    assert labels_of(markup) == [["🔎 Details", "🔁 Retry failed"]]
    assert details_text(post, "UTC").startswith(f"❓ <b>Post #{post.short_id}</b> — not confirmed")


def test_a_failure_beside_an_unconfirmed_target_keeps_its_headline_and_names_what_may_have_posted() -> None:
    failed = a_post(targets=2)
    failed.deliveries["tg0"] = unconfirmed("tg0")
    failed.deliveries["tg1"] = Delivery("tg1", DeliveryStatus.FAILED, 1, error_message="the bot is not an admin")
    failed.status = PostStatus.FAILED
    text, _ = report(failed, "UTC")
    assert text.splitlines()[0] == f"❌ Failed #{failed.short_id}: 0/2"
    assert "No answer came back from Channel 0: the post may be there already" in text

    partial = a_post(targets=3)
    partial.deliveries["tg0"] = Delivery("tg0", DeliveryStatus.SENT, 1)
    partial.deliveries["tg1"] = unconfirmed("tg1")
    partial.deliveries["tg2"] = unconfirmed("tg2")
    partial.status = PostStatus.PARTIAL
    text, _ = report(partial, "UTC")
    assert text.splitlines()[0] == f"⚠️ Partly published #{partial.short_id}: 1/3"
    assert "No answer came back from Channel 1 and Channel 2" in text and "could post it twice" in text


def test_a_refused_facebook_token_puts_reconnect_beside_retry_for_that_account() -> None:
    post = pages_post("acc1")
    post.deliveries["fb0"] = refused("fb0")
    post.deliveries["tg0"] = Delivery("tg0", DeliveryStatus.SENT, 1)
    post.status = PostStatus.PARTIAL
    _, markup = report(post, "UTC")
    assert labels_of(markup) == [["🔎 Details", "🔁 Retry failed", "🔑 Reconnect"]]
    assert markup.inline_keyboard[0][2].callback_data == "acc:reconnect:acc1/apart"

    # Several accounts refused: a button for each, named; in a message about several posts, numbered.
    two = pages_post("acc1", "acc2")
    two.deliveries.update(fb0=refused("fb0"), fb1=refused("fb1", "102"), tg0=Delivery("tg0", DeliveryStatus.SENT, 1))
    two.status = PostStatus.PARTIAL
    assert labels_of(report(two, "UTC")[1]) == [
        ["🔎 Details", "🔁 Retry failed"],
        ["🔑 Reconnect Page 0", "🔑 Reconnect Page 1"],
    ]
    _, together = reports([post, two], "UTC", {})
    assert labels_of(together)[0] == [
        f"🔎 Details #{post.short_id}",
        f"🔁 Retry failed #{post.short_id}",
        f"🔑 Reconnect #{post.short_id}",
    ]


@pytest.mark.parametrize(
    ("platform", "code"),
    [
        (Platform.FACEBOOK_PAGE, "10"),
        (Platform.FACEBOOK_PAGE, "500"),
        (Platform.TELEGRAM, "403"),
        (Platform.WEBHOOK, "190"),
    ],
)
def test_other_failures_offer_no_reconnect(platform: Platform, code: str) -> None:
    post = pages_post("acc1")
    post.targets[0].platform = platform
    post.deliveries.update(fb0=refused("fb0", code), tg0=Delivery("tg0", DeliveryStatus.SENT, 1))
    post.status = PostStatus.PARTIAL
    assert labels_of(report(post, "UTC")[1]) == [["🔎 Details", "🔁 Retry failed"]]


def test_the_retry_question_says_what_it_may_do_twice_and_what_still_fails() -> None:
    assert texts.confirm_retry("abc123", 1, []) == "Send post #abc123 again to its 1 failed target?"
    only_unconfirmed = texts.confirm_retry("abc123", 0, ["Shop news"])
    assert only_unconfirmed.startswith("Send post #abc123 again to its 1 unconfirmed target?")
    assert "<b>It may post twice</b>: no answer came back from Shop news" in only_unconfirmed
    both = texts.confirm_retry("abc123", 2, ["A", "B", "C", "D", "E", "F", "G"], ["Bakery <Page>"])
    assert both.startswith("Send post #abc123 again to its 9 failed or unconfirmed targets?")
    assert "from A, B, C, D, E and 2 more," in both
    assert "Bakery &lt;Page&gt;: the account still needs reconnecting" in both


# What the bot says with a count in it: (the text for n, what it says for 1, what it says for 3).
SAID_WITH_COUNTS: list[tuple[Callable[[int], str], str, str]] = [
    (texts.photos_received, "1 photo in", "3 photos in"),
    (lambda n: texts.preview("t", "r", ["A"] * n, n), "1 target: A", "3 targets: A"),
    (lambda n: texts.preview("t", "r", ["A"], n), "1 image", "3 images"),
    (lambda n: texts.scheduled("x", "t", n), "to 1 target.", "to 3 targets."),
    (lambda n: texts.report_headline("x", "published", n, n), "1/1 target", "3/3 targets"),
    (lambda n: texts.delay_headline("x", 1, n, "14:00"), "1 of 1 target could", "1 of 3 targets could"),
    (lambda n: texts.confirm_retry("x", n, []), "1 failed target?", "3 failed targets?"),
    (lambda n: texts.confirm_retry("x", 0, ["A"] * n), "1 unconfirmed target?", "3 unconfirmed targets?"),
    (lambda n: texts.retry_scheduled("x", n), "for 1 target.", "for 3 targets."),
    (lambda n: texts.facebook_connected(["A"] * n), "1 Page —", "3 Pages —"),
    (texts.facebook_groups_saved, "1 Facebook group saved", "3 Facebook groups saved"),
    (lambda n: texts.account_removed("A", n), "1 scheduled post cancelled", "3 scheduled posts cancelled"),
    (lambda n: texts.details_content("", n, None)[1], "1 image", "3 images"),
    (lambda n: texts.poster_summary("P", n, ""), "1 image", "3 images"),
    (texts.more_targets, "1 more target —", "3 more targets —"),
    (lambda n: texts.history_line("", "x", "t", n, ""), "1 target", "3 targets"),
    (lambda n: texts.account_line("A", "webhook", n, False), "1 target", "3 targets"),
    (texts.report_cut, "1 more line:", "3 more lines:"),
]


@pytest.mark.parametrize(("say", "one", "three"), SAID_WITH_COUNTS)
def test_counts_are_said_with_real_plurals(say: Callable[[int], str], one: str, three: str) -> None:
    assert one in say(1) and three in say(3)
    assert "(s)" not in say(1) + say(3)


def test_plural_says_one_thing_or_many() -> None:
    assert texts.plural(1, "target") == "1 target"
    assert texts.plural(0, "image") == "0 images"
    assert texts.plural(1_200, "Page") == "1,200 Pages"
    assert texts.plural(2, "box", "boxes") == "2 boxes"
