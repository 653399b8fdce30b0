"""Reports and New post a person can act on, end to end (the real bot against the fake Bot API and the
fake Graph API): Reconnect where Facebook refused a token — in the report, beside Retry failed, and
in New post's list of accounts — leading to a post that goes out; "❓ Not confirmed" for a post
that may have gone out, and a retry that says it may post twice; New post starting at the targets
when the bot is the only account, with the account step back for those with more."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from handlers.common import telegram_account
from publishers.facebook_groups import group_target
from publishers.telegram import chat_target
from storage import Store
from storage.models import DeliveryStatus, Platform, PostStatus, new_post, utc_now
from tests.e2e.conftest import ALICE, Person, bot_running, bot_settings, eventually
from tests.e2e.steps import settings_with_graph
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.graph_api import FakeGraphAPI

USER_TOKEN = "fb-user-token-of-report-tests-1"
RENEWED = "fb-user-token-of-report-tests-2"
PAGES = [("1111", "Bakery Page", "fb-page-token-1111"), ("2222", "Cafe Page", "fb-page-token-2222")]
SHOP = -1004000000021
ACCOUNT = "Facebook: Bakery Page +1"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as server:
        server.add_user_token(USER_TOKEN, PAGES)
        yield server


def add_shop_channel(api: FakeBotAPI) -> None:
    api.add_chat(SHOP, "channel", "Shop news")
    api.set_member(SHOP, ALICE, "administrator")
    api.bot_added_to_chat(SHOP, ALICE)


def texts_in(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in api.bot_messages(chat_id)]


def rows_of(message: dict[str, Any]) -> list[list[str]]:
    return [[b["text"] for b in row] for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])]


def button_data(message: dict[str, Any], label: str) -> str:
    """The callback data of the button of `message` whose label contains `label`."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if label in button["text"]:
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} in {rows_of(message)}")


def current(person: Person, message: dict[str, Any]) -> dict[str, Any]:
    """The message as it stands now (edits included)."""
    return next(m for m in person.bot_messages() if m["message_id"] == message["message_id"])


async def press_on(person: Person, message: dict[str, Any], label: str, expect: str) -> dict[str, Any]:
    """Presses the button `label` of `message` (as it stands now); the message, new or changed, that
    then says `expect`."""
    data = button_data(current(person, message), label)
    answered = await person.press_data(message["message_id"], data, expect=expect)
    assert answered is not None
    return answered


async def connect_facebook(alice: Person) -> None:
    await alice.say("/accounts", expect="Your accounts")
    await alice.press("Add account", expect="Which kind of account")
    await alice.press("Facebook Page", expect="Paste a")
    await alice.say(USER_TOKEN, expect="Facebook connected: 2 Pages")


async def post_now(store: Store, caption: str, *target_ids: str) -> str:
    """A post of Alice's to these targets (of any of her accounts), due in a second; its short id."""
    everything = {t.target_id: t for a in await store.list_accounts(ALICE) for t in a.targets}
    everything.update((chat_target(chat).target_id, chat_target(chat)) for chat in await store.list_chats())
    post = new_post(
        user_id=ALICE,
        account=telegram_account(ALICE),
        targets=[everything[target_id] for target_id in target_ids],
        main_caption=caption,
        scheduled_time=utc_now() + timedelta(seconds=1),
    )
    await store.create_post(post)
    return post.post_id


