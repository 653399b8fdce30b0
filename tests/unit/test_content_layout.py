"""How a post's content becomes Telegram messages: media grouped as the Bot API allows, the main
caption with its formatting on the first message or after the media, the buttons under the last
message or on one of their own after an album, link preview and caption place."""

from __future__ import annotations

import pytest

from publishers.telegram_layout import (
    BUTTONS_MESSAGE,
    CAPTION_LIMIT,
    link_preview_json,
    plan_content,
    reply_markup_json,
)
from storage.models import Button, Content, Image, LinkPreview, MediaKind

BOLD = {"type": "bold", "offset": 0, "length": 5}
LINK = {"type": "text_link", "offset": 6, "length": 4, "url": "https://shop.example"}
BUTTONS = [[Button("Order", url="https://shop.example/order")], [Button("Code", copy_text="SPRING10")]]


def item(kind: str, caption: str = "", entities: list[dict[str, object]] | None = None, spoiler: bool = False) -> Image:
    return Image(
        f"{kind}.bin",
        f"blob-{kind}-{caption}",
        caption,
        10,
        kind=MediaKind(kind),
        spoiler=spoiler,
        caption_entities=entities or [],
    )


@pytest.mark.parametrize(
    ("kinds", "messages"),
    [
        (["photo", "video", "photo"], [["photo", "video", "photo"]]),
        (["document", "document"], [["document", "document"]]),
        (["audio", "audio", "audio"], [["audio", "audio", "audio"]]),
        (["animation"], [["animation"]]),
        (["photo", "animation", "photo"], [["photo"], ["animation"], ["photo"]]),
        (["animation", "animation"], [["animation"], ["animation"]]),
        (["photo", "document", "document", "video"], [["photo"], ["document", "document"], ["video"]]),
        (["photo", "video", "audio", "document"], [["photo", "video"], ["audio"], ["document"]]),
    ],
)
def test_media_share_an_album_only_as_the_bot_api_allows_in_the_order_given(
    kinds: list[str], messages: list[list[str]]
) -> None:
    plan = plan_content(Content(images=[item(kind, str(n)) for n, kind in enumerate(kinds)]))
    assert [[media.image.kind.value for media in message.media] for message in plan] == messages
    assert [message.kind for message in plan] == ["album" if len(m) > 1 else m[0] for m in messages]


def test_more_than_ten_items_of_one_album_kind_go_in_several_albums() -> None:
    plan = plan_content(Content(images=[item("photo", str(n)) for n in range(12)]))
    assert [len(message.media) for message in plan] == [10, 2]


def test_the_main_captions_formatting_rides_on_the_first_item_before_its_own_caption() -> None:
    content = Content(
        caption="Grand sale",
        caption_entities=[BOLD, LINK],
        images=[item("photo", "Front door", [{"type": "italic", "offset": 0, "length": 5}]), item("video")],
    )
    [album] = plan_content(content)
    first = album.media[0].caption
    assert first.text == "Grand sale\n\nFront door"
    assert [(e["type"], e["offset"], e["length"]) for e in first.entities] == [
        ("bold", 0, 5),
        ("text_link", 6, 4),
        ("italic", 12, 5),
    ]
    assert album.media[1].caption.text == ""


def test_a_caption_too_long_for_media_follows_them_with_its_formatting_whole() -> None:
    long = "Sale " + "x" * 1100 + " end"
    entities = [BOLD, {"type": "spoiler", "offset": 1000, "length": 50}]
    plan = plan_content(Content(caption=long, caption_entities=entities, images=[item("photo"), item("photo", "b")]))
    assert [message.kind for message in plan] == ["album", "text"]
    assert plan[1].text == long and plan[1].body.entity_list() == entities
    assert plan[0].media[0].caption.text == ""


def test_an_items_own_caption_over_the_limit_is_cut_with_its_spans() -> None:
    plan = plan_content(Content(images=[item("video", "v" * 1100, [{"type": "bold", "offset": 1000, "length": 100}])]))
    caption = plan[0].media[0].caption
    assert caption.length == CAPTION_LIMIT and caption.entity_list() == [{"type": "bold", "offset": 1000, "length": 24}]


def test_buttons_go_under_the_last_message_or_on_their_own_after_an_album() -> None:
    single = plan_content(Content(caption="Hi", images=[item("photo")], buttons=BUTTONS))
    assert [message.kind for message in single] == ["photo"] and single[0].buttons == BUTTONS
    text = plan_content(Content(caption="Hi", buttons=BUTTONS))
    assert text[0].buttons == BUTTONS
    album = plan_content(Content(caption="Hi", images=[item("photo"), item("video")], buttons=BUTTONS))
    assert [message.kind for message in album] == ["album", "text"]
    assert album[0].buttons == [] and album[1].text == BUTTONS_MESSAGE and album[1].buttons == BUTTONS
    # An overflowing caption already follows the album: the buttons go under it, no extra message.
    overflow = plan_content(Content(caption="y" * 1500, images=[item("photo"), item("photo", "2")], buttons=BUTTONS))
    assert [message.kind for message in overflow] == ["album", "text"] and overflow[1].buttons == BUTTONS
    assert reply_markup_json(BUTTONS) == {
        "inline_keyboard": [
            [{"text": "Order", "url": "https://shop.example/order"}],
            [{"text": "Code", "copy_text": {"text": "SPRING10"}}],
        ]
    }
    assert reply_markup_json([]) is None


@pytest.mark.parametrize(
    ("preview", "sent"),
    [
        (LinkPreview(), None),
        (LinkPreview(show=False), {"is_disabled": True}),
        (LinkPreview(show=False, above_text=True), {"is_disabled": True}),
        (LinkPreview(above_text=True), {"show_above_text": True}),
        (LinkPreview(large_media=True), {"prefer_large_media": True}),
        (LinkPreview(above_text=True, large_media=True), {"show_above_text": True, "prefer_large_media": True}),
    ],
)
def test_link_preview_choices_become_the_bot_apis_options(preview: LinkPreview, sent: dict[str, bool] | None) -> None:
    assert link_preview_json(preview) == sent
    [message] = plan_content(Content(caption="https://shop.example", link_preview=preview))
    assert message.link_preview == preview


def test_the_caption_shows_above_only_on_messages_of_photos_videos_and_gifs() -> None:
    content = Content(
        caption="Look", images=[item("photo"), item("document", "d"), item("animation", "g")], caption_above=True
    )
    assert [(message.kind, message.caption_above) for message in plan_content(content)] == [
        ("photo", True),
        ("document", False),
        ("animation", True),
    ]


def test_spoilers_hide_only_photos_videos_and_gifs() -> None:
    plan = plan_content(Content(images=[item("photo", "p", spoiler=True), item("audio", "a", spoiler=True)]))
    assert [media.spoiler for message in plan for media in message.media] == [True, False]
