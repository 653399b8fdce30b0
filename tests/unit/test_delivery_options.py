"""Delivery options, apart from the chat: which follow-ups a delivery gets and when, what a chat
cannot do (the bot's rights, Telegram's 48 hours), what other platforms say they cannot do, the
presets, and the words for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram import ChatMemberAdministrator, ChatMemberMember, ChatMemberOwner, User
from telegram.error import BadRequest, Forbidden

from handlers import texts
from handlers.delivery_options import PRESETS, details_lines, history_marks, preset_choices, preset_code, with_preset
from publishers.base import OptionLack, lacking_options
from publishers.telegram_after import OptionProblem, follow_up_failure, option_problems
from publishers.webhook import payload
from storage.models import (
    Account,
    Delivery,
    DeliveryOptions,
    DeliveryStatus,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Platform,
    Target,
    follow_ups_for,
    new_post,
)

BOT = User(1, "Herald", is_bot=True)
PUBLISHED = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CHANNEL = Target("tg-1001", "Shop news", "-1001", "channel")
HOOK = Target("hook-1", "Automations", "127.0.0.1", platform=Platform.WEBHOOK)


def admin(**rights: bool) -> ChatMemberAdministrator:
    values = {
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": True,
        "can_edit_stories": True,
        "can_delete_stories": True,
        "can_pin_messages": True,
        "can_edit_messages": True,
        "can_post_messages": True,
    }
    values.update(rights)
    return ChatMemberAdministrator(BOT, **values)  # type: ignore[arg-type]


def post_with(options: DeliveryOptions, target: Target = CHANNEL):  # type: ignore[no-untyped-def]
    account = Account("telegram", 7, Platform.TELEGRAM, "Telegram")
    return new_post(
        user_id=7, account=account, targets=[target], main_caption="x", scheduled_time=PUBLISHED, options=options
    )


def sent(*ids: str, pinned: bool = True) -> Delivery:
    return Delivery(CHANNEL.target_id, DeliveryStatus.SENT, message_id=ids[0], message_ids=list(ids), pinned=pinned)


def test_a_delivery_gets_its_unpin_and_delete_at_their_times_with_every_message() -> None:
    post = post_with(DeliveryOptions(pin=True, unpin_after=3600, delete_after=86400))
    unpin, delete = follow_ups_for(post, CHANNEL, sent("5", "6", "7"), PUBLISHED)
    assert (unpin.kind, unpin.due_at) == (FollowUpKind.UNPIN, PUBLISHED + timedelta(hours=1))
    assert (delete.kind, delete.due_at) == (FollowUpKind.DELETE, PUBLISHED + timedelta(hours=24))
    assert delete.message_ids == ["5", "6", "7"] and delete.chat_id == "-1001"
    assert unpin.action_id != delete.action_id


def test_no_follow_ups_without_options_for_a_failed_delivery_or_elsewhere_than_telegram() -> None:
    assert follow_ups_for(post_with(DeliveryOptions(pin=True)), CHANNEL, sent("5"), PUBLISHED) == []
    deleting = post_with(DeliveryOptions(delete_after=60))
    failed = Delivery(CHANNEL.target_id, DeliveryStatus.FAILED)
    assert follow_ups_for(deleting, CHANNEL, failed, PUBLISHED) == []
    assert follow_ups_for(post_with(DeliveryOptions(delete_after=60), HOOK), HOOK, sent("5"), PUBLISHED) == []


def test_an_unpin_after_the_delete_or_of_a_post_telegram_did_not_pin_is_left_out() -> None:
    post = post_with(DeliveryOptions(pin=True, unpin_after=7200, delete_after=3600))
    assert [a.kind for a in follow_ups_for(post, CHANNEL, sent("5"), PUBLISHED)] == [FollowUpKind.DELETE]
    post = post_with(DeliveryOptions(pin=True, unpin_after=3600, delete_after=7200))
    not_pinned = sent("5", pinned=False)
    assert [a.kind for a in follow_ups_for(post, CHANNEL, not_pinned, PUBLISHED)] == [FollowUpKind.DELETE]


@pytest.mark.parametrize(
    ("kind", "member", "options", "expected"),
    [
        ("channel", admin(), DeliveryOptions(pin=True, delete_after=72 * 3600), []),
        ("channel", admin(can_edit_messages=False), DeliveryOptions(pin=True), [OptionProblem.NO_PIN_RIGHT]),
        ("supergroup", admin(can_pin_messages=False), DeliveryOptions(pin=True), [OptionProblem.NO_PIN_RIGHT]),
        (
            "channel",
            admin(can_delete_messages=False, can_post_messages=False),
            DeliveryOptions(delete_after=60),
            [OptionProblem.NO_DELETE_RIGHT],
        ),
        # Its own posts: for 48 hours with the right to post, later only with the right to delete.
        ("channel", admin(can_delete_messages=False), DeliveryOptions(delete_after=60), []),
        (
            "channel",
            admin(can_delete_messages=False),
            DeliveryOptions(delete_after=72 * 3600),
            [OptionProblem.DELETE_TOO_LATE],
        ),
        ("group", admin(), DeliveryOptions(delete_after=72 * 3600), [OptionProblem.DELETE_TOO_LATE]),
        ("group", admin(can_delete_messages=False), DeliveryOptions(delete_after=47 * 3600), []),
        (
            "group",
            admin(can_delete_messages=False),
            DeliveryOptions(delete_after=72 * 3600),
            [OptionProblem.DELETE_TOO_LATE],
        ),
        ("supergroup", admin(), DeliveryOptions(delete_after=72 * 3600), []),
        ("supergroup", ChatMemberOwner(BOT, False), DeliveryOptions(pin=True, delete_after=72 * 3600), []),
        (
            "group",
            ChatMemberMember(BOT),
            DeliveryOptions(pin=True, delete_after=72 * 3600),
            [OptionProblem.NO_PIN_RIGHT, OptionProblem.DELETE_TOO_LATE],
        ),
    ],
)
def test_what_cannot_work_in_a_chat_follows_the_bots_rights_and_the_48_hours(
    kind: str, member: ChatMemberAdministrator, options: DeliveryOptions, expected: list[OptionProblem]
) -> None:
    assert option_problems(kind, member, options) == expected


def test_telegrams_refusals_are_said_plainly() -> None:
    delete = FollowUpKind.DELETE
    assert follow_up_failure(BadRequest("Message can't be deleted"), delete) == "the bot lost its delete right"
    assert "48 hours" in follow_up_failure(BadRequest("Message can't be deleted for everyone"), delete)
    unpin = BadRequest("Not enough rights to manage pinned messages in the chat")
    assert follow_up_failure(unpin, FollowUpKind.UNPIN) == "the bot lost its pin right"
    assert follow_up_failure(Forbidden("bot was kicked"), delete) == "the bot is no longer in that chat"


def test_other_platforms_say_what_they_do_not_do() -> None:
    everything = DeliveryOptions(silent=True, protect=True, pin=True, delete_after=60)
    assert lacking_options(Platform.TELEGRAM, everything) == []
    assert lacking_options(Platform.FACEBOOK_PAGE, DeliveryOptions()) == []
    assert lacking_options(Platform.FACEBOOK_PAGE, DeliveryOptions(pin=True)) == [OptionLack.NO_PIN]
    assert lacking_options(Platform.WEBHOOK, everything) == [OptionLack.OPTIONS_IN_BODY]
    line = texts.option_lacks(
        "Facebook Pages", [lack.value for lack in lacking_options(Platform.FACEBOOK_PAGE, everything)]
    )
    assert line == "ℹ️ Facebook Pages: no silent posts, no protected posts, no pin, no delete after a while"


def test_a_webhook_body_carries_the_options_only_when_chosen() -> None:
    plain = payload(post_with(DeliveryOptions(), HOOK), HOOK, PUBLISHED, [])
    assert "options" not in plain
    chosen = payload(post_with(DeliveryOptions(silent=True, delete_after=86400), HOOK), HOOK, PUBLISHED, [])
    assert chosen["options"] == {
        "silent": True,
        "protect": False,
        "pin": False,
        "unpin_after": None,
        "delete_after": 86400,
    }


def test_presets_keep_silent_and_protected_and_name_themselves() -> None:
    options = DeliveryOptions(silent=True, protect=True)
    chosen = with_preset(options, "p1d24")
    assert chosen == DeliveryOptions(silent=True, protect=True, pin=True, unpin_after=3600, delete_after=86400)
    assert preset_code(chosen) == "p1d24"
    assert with_preset(options, "d9999") is None
    labels = dict((code, label) for label, code in preset_choices())
    assert labels["p1d24"] == "📌 1 h pinned / 🗑 24 h"
    assert labels["d72"] == "🗑 72 h" and labels["d7d"] == "🗑 7 days"
    assert set(labels) == set(PRESETS)


def follow_up(kind: FollowUpKind, status: FollowUpStatus, due: datetime, **fields: object) -> FollowUp:
    return FollowUp(
        action_id=f"p1:tg-1001:{kind.value}",
        post_id="p1abcdef0000",
        user_id=7,
        target_id="tg-1001",
        target_name="Shop <news>",
        chat_id="-1001",
        message_ids=["5"],
        kind=kind,
        due_at=due,
        status=status,
        **fields,  # type: ignore[arg-type]
    )


# Published on Sat 31 Oct 2026 12:00 UTC: the delete 48 h later falls after New York leaves
# summer time (1 Nov), so the same UTC hour is an hour earlier there.
BEFORE_DST_END = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "unpin_text", "delete_text"),
    [
        ("America/New_York", "Sat 31 Oct 09:00", "Mon 2 Nov 07:00"),
        ("Asia/Tokyo", "Sat 31 Oct 22:00", "Mon 2 Nov 21:00"),
    ],
)
def test_details_say_pinned_until_and_will_be_deleted_at_in_the_owners_zone(
    zone: str, unpin_text: str, delete_text: str
) -> None:
    unpin = follow_up(FollowUpKind.UNPIN, FollowUpStatus.PENDING, BEFORE_DST_END + timedelta(hours=1))
    delete = follow_up(FollowUpKind.DELETE, FollowUpStatus.PENDING, BEFORE_DST_END + timedelta(hours=48))
    first, second = details_lines([unpin, delete], zone)
    assert first.startswith("📌 pinned in Shop &lt;news&gt; until ") and unpin_text in first
    assert second.startswith("🗑 will be deleted from Shop &lt;news&gt; at ") and delete_text in second


def test_details_say_when_it_was_deleted_and_what_could_not_be_done() -> None:
    done_at = BEFORE_DST_END + timedelta(hours=24, seconds=3)
    deleted = follow_up(FollowUpKind.DELETE, FollowUpStatus.DONE, BEFORE_DST_END + timedelta(hours=24), done_at=done_at)
    failed = follow_up(
        FollowUpKind.UNPIN, FollowUpStatus.FAILED, BEFORE_DST_END, error_message="the bot lost its pin right"
    )
    lines = details_lines([failed, deleted], "Europe/Berlin")
    assert lines[0] == "⚠️ couldn't unpin in Shop &lt;news&gt;: the bot lost its pin right"
    assert lines[1].startswith("🗑 deleted from Shop &lt;news&gt; at Sun 1 Nov 13:00")


def test_the_history_list_marks_what_becomes_of_a_post_after_publishing() -> None:
    options = DeliveryOptions(silent=True, pin=True, unpin_after=3600, delete_after=86400)
    post = post_with(options)
    due = BEFORE_DST_END + timedelta(hours=24)
    pending = [
        follow_up(FollowUpKind.UNPIN, FollowUpStatus.PENDING, BEFORE_DST_END),
        follow_up(FollowUpKind.DELETE, FollowUpStatus.PENDING, due),
    ]
    assert history_marks(post, pending, lambda when: f"at {when:%H:%M}") == "🔕 📌 🗑 at 12:00"
    assert history_marks(post, [], str) == "🔕 📌 🗑 24 h", "scheduled: what is planned"
    done = [follow_up(FollowUpKind.DELETE, FollowUpStatus.DONE, due, done_at=due)]
    assert history_marks(post, done, str) == "🔕 🗑 deleted"
    missed = [follow_up(FollowUpKind.DELETE, FollowUpStatus.MISSED, due)]
    assert history_marks(post, missed, str) == "🔕 ⚠️"
    assert history_marks(post_with(DeliveryOptions()), [], str) == ""
