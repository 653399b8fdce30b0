"""The New post draft: what it keeps through JSON, what an earlier Herald saved, what it refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from handlers.draft import FORMAT, Draft, DraftUnreadable
from storage.models import Account, Button, Image, LinkPreview, MediaKind, Platform, Target

SHOP = Target("tg-1001", "Shop news", "-1001", "channel", "https://t.me/shop", "telegram")
TEAM = Target("tg-1002", "Team chat", "-1002", "supergroup", None, "telegram")
PAGE = Target("fb1111", "Bakery Page", "1111", "", "https://www.facebook.com/1111", "acc1", Platform.FACEBOOK_PAGE)
FRONT = Image("photo-1.jpg", "blob-1", "Front door", 2048, "image/jpeg", "file-1")
BACK = Image("photo-2.jpg", "blob-2", "", 1024)
KOLKATA = timezone(timedelta(hours=5, minutes=30))
ITALIC = {"type": "italic", "offset": 0, "length": 4}


def full_draft() -> Draft:
    return Draft(
        account_id="all",
        account_name="🌐 All accounts",
        platform=Platform.TELEGRAM,
        offered=[SHOP, TEAM, PAGE],
        selected=[PAGE.target_id, SHOP.target_id],
        page=1,
        images=[FRONT, BACK],
        caption="Grand opening <b>Saturday</b>",
        poster_name="Opening",
        saved_content=("Grand opening", ("blob-1",)),
        when=datetime(2026, 12, 1, 18, 30, tzinfo=KOLKATA),
        suggested_when=datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    )


def test_every_field_survives_json_as_the_database_keeps_it() -> None:
    draft = full_draft()
    saved = json.loads(json.dumps(draft.to_json()))
    assert saved["format"] == FORMAT
    assert Draft.from_json(saved) == draft


def test_an_empty_draft_survives_json_too() -> None:
    assert Draft.from_json(json.loads(json.dumps(Draft().to_json()))) == Draft()


def test_a_draft_the_previous_version_saved_reads_with_everything_chosen() -> None:
    # What Herald kept before the draft was typed: the same keys, plus `step` and `save_from`.
    old: dict[str, Any] = {
        "step": "save_poster",
        "save_from": "time",
        "account_id": "telegram",
        "account_name": "Telegram (this bot)",
        "platform": "telegram",
        "selected": ["tg-1002"],
        "page": 0,
        "targets": [
            {
                "target_id": "tg-1001",
                "name": "Shop news",
                "address": "-1001",
                "kind": "channel",
                "url": "https://t.me/shop",
                "account_id": "telegram",
            },
            # Written before targets carried their account: the defaults fill in.
            {"target_id": "tg-1002", "name": "Team chat", "address": "-1002"},
        ],
        "images": [
            {
                "name": "photo-1.jpg",
                "blob_id": "blob-1",
                "caption": "Front door",
                "size": 2048,
                "mime_type": "image/jpeg",
                "telegram_file_id": "file-1",
            }
        ],
        "caption": "Hello",
        "saved_content": ["Hello", ["blob-1"]],
        "suggested_when": "2026-03-29T01:30:00+00:00",
        "when": "2026-12-01T18:30:00+05:30",
    }
    draft = Draft.from_json(old)
    assert draft.platform is Platform.TELEGRAM
    assert draft.offered == [SHOP, Target("tg-1002", "Team chat", "-1002")]
    assert draft.chosen() == [Target("tg-1002", "Team chat", "-1002")]
    assert draft.images == [FRONT]
    assert (draft.caption, draft.saved_content) == ("Hello", ("Hello", ("blob-1",)))
    assert draft.when == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert draft.suggested_when == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_target_saved_before_targets_named_their_platform_gets_it_from_its_kind() -> None:
    saved = json.loads(json.dumps(full_draft().to_json()))
    for target in saved["targets"]:
        target.pop("platform")
    saved["targets"][2]["kind"] = "facebook_page"  # how the previous version told a Page
    offered = Draft.from_json(saved).offered
    assert [target.platform for target in offered] == [Platform.TELEGRAM, Platform.TELEGRAM, Platform.FACEBOOK_PAGE]
    assert offered == [SHOP, TEAM, PAGE]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"targets": "Shop news"}, "targets"),
        ({"targets": [["tg-1001", "Shop news"]]}, "Target is a dict"),
        ({"targets": [{"target_id": "tg-1001", "address": "-1001"}]}, "name"),
        ({"targets": [{"target_id": "tg-1001", "name": 7, "address": "-1001"}]}, "name"),
        ({"images": [{"name": "photo-1.jpg"}]}, "blob_id"),
        ({"images": [{"name": "photo-1.jpg", "blob_id": "b", "size": "big"}]}, "size"),
        ({"selected": 3}, "selected"),
        ({"selected": [1001]}, "text"),
        ({"page": "2"}, "page"),
        ({"page": True}, "page"),
        ({"caption": ["Hello"]}, "caption"),
        ({"platform": "myspace"}, "myspace"),
        ({"when": "tomorrow"}, "tomorrow"),
        ({"when": "2026-12-01T18:30:00"}, "no time zone"),
        ({"saved_content": ["Hello"]}, "unpack"),
        ({"saved_content": ["Hello", "blob-1"]}, "saved_content"),
        ({"format": FORMAT + 1}, "newer version"),
    ],
)
def test_a_draft_that_is_not_one_is_refused_with_the_reason(change: dict[str, Any], why: str) -> None:
    saved = {**full_draft().to_json(), **change}
    with pytest.raises(DraftUnreadable, match=why):
        Draft.from_json(saved)


@pytest.mark.parametrize("saved", [None, "draft", ["account"], 3])
def test_something_other_than_a_dict_is_refused(saved: object) -> None:
    with pytest.raises(DraftUnreadable):
        Draft.from_json(saved)


def test_picking_targets_keeps_the_accounts_order_and_forgets_what_is_no_longer_offered() -> None:
    draft = Draft()
    draft.choose_account(Account("all", 1, Platform.TELEGRAM, "🌐 All accounts"))
    draft.offer([SHOP, TEAM, PAGE])
    draft.toggle(PAGE.target_id)
    draft.toggle(SHOP.target_id)
    assert draft.chosen() == [SHOP, PAGE]
    draft.toggle(PAGE.target_id)
    assert draft.chosen() == [SHOP]
    draft.toggle_all()
    assert draft.chosen() == [SHOP, TEAM, PAGE]
    draft.toggle_all()
    assert draft.chosen() == []
    draft.toggle_all()
    draft.offer([TEAM])  # the bot lost Shop news, and the page was refreshed away
    assert (draft.selected, draft.chosen()) == ([TEAM.target_id], [TEAM])
    draft.choose_account(Account("telegram", 1, Platform.TELEGRAM, "Telegram (this bot)"))
    assert (draft.offered, draft.selected, draft.page) == ([], [], 0)


def test_only_a_draft_with_something_chosen_is_worth_asking_about() -> None:
    draft = Draft()
    draft.choose_account(Account("telegram", 1, Platform.TELEGRAM, "Telegram (this bot)"))
    draft.offer([SHOP])
    assert not draft.worth_keeping()
    draft.toggle(SHOP.target_id)
    assert draft.worth_keeping()
    text_only = Draft(caption="")
    assert text_only.worth_keeping()


def test_content_is_offered_for_saving_until_it_is_a_poster_as_it_stands() -> None:
    draft = Draft(images=[FRONT], caption="Hello")
    assert draft.worth_saving()
    draft.saved_as("Hello poster")
    assert not draft.worth_saving()
    draft.caption = "Hello again"
    assert draft.worth_saving()
    picked = Draft()
    picked.use_content("From a poster", [FRONT, BACK], "Spring sale")
    assert not picked.worth_saving()


def test_formatting_media_kinds_buttons_and_layout_survive_json() -> None:
    draft = full_draft()
    video = Image("clip.mp4", "blob-3", "Clip", 4096, "video/mp4", "BAAC", MediaKind.VIDEO, True, [ITALIC])
    draft.images.append(video)
    draft.caption_entities = [{"type": "text_link", "offset": 0, "length": 5, "url": "https://shop.example"}]
    draft.buttons = [[Button("Order", url="https://shop.example")], [Button("Code", copy_text="SPRING10")]]
    draft.link_preview = LinkPreview(show=True, above_text=True, large_media=True)
    draft.caption_above = True
    saved = json.loads(json.dumps(draft.to_json()))
    assert Draft.from_json(saved) == draft
    assert Draft.from_json(saved).content.images[2] == video


def test_a_draft_of_the_format_before_formatting_reads_as_plain_photos() -> None:
    saved = json.loads(json.dumps(full_draft().to_json()))
    saved["format"] = 2
    for key in ("caption_entities", "buttons", "link_preview", "caption_above"):
        saved.pop(key)
    for image in saved["images"]:
        for key in ("kind", "spoiler", "caption_entities"):
            image.pop(key)
    draft = Draft.from_json(saved)
    assert draft == full_draft()
    assert [image.kind for image in draft.images] == [MediaKind.PHOTO, MediaKind.PHOTO]
    assert (draft.buttons, draft.link_preview, draft.caption_above) == ([], LinkPreview(), False)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"buttons": "Order - https://x"}, "buttons"),
        ({"buttons": [[{"url": "https://x"}]]}, "label"),
        ({"caption_entities": [{"type": "bold"}]}, "offset"),
        ({"caption_entities": ["bold"]}, "formatting span"),
        ({"link_preview": {"show": "yes"}}, "show"),
        ({"images": [{"name": "a", "blob_id": "b", "kind": "hologram"}]}, "hologram"),
    ],
)
def test_content_that_is_not_one_is_refused_with_the_reason(change: dict[str, Any], why: str) -> None:
    with pytest.raises(DraftUnreadable, match=why):
        Draft.from_json({**full_draft().to_json(), **change})


def test_a_change_of_buttons_or_formatting_makes_a_saved_poster_worth_saving_again() -> None:
    draft = Draft(images=[FRONT], caption="Hello")
    draft.saved_as("Hello poster")
    assert not draft.worth_saving()
    draft.buttons = [[Button("Order", url="https://shop.example")]]
    assert draft.worth_saving()
    draft.saved_as("Hello poster")
    draft.caption_entities = [{"type": "bold", "offset": 0, "length": 5}]
    assert draft.worth_saving()


def test_a_repeating_time_survives_json_and_a_wrong_one_is_refused() -> None:
    draft = full_draft()
    draft.rule = {"frequency": "weekly", "at": "09:00", "zone": "Asia/Tokyo", "weekdays": [0, 3], "count": 2}
    draft.repeat = {"step": "end", "kind": "weekdays", "weekdays": [0, 3], "at": "09:00"}
    restored = Draft.from_json(json.loads(json.dumps(draft.to_json())))
    assert (restored.rule, restored.repeat) == (draft.rule, draft.repeat)
    assert Draft.from_json({"format": FORMAT}).rule is None
    with pytest.raises(DraftUnreadable):
        Draft.from_json({**draft.to_json(), "rule": "every monday"})
