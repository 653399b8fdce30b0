"""Accounts a person can act on, end to end (the real bot against the fake Bot API, the fake Graph
API and webhook receivers): a pasted token that can't be used says why and another is taken; a
webhook is named when added and any account renamed; a failed test delivery offers Save anyway or
Try another URL; every question has a Cancel button, and stale or forged buttons change nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from handlers.common import telegram_account
from storage import Store
from storage.models import Platform, new_post, utc_now
from tests.e2e.conftest import ALICE, BOB, Person, bot_running, eventually
from tests.e2e.steps import disk, settings_with_graph
from tests.fakes.bot_api import FakeBotAPI, jpeg_bytes
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.webhook_receiver import WebhookReceiver

USER_TOKEN = "EAAuser-token-of-the-tests-0001"
PAGES = [("1111", "Bakery Page", "EAApage-token-1111"), ("2222", "Cafe Page", "EAApage-token-2222")]
SECRET = "webhook-secret-of-the-tests-42"
OTHER_SECRET = "another-webhook-secret-000042"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as server:
        server.add_user_token(USER_TOKEN, PAGES)
        yield server


def buttons_of(message: dict[str, Any]) -> list[str]:
    return [button["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for button in row]


def button_data(message: dict[str, Any], label: str) -> str:
    """The callback data of the button labelled `label` under `message`."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if label in button["text"]:
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} under {message.get('text')!r}")


async def alert_for(person: Person, message: dict[str, Any], data: str) -> str:
    """Presses `data` (a real button of `message`, stale or forged) and returns the alert shown."""
    await person.press_data(message["message_id"], data)
    shown = person.last_answer()
    assert shown.get("show_alert") in (True, "true", "True"), shown
    return str(shown.get("text"))


async def start_adding(alice: Person, platform: str, expect: str) -> dict[str, Any]:
    """Alice opens /accounts, taps Add account and the platform; the first question."""
    await alice.say("/accounts", expect="Your accounts")
    await alice.press("Add account", expect="Which kind of account")
    asked = await alice.press(platform, expect=expect)
    assert asked is not None
    return asked


def deleted(api: FakeBotAPI, text: str) -> bool:
    """True if every message Alice sent with `text` in it is gone from the chat."""
    sent = [m for m in api.messages(ALICE) if not m["from_bot"] and text in (m.get("text") or "")]
    return bool(sent) and all(m["deleted"] for m in sent)


async def add_webhook(alice: Person, url: str, secret: str, name: str | None = None) -> dict[str, Any]:
    """Alice adds a webhook whose test delivery is accepted, named `name` (by default its host)."""
    await start_adding(alice, "Webhook", expect="Send the webhook's")
    await alice.say(url, expect="signing secret")
    asked = await alice.say(secret, expect="a signed test delivery was accepted")
    assert asked is not None and "What should this webhook be called?" in asked["text"]
    saved = await (alice.say(name, expect="saved") if name else alice.press("Use 127.0.0.1", expect="saved"))
    assert saved is not None
    return saved


# -- 1. a Facebook token that can't be used ---------------------------------------------------------


