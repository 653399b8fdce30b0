"""Text and its entities (UTF-16 offsets): kept as typed, cut and split without cutting a span or a
surrogate pair, and written out as HTML or as plain text with the links."""

from __future__ import annotations

import pytest

from publishers.formatting import (
    Formatted,
    formatted,
    join,
    plain_with_links,
    split,
    to_html,
    utf16_len,
)

EMOJI = "😀"  # 2 UTF-16 code units


def span(kind: str, offset: int, length: int, **extra: str) -> dict[str, object]:
    return {"type": kind, "offset": offset, "length": length, **extra}


def covered(piece: Formatted) -> list[tuple[str, str]]:
    """(type, the text it covers) of each entity of a piece."""
    starts = [0]
    for char in piece.text:
        starts.append(starts[-1] + utf16_len(char))
    return [
        (entity["type"], piece.text[starts.index(entity["offset"]) : starts.index(entity["offset"] + entity["length"])])
        for entity in piece.entities
    ]


def well_formed(text: str) -> bool:
    return text.encode("utf-16-le", "strict").decode("utf-16-le") == text


def test_only_what_a_person_formats_is_kept_and_each_span_is_held_to_the_text() -> None:
    text = f"Hi {EMOJI} @shop https://x.org #sale"
    kept = formatted(
        text,
        [
            span("bold", 0, 2),
            span("mention", 6, 5),  # Telegram finds these itself
            span("url", 12, 13),
            span("hashtag", 26, 5),
            span("text_link", 3, 2, url="https://e.org"),
            span("italic", 4, 1),  # ends inside the emoji: widened to keep it whole
            span("underline", 29, 50),  # runs past the end: cut to it
            span("spoiler", 3, 0),  # empty
            span("text_link", 0, 2),  # a link without an address
            span("nonsense", 0, 2),
            {"type": "bold", "offset": "0", "length": 2},
            "not an entity",
        ],
    )
    assert [(e["type"], e["offset"], e["length"]) for e in kept.entities] == [
        ("bold", 0, 2),
        ("text_link", 3, 2),
        ("italic", 3, 2),
        ("underline", 29, 2),
    ]
    assert kept.entities[1]["url"] == "https://e.org"


def test_stripping_and_joining_move_the_spans_with_the_text() -> None:
    text = formatted(f"  \n{EMOJI} Bold end  ", [span("bold", 6, 4), span("italic", 0, 3)])
    stripped = text.strip()
    assert stripped.text == f"{EMOJI} Bold end"
    assert covered(stripped) == [("bold", "Bold")]  # the italic covered only whitespace
    joined = join([stripped, Formatted(""), formatted("under", [span("underline", 0, 5)])])
    assert joined.text == f"{EMOJI} Bold end\n\nunder"
    assert covered(joined) == [("bold", "Bold"), ("underline", "under")]


def test_a_split_never_cuts_a_formatted_span_and_rebases_each_piece() -> None:
    words = " ".join(f"w{n:03d}" for n in range(300))  # 1,499 units, spaces everywhere
    bold_start = words.index("w190")
    bold_end = words.index("w215") + 4
    link_start = words.index("w290")
    text = formatted(
        words,
        [
            span("bold", bold_start, bold_end - bold_start),  # crosses 1,024 with no span-free space
            span("text_link", link_start, 4, url="https://e.org"),
        ],
    )
    pieces = split(text, 1024)
    assert all(piece.length <= 1024 for piece in pieces)
    assert " ".join(piece.text for piece in pieces) == words
    found = [item for piece in pieces for item in covered(piece)]
    assert found == [("bold", words[bold_start:bold_end]), ("text_link", "w290")]
    # The bold span is whole, in the second piece, which starts with it.
    assert pieces[1].text.startswith("w190") and pieces[1].entities[0]["offset"] == 0


def test_a_span_longer_than_a_piece_is_cut_and_both_parts_keep_it() -> None:
    text = formatted("x " * 1500, [span("bold", 0, 3000)])
    pieces = split(text, 1024)
    assert len(pieces) == 3 and all(piece.length <= 1024 for piece in pieces)
    assert all([entity["type"] for entity in piece.entities] == ["bold"] for piece in pieces)
    assert all(piece.entities[0]["offset"] == 0 for piece in pieces)
    assert all(piece.entities[0]["length"] == piece.length for piece in pieces)


def test_a_split_never_halves_a_surrogate_pair_even_inside_a_span() -> None:
    text = formatted("a" + EMOJI * 2100, [span("italic", 1, 4200)])
    pieces = split(text, 4096)
    assert "".join(piece.text for piece in pieces) == "a" + EMOJI * 2100
    # Cut before the span first; then, the span being longer than a piece, inside it.
    assert [piece.text for piece in pieces] == ["a", EMOJI * 2048, EMOJI * 52]
    for piece in pieces[1:]:
        assert well_formed(piece.text) and piece.length <= 4096
        assert covered(piece) == [("italic", piece.text)]


def test_html_nests_the_spans_and_reopens_crossing_ones() -> None:
    text = formatted(
        "Bold link & <tag> quote",
        [
            span("bold", 0, 9),
            span("text_link", 5, 4, url='https://e.org/?a=1&b="2"'),
            span("italic", 7, 10),  # crosses the end of the bold and the link
            span("blockquote", 18, 5),
            span("pre", 12, 5, language="py"),
        ],
    )
    assert to_html(text) == (
        '<b>Bold <a href="https://e.org/?a=1&amp;b=&quot;2&quot;">li<i>nk</i></a></b><i> &amp; '
        '<pre><code class="language-py">&lt;tag&gt;</code></pre></i> <blockquote>quote</blockquote>'
    )
    assert to_html(formatted("<plain> & text")) == "&lt;plain&gt; &amp; text"


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        ([span("text_link", 0, 4, url="https://shop.example/sale")], "Sale (https://shop.example/sale) today"),
        ([span("bold", 0, 4), span("spoiler", 5, 5)], "Sale today"),
        ([], "Sale today"),
    ],
)
def test_plain_text_writes_each_links_address_after_its_words(entities: list[dict[str, object]], expected: str) -> None:
    assert plain_with_links(formatted("Sale today", entities)) == expected


def test_a_link_whose_words_are_its_address_is_not_written_twice() -> None:
    text = formatted(f"{EMOJI} shop.example/a and more", [span("text_link", 3, 14, url="https://shop.example/a")])
    assert plain_with_links(text) == f"{EMOJI} shop.example/a and more"