async def test_a_report_of_a_refused_token_offers_reconnect_and_retry_then_publishes(
    api: FakeBotAPI, graph: FakeGraphAPI, database_url: str, encryption_key: str
) -> None:
    add_shop_channel(api)
    graph.add_user_token(RENEWED, PAGES)
    alice = Person(api, ALICE)
    async with bot_running(settings_with_graph(api, graph, database_url, encryption_key)) as store:
        await connect_facebook(alice)
        [account] = await store.list_accounts(ALICE)
        graph.revoke(USER_TOKEN)
        post_id = await post_now(store, "Fresh bread at noon", "fb1111", f"tg{SHOP}")

        report = await alice.expect(f"Partly published #{post_id[:6]}: 1/2", timeout=20)
        assert rows_of(report) == [["🔎 Details", "🔁 Retry failed", "🔑 Reconnect"]]
        assert button_data(report, "Reconnect") == f"acc:reconnect:{account.account_id}/apart"

        # Retry before reconnecting would fail again: the question says so and offers Reconnect.
        asked = await press_on(alice, report, "Retry failed", expect="Send post #")
        assert "1 failed target?" in asked["text"]
        assert "Bakery Page: the account still needs reconnecting" in asked["text"]
        assert rows_of(asked) == [["Yes, retry", "Not now"], ["🔑 Reconnect"]]
        await alice.press_data(asked["message_id"], button_data(asked, "Not now"))
        await eventually(lambda: not current(alice, asked).get("reply_markup"))

        prompt = await press_on(alice, report, "Reconnect", expect="Paste a")
        # The token is asked for apart: the report keeps its words and buttons.
        assert prompt["message_id"] != report["message_id"]
        assert current(alice, report)["text"] == report["text"] and rows_of(current(alice, report)) == rows_of(report)
        await alice.say(RENEWED, expect="Facebook connected: 2 Pages")
        [reconnected] = await store.list_accounts(ALICE)
        assert not reconnected.needs_reconnect and await store.account_credential(account.account_id) == RENEWED
        assert [m["deleted"] for m in api.messages(ALICE) if m.get("text") == RENEWED] == [True]

        asked = await press_on(alice, report, "Retry failed", expect="Send post #")
        assert "needs reconnecting" not in asked["text"] and rows_of(asked) == [["Yes, retry", "Not now"]]
        await press_on(alice, asked, "Yes, retry", expect="Retrying")

        await alice.expect(f"Published #{post_id[:6]} to 2/2 targets", timeout=20)
        assert [entry["message"] for entry in graph.feed("1111")] == ["Fresh bread at noon"]
        assert texts_in(api, SHOP) == ["Fresh bread at noon"], "the channel got it again"
        done = await store.get_post(ALICE, post_id)
        assert done is not None and done.status is PostStatus.PUBLISHED


