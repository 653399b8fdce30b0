"""How an edit of a published Telegram post is laid onto the messages it went out as: the new text
where the old one sat (a caption, or the text message after the media), refused when it cannot sit
there; and Telegram's refusals of edits and deletes in words."""

from __future__ import annotations

from dataclasses import replace

from telegram.error import BadRequest, Forbidden, NetworkError

from publishers.revision import Edit
from publishers.telegram_layout import BUTTONS_MESSAGE
from publishers.telegram_revise import edit_layout, refused
from storage.models import Button, Content, Image

ALBUM = [Image("a.jpg", "blob-a"), Image("b.jpg", "blob-b")]
ORDER = [[Button("Order", url="https://shop.example/order")]]


def layout(old: Content, new: Content) -> list[tuple[str, str]] | str:
    """(kind, what it shows) of each message after the edit, or the refusal."""
    found = edit_layout(Edit(old, new))
    if isinstance(found, str):
        return found
    shown = []
    for _, after in found:
        shown.append((after.kind, after.text if after.kind == "text" else after.media[0].caption.text))
    return shown


def test_a_caption_stays_on_the_albums_first_item_and_the_buttons_on_their_message() -> None:
    old = Content(caption="Spring sale", images=ALBUM, buttons=ORDER)
    assert layout(old, replace(old, caption="Sale ends Sunday")) == [
        ("album", "Sale ends Sunday"),
        ("text", BUTTONS_MESSAGE),
    ]


def test_a_caption_that_went_apart_stays_apart_even_when_short() -> None:
    old = Content(caption="x" * 1500, images=ALBUM)
    assert layout(old, replace(old, caption="short now")) == [("album", ""), ("text", "short now")]


def test_what_cannot_sit_where_the_post_is_is_refused_with_the_reason() -> None:
    old = Content(caption="Spring sale", images=ALBUM, buttons=ORDER)
    too_long = layout(old, replace(old, caption="y" * 1100))
    assert isinstance(too_long, str) and too_long.startswith("the new text is 1100 characters and no longer fits")
    plain = Content(caption="Spring sale", images=ALBUM)
    assert layout(plain, replace(plain, buttons=ORDER)) == (
        "buttons can't be added under an album that went out without them"
    )
    assert layout(old, replace(old, buttons=[])) == (
        "the buttons of an album sit on a message of their own, which can't be taken away"
    )
    apart = Content(caption="x" * 1500, images=ALBUM)
    assert layout(apart, replace(apart, caption="")) == (
        "the text went out as a message of its own, which can't be left empty"
    )
    text = Content(caption="hello")
    assert layout(text, replace(text, caption="z" * 5000)) == "the new text needs 2 text messages where the post has 1"


def test_telegrams_refusals_are_said_in_words() -> None:
    assert refused(BadRequest("Message can't be deleted for everyone")).error_code == "too_old"
    assert refused(BadRequest("Message is not modified: specified new message content")).error_message == (
        "the message there already shows this"
    )
    assert refused(BadRequest("Message to edit not found")).error_code == "not_found"
    assert refused(BadRequest("Need administrator rights in the channel chat")).error_code == "no_right"
    assert refused(Forbidden("bot was kicked from the channel chat")).error_code == "403"
    lost = refused(NetworkError("connection reset"))
    assert lost.is_retryable and "may not have changed" in (lost.error_message or "")
