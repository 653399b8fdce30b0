"""A Page post edited and deleted by the Facebook publisher over real HTTP against the fake Graph API,
which serves POST /{post-id} and DELETE /{post-id} and refuses what Facebook refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from publishers.facebook import FacebookPagePublisher
from publishers.revision import Edit, FacebookPageReviser
from storage.models import Button, Content, Delivery, DeliveryStatus, Platform, Post, Target
from storage.sqlite import SQLiteStore
from tests.contract.helpers import schedule
from tests.fakes.graph_api import FakeGraphAPI

USER_ID = 4242
PAGE_ID = "1001"
PAGE_TOKEN = "EAAPAGE-shop-revise-5b1f0c"
OTHER_TOKEN = "EAAPAGE-other-revise-77aa"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as fake:
        fake.add_page_token(PAGE_ID, "Shop", PAGE_TOKEN)
        fake.add_page_token("2002", "Other", OTHER_TOKEN)
        yield fake


@pytest.fixture
def facebook(sqlite_store: SQLiteStore, graph: FakeGraphAPI) -> Iterator[FacebookPagePublisher]:
    made = FacebookPagePublisher(sqlite_store, graph.url, timeout=2.0)
    yield made
    made.close()


async def published(store: SQLiteStore, facebook: FacebookPagePublisher, token: str = PAGE_TOKEN) -> Post:
    """A text post published to the Shop Page with `token` as its account's credential."""
    target = Target(target_id=f"fb-{PAGE_ID}", name="Shop", address=PAGE_ID, platform=Platform.FACEBOOK_PAGE)
    account = await store.add_account(USER_ID, Platform.FACEBOOK_PAGE, "Shop owner", token, [target])
    post = await schedule(store, USER_ID, account, caption="Open at 9", target_count=1)
    outcome = await facebook.publish(post, post.targets[0])
    assert outcome.status is DeliveryStatus.SENT and outcome.message_id
    post.deliveries[target.target_id] = Delivery(
        target.target_id, DeliveryStatus.SENT, message_id=outcome.message_id, message_ids=outcome.message_ids
    )
    return post


async def test_a_page_post_text_is_edited_in_place(
    sqlite_store: SQLiteStore, facebook: FacebookPagePublisher, graph: FakeGraphAPI
) -> None:
    post = await published(sqlite_store, facebook)
    target, delivery = post.targets[0], post.deliveries[post.targets[0].target_id]
    new = replace(post.content, caption="Open at 10", buttons=[[Button("Menu", url="https://shop.example/menu")]])
    reviser = FacebookPageReviser(facebook)
    assert reviser.edit_refusal(Edit(post.content, new), target, delivery) is None
    outcome = await reviser.edit(post, target, delivery, Edit(post.content, new))
    assert outcome.status is DeliveryStatus.SENT, outcome.error_message
    assert [entry["message"] for entry in graph.feed(PAGE_ID)] == ["Open at 10\n\nMenu: https://shop.example/menu"]
    edit_call = graph.calls[-1]
    assert (edit_call["method"], edit_call["path"]) == ("POST", f"/{delivery.message_id}")
    # Only formatting changed: Facebook would show the same, so it is not asked.
    bold = replace(new, caption_entities=[{"type": "bold", "offset": 0, "length": 4}])
    assert reviser.edit_refusal(Edit(new, bold), target, delivery) == (
        "nothing changes on Facebook (it shows no formatting)"
    )


async def test_a_deleted_page_post_is_gone_and_a_second_delete_says_so(
    sqlite_store: SQLiteStore, facebook: FacebookPagePublisher, graph: FakeGraphAPI
) -> None:
    post = await published(sqlite_store, facebook)
    target, delivery = post.targets[0], post.deliveries[post.targets[0].target_id]
    reviser = FacebookPageReviser(facebook)
    assert (await reviser.delete(post, target, delivery)).status is DeliveryStatus.SENT
    assert graph.feed(PAGE_ID) == []
    again = await reviser.delete(post, target, delivery)
    assert again.status is DeliveryStatus.FAILED and again.error_message == "the post is no longer on the Page"
    edit = await reviser.edit(post, target, delivery, Edit(post.content, replace(post.content, caption="x")))
    assert edit.error_message == "the post is no longer on the Page"


async def test_another_pages_token_cannot_change_the_post(
    sqlite_store: SQLiteStore, facebook: FacebookPagePublisher, graph: FakeGraphAPI
) -> None:
    post = await published(sqlite_store, facebook)
    delivery = post.deliveries[post.targets[0].target_id]
    # The same post id asked with the other Page's token: Facebook answers with its permission error.
    other = Target(target_id="fb-2002", name="Other", address="2002", platform=Platform.FACEBOOK_PAGE)
    account = await sqlite_store.add_account(USER_ID, Platform.FACEBOOK_PAGE, "Other", OTHER_TOKEN, [other])
    stranger = replace(post, account_id=account.account_id, targets=[replace(other, account_id=account.account_id)])
    outcome = await facebook.delete_post(stranger, replace(other, account_id=account.account_id), delivery)
    assert outcome.status is DeliveryStatus.FAILED and outcome.error_code == "200"
    assert [entry["message"] for entry in graph.feed(PAGE_ID)] == ["Open at 9"]


def test_a_swapped_photo_or_a_video_post_is_refused_up_front() -> None:
    from storage.models import Image

    old = Content(caption="a", images=[Image("p.jpg", "blob-1")])
    new = Content(caption="a", images=[Image("q.jpg", "blob-2")])
    delivery = Delivery("fb", DeliveryStatus.SENT, message_id="1001_5")
    facebook = FacebookPagePublisher.__new__(FacebookPagePublisher)
    assert facebook.edit_refusal(old, new, delivery) == "Facebook can't swap a photo or video of a published post"
    video = Delivery("fb", DeliveryStatus.SENT, message_id="98765")
    changed = Content(caption="b", images=old.images)
    assert facebook.edit_refusal(old, changed, video) == "Facebook keeps no text Herald can change on a video post"
