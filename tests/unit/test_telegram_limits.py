"""Limits counted as Telegram counts them (UTF-16 code units), and cuts that never halve a character."""

from __future__ import annotations

import pytest

from handlers import texts
from publishers.telegram_layout import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    plan_messages,
    split_text,
    utf16_cut,
    utf16_len,
)
from storage.models import Image

EMOJI = "😀"  # 2 UTF-16 code units


def image(caption: str = "") -> Image:
    return Image(name="photo.jpg", blob_id="b1", caption=caption, size=10)


def well_formed(text: str) -> bool:
    """True if `text` survives a round trip through UTF-16 (no half of a surrogate pair)."""
    return text.encode("utf-16-le", "strict").decode("utf-16-le") == text


def test_lengths_count_utf16_units() -> None:
    assert utf16_len("") == 0 and utf16_len("abc") == 3 and utf16_len("é€") == 2
    assert utf16_len(EMOJI * 2100) == 4200 and utf16_len("👍🏽") == 4


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("a😀", 2, "a"), ("😀😀", 3, "😀"), ("😀😀", 4, "😀😀"), ("abc", 2, "ab"), ("😀", 1, "")],
)
def test_a_cut_never_halves_a_character(text: str, limit: int, expected: str) -> None:
    cut = utf16_cut(text, limit)
    assert cut == expected and utf16_len(cut) <= limit and well_formed(cut)


def test_a_long_text_is_split_into_pieces_telegram_takes_and_nothing_is_lost() -> None:
    text = "a" + EMOJI * 2100  # the cut falls in the middle of an emoji if counted in characters
    pieces = split_text(text)
    assert len(pieces) == 2 and "".join(pieces) == text
    assert all(utf16_len(piece) <= TEXT_LIMIT and well_formed(piece) for piece in pieces)


def test_a_split_prefers_a_line_break_or_a_space() -> None:
    paragraph = ("word " * 700).strip()  # 3,499 units
    assert split_text(paragraph + "\n" + paragraph) == [paragraph, paragraph]
    pieces = split_text(paragraph + " " + paragraph)
    assert all(piece.startswith("word") and piece.endswith("word") for piece in pieces)
    assert " ".join(pieces) == paragraph + " " + paragraph
    assert split_text("short") == ["short"] and split_text("") == [""]


def test_a_caption_fits_a_photo_by_its_utf16_length() -> None:
    fits = plan_messages(EMOJI * 512, [image()])  # 1,024 units
    assert [m.kind for m in fits] == ["photo"] and fits[0].photos[0][1] == EMOJI * 512
    too_long = plan_messages(EMOJI * 513, [image(), image("second")])  # 513 characters, 1,026 units
    assert [m.kind for m in too_long] == ["album", "text"]
    assert too_long[0].photos[0][1] == "" and too_long[1].text == EMOJI * 513


def test_an_image_caption_over_the_limit_is_cut_whole_characters_only() -> None:
    planned = plan_messages("", [image("a" + EMOJI * 600)])
    caption = planned[0].photos[0][1]
    assert utf16_len(caption) == CAPTION_LIMIT - 1 and well_formed(caption)


def test_a_text_post_longer_than_one_message_goes_out_in_several() -> None:
    planned = plan_messages(EMOJI * 2100, [])
    assert [m.kind for m in planned] == ["text", "text"]
    assert "".join(m.text for m in planned) == EMOJI * 2100
    assert all(utf16_len(m.text) <= TEXT_LIMIT for m in planned)


def test_the_texts_state_the_limits_and_how_they_are_counted() -> None:
    assert "4,200 characters as Telegram counts them" in texts.text_too_long(4200)
    assert "Telegram allows 4,096" in texts.text_too_long(4200)
    assert "more than the 1,024" in texts.caption_over_photo_limit(1100)
    assert "1,024 characters as Telegram counts them" in texts.ask_new_caption("a1b2", "", 2)
    assert "4,096 characters as Telegram counts them" in texts.ask_new_caption("a1b2", "", 0)
    assert "emoji count as 2" in texts.ask_new_caption("a1b2", "", 0)
