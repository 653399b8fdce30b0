"""Buttons as a person writes them: one row per line, `Label - link`, `|` between the buttons of a
row, `copy:` for a text to copy; every problem named with its line, and written back as read."""

from __future__ import annotations

import pytest

from handlers.buttons import parse_buttons, write_buttons
from storage.models import Button


def test_rows_links_and_copy_buttons_are_read_as_written() -> None:
    parsed = parse_buttons(
        "Order now - https://shop.example/order\n"
        "\n"
        "  Menu – https://shop.example/menu |Promo code — copy: SPRING10 | Chat - tg://resolve?domain=shop\n"
        "Buy now - 50% off - t.me/shop\n"
    )
    assert parsed.problems == []
    assert parsed.rows == [
        [Button("Order now", url="https://shop.example/order")],
        [
            Button("Menu", url="https://shop.example/menu"),
            Button("Promo code", copy_text="SPRING10"),
            Button("Chat", url="tg://resolve?domain=shop"),
        ],
        [Button("Buy now - 50% off", url="https://t.me/shop")],
    ]
    assert parse_buttons(write_buttons(parsed.rows)).rows == parsed.rows


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("Shop", "line 1: “Shop” has no link: write it as Label - https://…"),
        ("Shop - ftp://files.example", "line 1: the link of “Shop” must start with https://, http:// or tg://"),
        ("Shop - https://", "line 1: the link of “Shop” has no site in it"),
        ("Shop - https://shop", "line 1: the link of “Shop” has no site in it"),
        ("Shop - example.com", "line 1: the link of “Shop” must start with https://, http:// or tg://"),
        ("Ok - https://a.example\nCode - copy:", "line 2: “Code” copies nothing"),
        (f"Code - copy: {'x' * 257}", "line 1: the text “Code” copies is over 256 characters"),
        (f"{'L' * 65} - https://a.example", "line 1: the label “LLLLLLLLLLLLLLLLLLLLLLLLLLLLL…” is 65 characters"),
        ("A - https://a.example || B - https://b.example", "line 1: an empty button between two |"),
        (
            " | ".join(f"B{n} - https://b.example" for n in range(9)),
            "line 1: 9 buttons in a row; Telegram shows at most 8",
        ),
        ("\n".join(f"B{n} - https://b.example" for n in range(101)), "101 buttons; a post can carry at most 100"),
        ("   \n  ", "no button in it"),
    ],
)
def test_each_problem_is_named_with_its_line(written: str, problem: str) -> None:
    parsed = parse_buttons(written)
    assert any(found.startswith(problem) for found in parsed.problems), parsed.problems


def test_every_problem_of_a_message_is_named_not_only_the_first() -> None:
    parsed = parse_buttons("Fine - https://a.example\nBroken\nAlso - mailto:me@example.com")
    assert [problem.split(":")[0] for problem in parsed.problems] == ["line 2", "line 3"]