async def test_a_facebook_token_that_cant_be_used_says_why_and_another_is_taken(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    expired, app_token = "EAAexpired-token-0002", "1234567890|app-secret-of-the-tests"
    no_posting, no_pages = "EAAno-posting-token-0003", "EAAno-page-list-token-0004"
    graph.add_user_token(expired, PAGES)
    graph.revoke(expired, subcode=463)
    graph.add_app_token(app_token)
    graph.add_user_token(
        no_posting, PAGES, granted=("public_profile", "pages_show_list"), declined=("pages_manage_posts",)
    )
    graph.add_user_token(no_pages, PAGES, granted=("public_profile", "pages_manage_posts", "pages_read_engagement"))
    alice = Person(api, ALICE)
    async with bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store:
        asked = await start_adding(alice, "Facebook Page", expect="Paste a")
        assert buttons_of(asked) == ["✖️ Cancel"]

        why = {
            "EAAmistyped-t0ken": "it is not a valid access token: Facebook does not recognise it",
            expired: "it is no longer valid: it has expired",
            app_token: "it is the wrong kind of token: an app token",
            no_posting: "it lacks the pages_manage_posts and pages_read_engagement permission",
            no_pages: "it lacks the pages_show_list permission",
        }
        for token, reason in why.items():
            refused = await alice.say(token, expect="That token can't be used")
            assert refused is not None
            assert reason in refused["text"], (token, refused["text"])
            assert "Send another token, or tap Cancel" in refused["text"]
            assert buttons_of(refused) == ["✖️ Cancel"]
            # There is no account yet, and the person is in /accounts already.
            assert "reconnect" not in refused["text"].lower() and "/accounts" not in refused["text"]
            assert token not in refused["text"] and deleted(api, token)
            assert await store.list_accounts(ALICE) == []

        # Facebook was asked as a client asks it: the user tokens' grants were read.
        assert any(call["path"] == "/me/permissions" for call in graph.calls)

        await alice.say(USER_TOKEN, expect="Facebook connected: 2 Page")
        [account] = await store.list_accounts(ALICE)
        assert [t.address for t in account.targets] == ["1111", "2222"]
        assert await store.account_credential(account.account_id) == USER_TOKEN


async def test_a_page_token_connects_its_page_without_a_grants_check(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    alice = Person(api, ALICE)
    async with bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store:
        await start_adding(alice, "Facebook Page", expect="Paste a")
        connected = await alice.say(PAGES[1][2], expect="Facebook connected: 1 Page")
        assert connected is not None and "— Cafe Page." in connected["text"]
        [account] = await store.list_accounts(ALICE)
        assert account.name == "Facebook: Cafe Page"


async def test_reconnecting_with_a_bad_token_names_the_account_and_keeps_its_credential(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    renewed = "EAAuser-token-renewed-0005"
    graph.add_user_token(renewed, PAGES)
    alice = Person(api, ALICE)
    async with bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store:
        await start_adding(alice, "Facebook Page", expect="Paste a")
        await alice.say(USER_TOKEN, expect="Facebook connected")
        [account] = await store.list_accounts(ALICE)
        graph.revoke(USER_TOKEN, subcode=460)
        await store.mark_account_needs_reconnect(account.account_id)

        await alice.say("/accounts", expect="needs reconnecting")
        screen = await alice.press("Facebook: Bakery Page +1", expect="Bakery Page")
        asked = await alice.press("Reconnect", expect="Paste a new token for Facebook: Bakery Page +1")
        assert asked is not None and buttons_of(asked) == ["✖️ Cancel"]
        assert screen is not None and asked["message_id"] != screen["message_id"]  # the screen stays
        refused = await alice.say(USER_TOKEN, expect="That token can't reconnect Facebook: Bakery Page +1")
        assert refused is not None and "the Facebook password was changed" in refused["text"]
        assert buttons_of(refused) == ["✖️ Cancel"]
        [kept] = await store.list_accounts(ALICE)
        assert kept.needs_reconnect and await store.account_credential(account.account_id) == USER_TOKEN

        await alice.say(renewed, expect="Facebook connected: 2 Page")
        [reconnected] = await store.list_accounts(ALICE)
        assert reconnected.account_id == account.account_id and not reconnected.needs_reconnect
        assert await store.account_credential(account.account_id) == renewed


# -- 2. names: asked for a webhook, any account renamed ---------------------------------------------


async def test_two_webhooks_on_one_host_are_told_apart_by_their_names(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    alice = Person(api, ALICE)
    async with (
        WebhookReceiver(SECRET, path="/hook/team") as team,
        WebhookReceiver(SECRET, path="/hook/alerts") as alerts,
        bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store,
    ):
        saved = await add_webhook(alice, team.url, SECRET, name="  Team\nchat 🚀  ")
        assert "Webhook Team chat 🚀 saved" in saved["text"]
        asked = await start_adding(alice, "Webhook", expect="Send the webhook's")
        await alice.say(alerts.url, expect="signing secret")
        named = await alice.say(SECRET, expect="What should this webhook be called?")
        assert named is not None and buttons_of(named) == ["Use 127.0.0.1", "✖️ Cancel"]
        assert "Use 127.0.0.1" in named["text"] and buttons_of(asked) == ["✖️ Cancel"]
        await alice.press("Use 127.0.0.1", expect="Webhook 127.0.0.1 saved")

        accounts = {a.name: a for a in await store.list_accounts(ALICE)}
        assert set(accounts) == {"Team chat 🚀", "127.0.0.1"}
        assert [t.name for t in accounts["Team chat 🚀"].targets] == ["Team chat 🚀"]
        assert [t.name for t in accounts["127.0.0.1"].targets] == ["127.0.0.1"]
        assert all(t.address == "127.0.0.1" for a in accounts.values() for t in a.targets)

        listing = await alice.say("/accounts", expect="Your accounts")
        assert listing is not None and "• Team chat 🚀 — Webhook, 1 target" in listing["text"]
        assert {"Team chat 🚀", "127.0.0.1"} <= set(buttons_of(listing))

        chooser = await alice.say("/new", expect="Which account")
        assert chooser is not None and {"Team chat 🚀", "127.0.0.1"} <= set(buttons_of(chooser))
        targets = await alice.press("All accounts", expect="Where should it go?")
        assert targets is not None and {"▫️ Team chat 🚀", "▫️ 127.0.0.1"} <= set(buttons_of(targets))
        await alice.say("/cancel", expect="Cancelled")

        # The report of a post to the named webhook says which one it was.
        team.respond_next(400, "unknown channel")
        post_id = await schedule_to(store, accounts["Team chat 🚀"].targets)
        report = await alice.expect(f"#{post_id[:6]}", timeout=20)
        assert "Team chat 🚀: the webhook refused the post (400)" in report["text"]
        assert [r.path for r in team.requests if r.json and r.json.get("post_id") == post_id] == ["/hook/team"]
        assert not [r for r in alerts.requests if r.json and r.json.get("post_id") == post_id]


async def schedule_to(store: Store, targets: list[Any], delay: float = 1.0) -> str:
    """A text post of Alice's to these targets, due in `delay` seconds (an hour: not by itself)."""
    post = new_post(
        user_id=ALICE,
        account=telegram_account(ALICE),
        targets=targets,
        main_caption="Stand-up at ten",
        scheduled_time=utc_now() + timedelta(seconds=delay),
    )
    await store.create_post(post)
    return post.post_id


async def test_any_account_is_renamed_from_its_screen_and_bad_names_lose_nothing(
    api: FakeBotAPI, graph: FakeGraphAPI, database_url: str, encryption_key: str
) -> None:
    alice, bob = Person(api, ALICE), Person(api, BOB)
    async with (
        WebhookReceiver(SECRET) as receiver,
        bot_running(settings_with_graph(api, graph, database_url, encryption_key)) as store,
    ):
        await add_webhook(alice, receiver.url, SECRET)
        await start_adding(alice, "Facebook Page", expect="Paste a")
        await alice.say(USER_TOKEN, expect="Facebook connected")
        hook, facebook = sorted(await store.list_accounts(ALICE), key=lambda a: a.platform.value, reverse=True)
        assert (hook.platform, facebook.platform) == (Platform.WEBHOOK, Platform.FACEBOOK_PAGE)

        await alice.say("/accounts", expect="Your accounts")
        screen = await alice.press("127.0.0.1", expect="Webhook")
        assert screen is not None and "✏️ Rename" in buttons_of(screen)
        asked = await alice.press("Rename", expect="What should 127.0.0.1 be called?")
        assert asked is not None and buttons_of(asked) == ["✖️ Cancel"]

        too_long = await alice.say("x" * 500, expect="That name is 500 characters long; the limit is 64")
        empty = await alice.say("   ", expect="at least one visible character")
        invisible = await alice.say("\u200b\u200d", expect="at least one visible character")
        assert too_long and empty and invisible and buttons_of(too_long) == ["✖️ Cancel"]
        api.send_photo(ALICE, jpeg_bytes(32, 32, b"not a name"))
        await alice.expect("Please answer the question above")
        assert [a.name for a in await store.list_accounts(ALICE)] == ["127.0.0.1", facebook.name]

        done = await alice.say("<b>Ops</b> & co 🚀", expect="is now called")
        assert done is not None and done["text"].startswith("✏️ 127.0.0.1 is now called <b>Ops</b> & co 🚀.")
        assert "those already scheduled keep the old one" in done["text"]
        assert "✏️ Rename" in buttons_of(done)
        renamed = await store.get_account(ALICE, hook.account_id)
        assert renamed is not None and renamed.name == "<b>Ops</b> & co 🚀"
        assert [(t.target_id, t.name, t.address) for t in renamed.targets] == [
            (hook.targets[0].target_id, "<b>Ops</b> & co 🚀", "127.0.0.1")
        ]
        assert json.loads(await store.account_credential(hook.account_id) or "{}")["secret"] == SECRET
        listing = await alice.say("/accounts", expect="Your accounts")
        assert listing is not None and "• <b>Ops</b> & co 🚀 — Webhook" in listing["text"]

        # A Facebook account's Pages keep their own names.
        await alice.press("Facebook: Bakery Page +1", expect="Bakery Page")
        await alice.press("Rename", expect="What should Facebook: Bakery Page +1 be called?")
        done = await alice.say("Shop pages", expect="is now called Shop pages")
        assert done is not None and "already scheduled" not in done["text"]
        pages = await store.get_account(ALICE, facebook.account_id)
        assert pages is not None and pages.name == "Shop pages"
        assert [t.name for t in pages.targets] == ["Bakery Page", "Cafe Page"]

        # The bot's own account keeps its name: no button, and a forged one is told why.
        await alice.say("/accounts", expect="Your accounts")
        telegram = await alice.press("Telegram (this bot)", expect="Telegram")
        assert telegram is not None and "✏️ Rename" not in buttons_of(telegram)
        assert "keeps its name" in await alert_for(alice, telegram, "acc:rename:telegram")

        # Bob forges Alice's account into a Rename: nothing is asked, nothing changes.
        await bob.say("/accounts", expect="Your accounts")
        assert "can't find that" in await alert_for(bob, bob.last(), f"acc:rename:{hook.account_id}")
        await bob.say("Bob's now", expect="I'm not waiting for anything")
        assert [a.name for a in await store.list_accounts(ALICE)] == ["<b>Ops</b> & co 🚀", "Shop pages"]


async def test_renaming_an_account_removed_meanwhile_says_so(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    alice = Person(api, ALICE)
    async with (
        WebhookReceiver(SECRET) as receiver,
        bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store,
    ):
        await add_webhook(alice, receiver.url, SECRET, name="Old hook")
        [hook] = await store.list_accounts(ALICE)
        await alice.say("/accounts", expect="Your accounts")
        await alice.press("Old hook", expect="Webhook")
        await alice.press("Rename", expect="What should Old hook be called?")
        assert await store.remove_account(ALICE, hook.account_id) == 0

        await alice.say("New hook", expect="That account no longer exists")
        assert await store.list_accounts(ALICE) == []
        await alice.say("Anything", expect="I'm not waiting for anything")


async def test_a_report_names_a_renamed_webhook_as_it_was_named_when_the_post_was_scheduled(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    alice = Person(api, ALICE)
    async with (
        WebhookReceiver(SECRET) as receiver,
        bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store,
    ):
        await add_webhook(alice, receiver.url, SECRET)
        [hook] = await store.list_accounts(ALICE)
        before = await schedule_to(store, hook.targets, delay=3600)

        await alice.say("/accounts", expect="Your accounts")
        await alice.press("127.0.0.1", expect="Webhook")
        await alice.press("Rename", expect="What should 127.0.0.1 be called?")
        await alice.say("Team chat", expect="is now called Team chat")
        [renamed] = await store.list_accounts(ALICE)
        after = await schedule_to(store, renamed.targets, delay=1)

        receiver.respond_next(400, "unknown channel", times=2)
        late = await alice.expect(f"#{after[:6]}", timeout=20)
        assert "Team chat: the webhook refused the post (400)" in late["text"]
        assert await store.reschedule_post(ALICE, before, utc_now() + timedelta(seconds=1)) is not None
        early = await alice.expect(f"#{before[:6]}", timeout=20)
        assert "127.0.0.1: the webhook refused the post (400)" in early["text"]
        assert "Team chat" not in early["text"]


# -- 3. a failed test delivery: Save anyway, or Try another URL -------------------------------------


async def test_a_failed_test_delivery_offers_another_url_and_keeps_everything_sealed(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str, tmp_path: Path
) -> None:
    alice = Person(api, ALICE)
    mistyped_token, good_token = "hooktoken-mistyped-" + "5e1f" * 6, "hooktoken-good-" + "9a2b" * 6
    async with (
        WebhookReceiver(SECRET, path=f"/hook/{good_token}") as receiver,
        bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store,
    ):
        mistyped = receiver.url.replace(good_token, mistyped_token)
        await start_adding(alice, "Webhook", expect="Send the webhook's")
        await alice.say(mistyped, expect="signing secret")
        failed = await alice.say(SECRET, expect="The signed test delivery to 127.0.0.1 failed")
        assert failed is not None and "404" in failed["text"]
        assert buttons_of(failed) == ["💾 Save anyway", "🔁 Try another URL", "✖️ Cancel"]
        assert await store.list_accounts(ALICE) == []
        # Between the questions the address and the secret wait in the saved form, encrypted.
        on_disk = await eventually(lambda: b"target_id" in disk(tmp_path) and disk(tmp_path))
        assert mistyped_token.encode() not in on_disk and SECRET.encode() not in on_disk
        assert deleted(api, mistyped_token) and deleted(api, SECRET)

        await alice.press("Try another URL", expect="Send the webhook's")
        asked = await alice.say(receiver.url, expect="Use the same secret")
        assert asked is not None and buttons_of(asked) == ["♻️ Use the same secret", "✖️ Cancel"]
        assert deleted(api, good_token)
        # The old test's buttons belong to an answered question now.
        assert "earlier step" in await alert_for(alice, failed, button_data(failed, "Save anyway"))
        await alice.press("Use the same secret", expect="a signed test delivery was accepted")
        await alice.say("Shop alerts", expect="Webhook Shop alerts saved")

        [hook] = await store.list_accounts(ALICE)
        credential = json.loads(await store.account_credential(hook.account_id) or "{}")
        assert credential == {"url": receiver.url, "secret": SECRET}
        pings = [r for r in receiver.requests if r.json and r.json.get("type") == "ping"]
        assert [(r.path, r.verified) for r in pings] == [
            (f"/hook/{mistyped_token}", True),
            (f"/hook/{good_token}", True),
        ]
        assert "already closed" in await alert_for(alice, failed, button_data(failed, "Save anyway"))
        assert [a.account_id for a in await store.list_accounts(ALICE)] == [hook.account_id]
        on_disk = disk(tmp_path)
        assert good_token.encode() not in on_disk and SECRET.encode() not in on_disk


async def test_a_webhook_whose_test_failed_is_saved_anyway_or_replaced_by_a_url_sent_at_once(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    alice = Person(api, ALICE)
    async with (
        WebhookReceiver(SECRET, path="/hook/first") as first,
        WebhookReceiver(OTHER_SECRET, path="/hook/second") as second,
        bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store,
    ):
        # Not ready yet: the receiver answers 503; the person keeps it all the same.
        first.respond_next(503, "starting up")
        await start_adding(alice, "Webhook", expect="Send the webhook's")
        await alice.say(first.url, expect="signing secret")
        await alice.say(SECRET, expect="failed: the webhook failed with 503")
        asked = await alice.press("Save anyway", expect="What should this webhook be called?")
        assert asked is not None and "test delivery was accepted" not in asked["text"]
        saved = await alice.press("Use 127.0.0.1", expect="Webhook 127.0.0.1 saved")
        assert saved is not None and "Its test delivery failed (the webhook failed with 503" in saved["text"]
        [kept] = await store.list_accounts(ALICE)
        assert json.loads(await store.account_credential(kept.account_id) or "{}")["url"] == first.url

        # A wrong secret: the receiver refuses the signature; another URL is simply sent.
        await start_adding(alice, "Webhook", expect="Send the webhook's")
        await alice.say(second.url, expect="signing secret")
        await alice.say(SECRET, expect="failed: the webhook refused the post (401)")
        await alice.say(second.url, expect="Use the same secret")
        await alice.say(OTHER_SECRET, expect="a signed test delivery was accepted")
        await alice.say("Second hook", expect="Webhook Second hook saved")
        accounts = await store.list_accounts(ALICE)
        assert sorted(a.name for a in accounts) == ["127.0.0.1", "Second hook"]
        [added] = [a for a in accounts if a.name == "Second hook"]
        assert json.loads(await store.account_credential(added.account_id) or "{}") == {
            "url": second.url,
            "secret": OTHER_SECRET,
        }


# -- 4. Cancel on every question; stale buttons --------------------------------------------------


async def test_every_accounts_question_has_a_cancel_button_that_keeps_nothing(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    alice = Person(api, ALICE)
    async with (
        WebhookReceiver(SECRET) as receiver,
        bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)) as store,
    ):
        token_question = await start_adding(alice, "Facebook Page", expect="Paste a")
        left = await alice.press("Cancel", expect="Cancelled — nothing was saved")
        assert left is not None and left["message_id"] == token_question["message_id"]

        await start_adding(alice, "Webhook", expect="Send the webhook's")
        await alice.press("Cancel", expect="Cancelled — nothing was saved")

        await start_adding(alice, "Webhook", expect="Send the webhook's")
        secret_question = await alice.say(receiver.url, expect="signing secret")
        assert secret_question is not None and buttons_of(secret_question) == ["✖️ Cancel"]
        await alice.press("Cancel", expect="Cancelled — nothing was saved")

        await start_adding(alice, "Webhook", expect="Send the webhook's")
        await alice.say(receiver.url, expect="signing secret")
        name_question = await alice.say(SECRET, expect="What should this webhook be called?")
        assert name_question is not None
        await alice.press_data(
            name_question["message_id"], button_data(name_question, "Cancel"), expect="Cancelled — nothing was saved"
        )
        assert await store.list_accounts(ALICE) == []
        assert [r.json["type"] for r in receiver.requests] == ["ping"]  # tested, then not kept

        groups = await start_adding(alice, "Facebook groups", expect="no app can publish")
        assert "✖️ Cancel" in buttons_of(groups)
        await alice.press("Cancel", expect="Cancelled — nothing was saved")

        # Stale: the Cancel of a question left earlier, pressed while another is open.
        open_question = await start_adding(alice, "Webhook", expect="Send the webhook's")
        assert "earlier step" in await alert_for(alice, secret_question, button_data(secret_question, "Cancel"))
        await alice.say(receiver.url, expect="signing secret")  # the open question carries on
        assert "earlier step" in await alert_for(alice, name_question, button_data(name_question, "Use 127.0.0.1"))
        await alice.press_data(
            open_question["message_id"], button_data(open_question, "Cancel"), expect="Cancelled — nothing was saved"
        )

        # Stale, with nothing open: the press is answered, nothing changes.
        assert "already closed" in await alert_for(alice, secret_question, button_data(secret_question, "Cancel"))
        assert "already closed" in await alert_for(alice, name_question, button_data(name_question, "Use 127.0.0.1"))
        assert "already closed" in await alert_for(alice, name_question, "acc:save_anyway:0123456789ab")
        assert await store.list_accounts(ALICE) == []

        # /cancel still leaves, and the rename question's Cancel keeps the name.
        await start_adding(alice, "Facebook Page", expect="Paste a")
        await alice.say("/cancel", expect="Cancelled — nothing was saved")
        await add_webhook(alice, receiver.url, SECRET, name="Keeper")
        await alice.say("/accounts", expect="Your accounts")
        await alice.press("Keeper", expect="Webhook")
        await alice.press("Rename", expect="What should Keeper be called?")
        await alice.press("Cancel", expect="Kept — the name is unchanged")
        assert [a.name for a in await store.list_accounts(ALICE)] == ["Keeper"]


async def test_a_question_left_for_another_screen_does_not_take_the_next_text_as_a_token(
    api: FakeBotAPI, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    alice = Person(api, ALICE)
    async with bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)):
        await alice.say("/start", expect="What would you like to do?")
        await start_adding(alice, "Facebook Page", expect="Paste a")
        # Alice moves on without answering: she taps New post in the menu she got earlier.
        await alice.press("New post", expect="I'm not an administrator")
        # New post answers it (its own hint), and the text stays in the chat.
        await alice.say("hello from Alice", expect="pick the targets")
        assert not deleted(api, "hello from Alice")  # not taken for a token
        assert all("can't be used" not in str(m.get("text")) for m in alice.bot_messages())
