"""What the admin composes is what the channel gets, end to end through the fake Bot API: formatting
typed in Telegram's editor (in an album, in a text post, across the 1,024 split), media of every
kind grouped as the Bot API allows, buttons under the post (on their own message after an album),
link preview and caption place — the preview showing it all first — and Facebook's honest
degraded form, named in the preview. Every test also proves the fake refused nothing the bot sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from publishers.formatting import utf16_len
from storage.models import Button, MediaKind, PostView
from tests.e2e.conftest import ALICE, Person, bot_running, bot_settings
from tests.e2e.steps import (
    add_chat,
    choose_every_target,
    choose_targets,
    connect_facebook,
    open_post,
    schedule_text_post,
    settings_with_graph,
)
from tests.fakes.bot_api import FakeBotAPI, jpeg_bytes
from tests.fakes.graph_api import FakeGraphAPI

SHOP = -1005000000001
PHOTOS = [jpeg_bytes(80 + n, 60, f"content {n}".encode()) for n in range(4)]
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"clip" * 64
EMOJI = "🎉"  # two UTF-16 code units: every offset after it counts it as 2
CAPTION = f"Big {EMOJI} sale: half price, see our shop, secret code inside"
# Bold, italic, a link and a spoiler, as Telegram's editor gives them (offsets in UTF-16 units).
FORMATTING = [
    {"type": "bold", "offset": 0, "length": 3},
    {"type": "italic", "offset": 13, "length": 10},
    {"type": "text_link", "offset": 29, "length": 8, "url": "https://shop.example/sale"},
    {"type": "spoiler", "offset": 39, "length": 11},
]
USER_TOKEN = "fb-user-token-for-content-tests"
PAGE = ("3333", "Bakery Page", "fb-page-token-3333")


@pytest.fixture
def alice(api: FakeBotAPI) -> Person:
    """Alice, who administers the channel Shop news, where the bot posts."""
    add_chat(api, SHOP, "Shop news")
    return Person(api, ALICE)


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as server:
        server.add_user_token(USER_TOKEN, [PAGE])
        yield server


def spans(entities: list[dict[str, Any]] | None) -> list[tuple[Any, ...]]:
    """(type, offset, length, url) of each entity."""
    return [(e["type"], e["offset"], e["length"], e.get("url")) for e in entities or []]


def of_bot(api: FakeBotAPI, chat_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    return [m for m in api.bot_messages(chat_id) if kind is None or m["kind"] == kind]


async def type_formatted(alice: Person, text: str, entities: list[dict[str, Any]], expect: str) -> dict[str, Any]:
    """Alice sends a text formatted in Telegram's editor; the bot's answer containing `expect`."""
    before = alice.snapshot()
    alice.api.send_text(alice.user_id, text, entities)
    return await alice.expect(expect, since=before)


async def post_now(alice: Person, api: FakeBotAPI, chat_id: int, messages: int) -> list[dict[str, Any]]:
    """From the time question: Post now, Schedule; waits until `messages` bot messages are in the chat."""
    await alice.press("Post now", expect="step 5 of 5")
    await alice.press("Schedule", expect="Scheduled #")
    await api.wait_for(lambda: len(of_bot(api, chat_id)) >= messages, timeout=15, what="the post in the channel")
    await alice.expect("Published #", timeout=15)
    return of_bot(api, chat_id)


async def test_formatting_arrives_as_typed_in_an_album_and_in_a_text_post(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, database_url, encryption_key)) as store:
        await choose_targets(alice, "Shop news")
        await alice.send_photos(PHOTOS[:2])
        await alice.expect("2 photos in")
        await type_formatted(alice, CAPTION, FORMATTING, expect="step 4 of 5")
        album = await post_now(alice, api, SHOP, 2)
        assert [m["kind"] for m in album] == ["photo", "photo"] and album[0]["caption"] == CAPTION
        assert spans(album[0]["caption_entities"]) == spans(FORMATTING)
        # The preview in Alice's chat showed the same.
        preview = [m for m in of_bot(api, ALICE, "photo") if m["caption"] == CAPTION]
        assert spans(preview[0]["caption_entities"]) == spans(FORMATTING)
        stored = (await store.list_posts(ALICE, PostView.HISTORY)).posts[0]
        assert (stored.main_caption, stored.caption_entities) == (CAPTION, FORMATTING)

        await choose_targets(alice, "Shop news")
        await alice.press("No images", expect="Send its text")
        await type_formatted(alice, CAPTION, FORMATTING, expect="step 4 of 5")
        texts = [m for m in await post_now(alice, api, SHOP, 3) if m["kind"] == "text"]
        assert [m["text"] for m in texts] == [CAPTION] and spans(texts[0]["entities"]) == spans(FORMATTING)
    assert api.refusals == []


async def test_a_caption_too_long_for_the_album_follows_it_with_every_span_in_place(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    long = CAPTION + " " + "more words to read " * 60 + "the end"  # about 1,200 units
    formatting = [
        *FORMATTING,
        {"type": "underline", "offset": 1015, "length": 20},  # across the 1,024 of a caption
        {"type": "text_link", "offset": utf16_len(long) - 7, "length": 7, "url": "https://shop.example/end"},
    ]
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)):
        await choose_targets(alice, "Shop news")
        await alice.send_photos(PHOTOS[:2], ["left", "right"])
        await alice.expect("2 photos in")
        await type_formatted(alice, long, formatting, expect="more than the 1,024")
        await alice.expect("step 4 of 5")
        sent = await post_now(alice, api, SHOP, 3)
        assert [m["kind"] for m in sent] == ["photo", "photo", "text"]
        assert [m["caption"] for m in sent[:2]] == ["left", "right"]
        assert sent[2]["text"] == long and spans(sent[2]["entities"]) == spans(formatting)
    assert api.refusals == []


async def test_every_kind_of_media_goes_out_as_the_right_method_with_its_buttons(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await choose_targets(alice, "Shop news")
        api.send_mixed_album(ALICE, [("photo", PHOTOS[0], "Front"), ("video", MP4, "Tour")])
        await alice.expect("1 photo and 1 video in")
        api.send_media(ALICE, "animation", MP4 + b"gif", "dance.mp4", "Dance", has_spoiler=True)
        api.send_document(ALICE, b"%PDF-1.4 menu", "menu.pdf", "Menu")
        api.send_document(ALICE, b"%PDF-1.4 prices", "prices.pdf")
        api.send_media(ALICE, "audio", b"ID3 jingle", "jingle.mp3")
        await alice.expect("1 photo, 1 video, 1 GIF, 2 files and 1 audio file in")
        await alice.say("All of it", expect="step 4 of 5")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Add buttons", expect="one row per line")
        await alice.say("Order - https://shop.example/order | Code - copy: SPRING10", expect="step 5 of 5")
        sent_before = {call.method for call in api.calls}
        await alice.press("Schedule", expect="Scheduled #")
        await api.wait_for(lambda: len(of_bot(api, SHOP)) >= 6, timeout=15, what="six messages in the channel")
        sent = of_bot(api, SHOP)
        assert [m["kind"] for m in sent] == ["photo", "video", "animation", "document", "document", "audio"]
        assert [m["caption"] for m in sent] == ["All of it\n\nFront", "Tour", "Dance", "Menu", None, None]
        assert sent[0]["media_group_id"] == sent[1]["media_group_id"] is not None
        assert sent[3]["media_group_id"] == sent[4]["media_group_id"] is not None
        assert sent[2]["has_media_spoiler"] and sent[2]["media_group_id"] is None
        # The buttons under the last message, an audio file on its own.
        assert sent[5]["reply_markup"] == {
            "inline_keyboard": [
                [
                    {"text": "Order", "url": "https://shop.example/order"},
                    {"text": "Code", "copy_text": {"text": "SPRING10"}},
                ]
            ]
        }
        to_shop = [c for c in api.calls if c.params.get("chat_id") == SHOP and c.method.startswith("send")]
        assert [call.method for call in to_shop] == ["sendMediaGroup", "sendAnimation", "sendMediaGroup", "sendAudio"]
        # Documents only with documents; and what Alice sent goes by its file_id, never uploaded again.
        assert [
            [item["type"] for item in call.params["media"]] for call in to_shop if call.method == "sendMediaGroup"
        ] == [
            ["photo", "video"],
            ["document", "document"],
        ]
        assert not any("upload" in repr(call.params) for call in to_shop)
        assert "sendMediaGroup" in sent_before  # the preview sent the same albums to Alice
        await alice.expect("Published #", timeout=15)
        post = (await store.list_posts(ALICE, PostView.HISTORY)).posts[0]
        assert [image.kind for image in post.images] == [
            MediaKind.PHOTO,
            MediaKind.VIDEO,
            MediaKind.ANIMATION,
            MediaKind.DOCUMENT,
            MediaKind.DOCUMENT,
            MediaKind.AUDIO,
        ]
        assert post.buttons == [
            [Button("Order", url="https://shop.example/order"), Button("Code", copy_text="SPRING10")]
        ]
        assert [await store.load_image(image.blob_id) for image in post.images][1] == MP4
    assert api.refusals == []


async def test_buttons_under_an_album_go_on_a_message_of_their_own_and_bad_ones_are_explained(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)):
        await choose_targets(alice, "Shop news")
        await alice.send_photos(PHOTOS[:2])
        await alice.expect("2 photos in")
        await alice.say("Spring menu", expect="step 4 of 5")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Add buttons", expect="one row per line")
        refused = await alice.say("Order\nMenu - ftp://shop.example", expect="can't go out as they are")
        assert refused is not None and "line 1" in refused["text"] and "line 2" in refused["text"]
        summary = await alice.say("Order - https://shop.example/order", expect="step 5 of 5")
        assert summary is not None and "1 button — on a short message after the album" in summary["text"]
        assert "Buttons (1)" in repr(summary["reply_markup"])
        # The preview shows the buttons as the channel will get them: on their own message.
        shown = [m for m in of_bot(api, ALICE, "text") if m["text"] == "👆"]
        assert shown and shown[-1]["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://shop.example/order"
        await alice.press("Caption above the media", expect="Caption above the media")
        await alice.press("Schedule", expect="Scheduled #")
        await api.wait_for(lambda: len(of_bot(api, SHOP)) >= 3, timeout=15, what="album and buttons")
        album, (follow_up,) = of_bot(api, SHOP)[:2], of_bot(api, SHOP)[2:]
        assert [m["kind"] for m in album] == ["photo", "photo"] and not any(m["reply_markup"] for m in album)
        assert album[0]["show_caption_above_media"] and album[0]["caption"] == "Spring menu"
        assert follow_up["text"] == "👆" and follow_up["reply_markup"] == {
            "inline_keyboard": [[{"text": "Order", "url": "https://shop.example/order"}]]
        }
        assert not any("reply_markup" in call.params for call in api.calls_of("sendMediaGroup"))
    assert api.refusals == []


async def test_the_link_preview_goes_out_as_chosen(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await choose_targets(alice, "Shop news")
        await alice.press("No images", expect="Send its text")
        await alice.say("Our new menu: https://shop.example/menu", expect="step 4 of 5")
        summary = await alice.press("Post now", expect="step 5 of 5")
        assert summary is not None and "Link preview: shown" in summary["text"]
        await alice.press("Preview: shown", expect="How should the preview")
        await alice.press("Above the text, large picture", expect="step 5 of 5")
        preview = [m for m in of_bot(api, ALICE, "text") if m["text"].startswith("Our new menu")]
        assert preview[-1]["link_preview_options"] == {"show_above_text": True, "prefer_large_media": True}
        await alice.press("Preview: above, large", expect="How should the preview")
        await alice.press("Hidden", expect="Link preview: hidden")
        await alice.press("Schedule", expect="Scheduled #")
        await api.wait_for(lambda: of_bot(api, SHOP), timeout=15, what="the text post")
        [sent] = of_bot(api, SHOP)
        assert sent["link_preview_options"] == {"is_disabled": True}
        await alice.expect("Published #", timeout=15)
        post = (await store.list_posts(ALICE, PostView.HISTORY)).posts[0]
        assert not post.link_preview.show
    assert api.refusals == []


async def test_edit_caption_keeps_the_new_formatting(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await schedule_text_post(alice, "Plain start", "Shop news")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        await open_post(alice, post)
        await alice.press("Edit caption", expect="Send the new caption")
        await type_formatted(alice, CAPTION, FORMATTING, expect="is updated")
        edited = await store.get_post(ALICE, post.post_id)
        assert edited is not None and (edited.main_caption, edited.caption_entities) == (CAPTION, FORMATTING)


async def test_a_video_too_big_for_a_bot_is_explained_and_custom_emoji_get_a_word(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await choose_targets(alice, "Shop news")
        before = alice.snapshot()
        api.send_media(alice.user_id, "video", MP4, "huge.mp4", file_size=35 * 1024 * 1024)
        await alice.expect("This video (35.0 MB) is too big for a bot to download (over 20 MB)", since=before)
        emoji = [{"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}]
        await type_formatted(alice, f"{EMOJI} launch", emoji, expect="Custom emoji")
        await alice.expect("step 4 of 5")
        await alice.press("Tomorrow 09:00", expect="step 5 of 5")
        await alice.press("Schedule", expect="Scheduled #")
        post = (await store.list_posts(ALICE, PostView.UPCOMING)).posts[0]
        assert post.images == [] and post.caption_entities == emoji


async def test_facebook_gets_plain_text_and_the_preview_says_what_it_cannot_show(
    api: FakeBotAPI, alice: Person, graph: FakeGraphAPI, sqlite_url: str, encryption_key: str
) -> None:
    async with bot_running(settings_with_graph(api, graph, sqlite_url, encryption_key)):
        await connect_facebook(alice, USER_TOKEN, pages=1)
        await choose_every_target(alice, 2)
        await alice.press("No images", expect="Send its text")
        await type_formatted(alice, CAPTION, FORMATTING, expect="step 4 of 5")
        await alice.press("Post now", expect="step 5 of 5")
        await alice.press("Add buttons", expect="one row per line")
        summary = await alice.say("Order - https://shop.example/order", expect="step 5 of 5")
        assert (
            summary is not None and "⚠️ Facebook Pages: plain text, each link's address written out" in summary["text"]
        )
        assert "no buttons: they are written at the end of the text" in summary["text"]
        await alice.press("Schedule", expect="Scheduled #")
        await alice.expect("Published #", timeout=20)
        [feed] = graph.feed(PAGE[0])
        assert feed["message"] == (
            f"Big {EMOJI} sale: half price, see our shop (https://shop.example/sale), secret code inside"
            "\n\nOrder: https://shop.example/order"
        )
        [sent] = of_bot(api, SHOP)
        assert spans(sent["entities"]) == spans(FORMATTING) and sent["reply_markup"] is not None
    assert api.refusals == []