async def test_new_post_marks_an_account_that_needs_reconnecting_and_reconnects_it_there(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    graph.add_user_token(RENEWED, PAGES)
    alice = Person(api, ALICE)
    async with bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store:
        await connect_facebook(alice)
        [account] = await store.list_accounts(ALICE)
        graph.revoke(USER_TOKEN)
        await store.mark_account_needs_reconnect(account.account_id)

        listing = await alice.say("/new", expect="Which account")
        assert listing is not None
        assert rows_of(listing) == [
            ["Telegram (this bot)"],
            [f"⚠️ {ACCOUNT}", "🔑 Reconnect"],
            ["🌐 All accounts"],
            ["➕ Add account"],
            ["✖️ Cancel"],
        ]
        # Choosing it anyway still warns, with Reconnect under the warning.
        await alice.press(ACCOUNT, expect="Where should it go?")
        warning = await alice.expect(f"{ACCOUNT} needs reconnecting")
        assert rows_of(warning) == [["🔑 Reconnect"]]
        await alice.press("◀ Account", expect="Which account")

        count = alice.count()
        await alice.press("Reconnect", expect="Paste a")
        assert alice.count() == count + 1, "the token is asked for in a message of its own"
        await alice.say(RENEWED, expect="Facebook connected")
        [reconnected] = await store.list_accounts(ALICE)
        assert not reconnected.needs_reconnect
        # The account conversation took the token, not New post's account step: it is gone from the chat.
        assert [m["deleted"] for m in api.messages(ALICE) if m.get("text") == RENEWED] == [True]

        # The post goes on from the list of accounts, with no warning any more.
        warnings = sum("needs reconnecting" in (m.get("text") or "") for m in alice.bot_messages())
        await alice.press(ACCOUNT, expect="Where should it go?")
        await alice.press("Cafe Page", expect="(1 of 2 selected)")
        await alice.press("Done (1)", expect="Send the photos")
        await alice.press("No images", expect="Send its text")
        await alice.say("Open late tonight", expect="step 4 of 5")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Schedule", expect="Scheduled #")
        await alice.expect("Published #", timeout=20)
        assert sum("needs reconnecting" in (m.get("text") or "") for m in alice.bot_messages()) == warnings
        assert [entry["message"] for entry in graph.feed("2222")] == ["Open late tonight"]


async def test_a_post_only_unconfirmed_is_headed_not_confirmed_and_its_retry_warns_it_may_post_twice(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_shop_channel(api)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await eventually(lambda: api.pending_updates() == 0)
        # The channel gets the post, but the answer comes after python-telegram-bot's 5 s read timeout.
        api.delay("sendMessage", 6)
        post_id = await post_now(store, "Did it arrive?", f"tg{SHOP}")

        report = await alice.expect(f"#{post_id[:6]}", timeout=20)
        headline = report["text"].splitlines()[0]
        assert headline == f"❓ Not confirmed #{post_id[:6]}: 0/1"
        assert "No answer came back from Shop news" in report["text"] and "twice" in report["text"]
        assert rows_of(report) == [["🔎 Details", "🔁 Retry failed"]]
        assert texts_in(api, SHOP) == ["Did it arrive?"]
        stored = await store.get_post(ALICE, post_id)
        assert stored is not None and stored.status is PostStatus.FAILED
        assert stored.deliveries[f"tg{SHOP}"].status is DeliveryStatus.UNCONFIRMED

        # From the report: the question says it may post twice, and Not now leaves it.
        asked = await press_on(alice, report, "Retry failed", expect="Send post #")
        assert f"Send post #{post_id[:6]} again to its 1 unconfirmed target?" in asked["text"]
        assert "It may post twice" in asked["text"] and "Shop news" in asked["text"]
        assert rows_of(asked) == [["Yes, retry (may post twice)", "Not now"]]
        await alice.press_data(asked["message_id"], button_data(asked, "Not now"))
        await eventually(lambda: not current(alice, asked).get("reply_markup"))

        # From Details: the same headline and the same question.
        details = await press_on(alice, report, "Details", expect=f"Post #{post_id[:6]}")
        assert details["text"].startswith(f"❓ Post #{post_id[:6]} — not confirmed")
        asked_there = await press_on(alice, details, "Retry failed", expect="It may post twice")
        assert asked_there["message_id"] == details["message_id"]
        await press_on(alice, details, "Yes, retry", expect="Retrying")
        await alice.expect(f"Published #{post_id[:6]} to 1/1 target", timeout=20)
        assert texts_in(api, SHOP) == ["Did it arrive?", "Did it arrive?"]


async def test_new_post_starts_at_the_targets_when_the_bot_is_the_only_account(
    api: FakeBotAPI, sqlite_url: str, encryption_key: str
) -> None:
    add_shop_channel(api)
    alice = Person(api, ALICE)
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await eventually(lambda: api.pending_updates() == 0)
        first = await alice.say("/new", expect="Where should it go?")
        assert first is not None and "Account: Telegram (this bot)" in first["text"]
        assert rows_of(first) == [
            ["▫️ Shop news"],
            ["Select all", "Done (0)"],
            ["➕ Add account", "🔄 Refresh", "✖️ Cancel"],
        ]
        assert not any("Which account" in (m.get("text") or "") for m in alice.bot_messages())
        await alice.press("Add account", expect="/accounts")
        await alice.press("Shop news", expect="(1 of 1 selected)")
        await alice.press("Done (1)", expect="Send the photos")
        await alice.say("/cancel", expect="Cancelled")

        # With a second account the step is back, and the targets step leads back to it.
        await store.add_account(ALICE, Platform.FACEBOOK_GROUPS, "Facebook groups", "", [group_target("Book club")])
        listing = await alice.say("/new", expect="Which account")
        assert listing is not None
        await alice.press("Telegram (this bot)", expect="Where should it go?")
        targets = await alice.press("Shop news", expect="(1 of 1 selected)")
        assert targets is not None and rows_of(targets)[-1] == ["◀ Account", "🔄 Refresh", "✖️ Cancel"]
        back = await alice.press("◀ Account", expect="Which account")
        assert back is not None and back["message_id"] == targets["message_id"]
        await alice.press("Telegram (this bot)", expect="(1 of 1 selected)")  # the same account keeps the pick
        await alice.press("◀ Account", expect="Which account")
        await alice.press("Facebook groups", expect="(0 of 1 selected)")
        await alice.press("Book club", expect="(1 of 1 selected)")
        await alice.press("Done (1)", expect="Send the photos")
