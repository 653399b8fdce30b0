"""Connecting a Facebook account with a pasted token: what each token Facebook won't take comes
to (`token_refusal`), over the fake Graph API answering as Facebook does — and what an existing
account's refresh says instead (it needs reconnecting)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from publishers.facebook import FacebookPagePublisher, GraphError, token_refusal
from publishers.http import Fate, Unreachable
from storage.models import Account, Platform
from storage.sqlite import SQLiteStore
from tests.fakes.graph_api import FakeGraphAPI

USER_ID = 4242
USER_TOKEN = "EAAuser-token-of-the-unit-tests"
PAGES = [("5001", "Bakery", "EAApage-5001"), ("5002", "Cafe", "EAApage-5002")]


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as server:
        yield server


@pytest.fixture
async def facebook(sqlite_store: SQLiteStore, graph: FakeGraphAPI) -> AsyncIterator[FacebookPagePublisher]:
    publisher = FacebookPagePublisher(sqlite_store, graph.url, timeout=2.0)
    try:
        yield publisher
    finally:
        publisher.close()


@pytest.mark.parametrize(
    ("subcode", "reason"),
    [
        (None, "it is not a valid access token: Facebook does not recognise it"),
        (458, "the app was removed from that Facebook account"),
        (460, "the Facebook password was changed after it was made"),
        (463, "it is no longer valid: it has expired"),
        (467, "its Facebook session was logged out"),
    ],
)
async def test_a_token_facebook_refuses_is_not_valid_and_says_why(
    graph: FakeGraphAPI, facebook: FacebookPagePublisher, subcode: int | None, reason: str
) -> None:
    if subcode is not None:
        graph.add_user_token(USER_TOKEN, PAGES)
        graph.revoke(USER_TOKEN, subcode=subcode)
    token = USER_TOKEN if subcode is not None else "EAAmistyped"

    found = await facebook.connect(USER_ID, [token])

    assert (found.targets, found.credential) == ([], "")
    assert found.refused is not None and "valid" in found.refused and reason in found.refused, found.refused
    assert "reconnect" not in found.refused and token not in found.refused


async def test_an_app_token_is_the_wrong_kind(graph: FakeGraphAPI, facebook: FacebookPagePublisher) -> None:
    graph.add_app_token("1234567890|app-secret")

    found = await facebook.connect(USER_ID, ["1234567890|app-secret"])

    assert found.refused is not None and "the wrong kind of token: an app token" in found.refused
    assert "app-secret" not in found.refused
    # Facebook answered the token's first question with code 2500, as it does for an app token.
    assert [call["path"] for call in graph.calls] == ["/me/accounts"]


async def test_a_user_token_without_the_posting_permissions_is_refused_by_name(
    graph: FakeGraphAPI, facebook: FacebookPagePublisher
) -> None:
    graph.add_user_token(USER_TOKEN, PAGES, granted=("public_profile", "pages_show_list", "pages_read_engagement"))

    found = await facebook.connect(USER_ID, [USER_TOKEN])

    assert found.refused == "it lacks the pages_manage_posts permission: make a new token with it granted"
    assert [call["path"] for call in graph.calls] == ["/me/accounts", "/me/permissions"]


async def test_a_user_token_that_may_not_list_pages_is_refused_for_that(
    graph: FakeGraphAPI, facebook: FacebookPagePublisher
) -> None:
    graph.add_user_token(USER_TOKEN, PAGES, granted=("public_profile", "pages_manage_posts", "pages_read_engagement"))

    found = await facebook.connect(USER_ID, [USER_TOKEN])

    assert found.refused is not None and "lacks the pages_show_list permission" in found.refused


async def test_a_user_token_with_every_grant_but_no_page_is_no_refusal(
    graph: FakeGraphAPI, facebook: FacebookPagePublisher
) -> None:
    graph.add_user_token(USER_TOKEN, [])

    found = await facebook.connect(USER_ID, [USER_TOKEN])

    assert (found.targets, found.refused) == ([], None)


async def test_a_page_token_is_not_asked_for_grants(graph: FakeGraphAPI, facebook: FacebookPagePublisher) -> None:
    graph.add_page_token("5001", "Bakery", "EAApage-5001")

    found = await facebook.connect(USER_ID, ["EAApage-5001"])

    assert found.refused is None and [t.address for t in found.targets] == ["5001"]
    assert "/me/permissions" not in [call["path"] for call in graph.calls]


async def test_the_fake_refuses_a_page_tokens_permissions_and_its_posts_without_grants(
    graph: FakeGraphAPI, facebook: FacebookPagePublisher
) -> None:
    graph.add_user_token(USER_TOKEN, PAGES, granted=("public_profile", "pages_show_list"))

    with pytest.raises(GraphError) as no_edge:
        await facebook.call("GET", "me/permissions", "EAApage-5001")
    with pytest.raises(GraphError) as no_grant:
        await facebook.call("POST", "5001/feed", "EAApage-5001", data={"message": "hi"})

    assert no_edge.value.code == 100 and "node type (Page)" in no_edge.value.message
    assert (no_grant.value.code, no_grant.value.http_status) == (200, 403)
    assert graph.feed("5001") == []


async def test_a_throttled_or_lost_check_asks_to_send_the_token_again(
    graph: FakeGraphAPI, facebook: FacebookPagePublisher
) -> None:
    graph.add_user_token(USER_TOKEN, PAGES)
    graph.fail_next("/me/permissions", 17, "User request limit reached")

    throttled = await facebook.connect(USER_ID, [USER_TOKEN])

    assert throttled.refused is not None and throttled.refused.startswith("Facebook asked to slow down")
    assert throttled.refused.endswith("send it again in a moment")
    lost = token_refusal(Unreachable("the connection was refused or the host could not be found", Fate.NOT_SENT))
    assert lost.startswith("could not reach Facebook") and lost.endswith("send it again in a moment")


async def test_refreshing_an_account_whose_token_was_revoked_says_to_reconnect_it(
    graph: FakeGraphAPI, facebook: FacebookPagePublisher
) -> None:
    graph.add_user_token(USER_TOKEN, PAGES)
    graph.revoke(USER_TOKEN, subcode=463)
    account = Account("acc1", USER_ID, Platform.FACEBOOK_PAGE, "Facebook: Bakery +1")

    found = await facebook.refresh(account, USER_TOKEN)

    assert found.refused is not None and "reconnect the account" in found.refused and "expired" in found.refused
