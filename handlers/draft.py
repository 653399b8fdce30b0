"""A New post in the making: the account, targets, content and time chosen so far.

It is kept in `user_data` as plain JSON (python-telegram-bot saves that to the database), so a
restart of the bot loses nothing. Where the person is in the conversation is the
ConversationHandler's to know; the draft holds only what they chose."""

from __future__ import annotations

import json
import types
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from storage.codec import options_from_doc, options_to_doc
from storage.models import (
    Account,
    Button,
    Content,
    DeliveryOptions,
    Entity,
    Image,
    LinkPreview,
    MediaKind,
    Platform,
    Target,
    target_platform,
)

# The layout of `to_json`. A draft saved by Herald before this field existed (a dict of the same
# keys plus a `step`) reads as format 1; one from a newer Herald cannot be read by this one (format
# 3 added formatting, media kinds, buttons and the layout: an older Herald would drop them).
FORMAT = 3
Record = TypeVar("Record", Target, Image, Button, LinkPreview)


class DraftUnreadable(ValueError):
    """The saved draft is not one this version of Herald can read."""


@dataclass
class Draft:
    """What the person chose so far for the post they are making."""

    account_id: str = ""
    account_name: str = ""
    platform: Platform | None = None
    # The person has accounts besides this one: the targets step offers the way back to choose.
    other_accounts: bool = False
    # The targets the account offered at the last look, and the ids of those picked among them.
    offered: list[Target] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    page: int = 0
    images: list[Image] = field(default_factory=list)
    # None until the person gave the main caption (or chose none, or a poster): they are still
    # sending photos.
    caption: str | None = None
    poster_name: str | None = None
    # The content as it was when saved as a poster, to offer saving again only after a change.
    saved_content: tuple[str, tuple[str, ...]] | None = None
    when: datetime | None = None
    # A time moved past a DST gap, waiting for the person's yes.
    suggested_when: datetime | None = None
    # The main caption's formatting, the buttons under the post, its link preview, and whether its
    # captions show above the media (see storage.models.Content).
    caption_entities: list[Entity] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    link_preview: LinkPreview = field(default_factory=LinkPreview)
    caption_above: bool = False
    # The time is the next free slot of the posting schedule ("Add to queue"), not one chosen.
    queued: bool = False
    # How it is delivered and what becomes of it after (the person's defaults until changed).
    options: DeliveryOptions = field(default_factory=DeliveryOptions)
    # A repeating time: the rule chosen (storage.series.rule_to_doc; `when` is then its first
    # time), and the rule being put together with the Repeat… buttons (handlers/repeat.py).
    rule: dict[str, Any] | None = None
    repeat: dict[str, Any] | None = None

    def choose_account(self, account: Account) -> None:
        """Starts the targets over for another account (the same one, chosen again, keeps them)."""
        if account.account_id != self.account_id:
            self.offered, self.selected, self.page = [], [], 0
        self.account_id, self.account_name, self.platform = account.account_id, account.name, account.platform

    def offer(self, targets: list[Target]) -> None:
        """The account's targets as they are now; picks of targets no longer offered are dropped."""
        self.offered = list(targets)
        known = {target.target_id for target in targets}
        self.selected = [target_id for target_id in self.selected if target_id in known]

    def toggle(self, target_id: str) -> None:
        """Picks a target, or unpicks it if it was picked."""
        if target_id in self.selected:
            self.selected.remove(target_id)
        else:
            self.selected.append(target_id)

    def toggle_all(self) -> None:
        """Picks every target offered, or none if all were picked."""
        everything = [target.target_id for target in self.offered]
        self.selected = [] if set(self.selected) == set(everything) else everything

    def press_target(self, action: str, argument: str) -> bool:
        """A press on the targets keyboard applied: `t` a target (False, changing nothing, if it is
        not offered), `all` every target or none, `pg` another page."""
        if action == "t":
            if argument not in {target.target_id for target in self.offered}:
                return False
            self.toggle(argument)
        elif action == "all":
            self.toggle_all()
        elif action == "pg" and argument.isdigit():
            self.page = int(argument)
        return True

    def chosen(self) -> list[Target]:
        """The picked targets, in the order the account offers them."""
        picked = set(self.selected)
        return [target for target in self.offered if target.target_id in picked]

    def start_content(self) -> None:
        """The targets are settled: photos and caption from nothing."""
        self.images, self.caption = [], None
        self.caption_entities, self.buttons, self.link_preview, self.caption_above = [], [], LinkPreview(), False

    def use_content(self, caption: str, images: list[Image], poster_name: str, content: Content | None = None) -> None:
        """The caption and images of a saved poster (and, given its `content`, its formatting,
        buttons and layout)."""
        self.caption, self.images, self.poster_name = caption, list(images), poster_name
        if content is not None:
            self.caption_entities = list(content.caption_entities)
            self.buttons = [list(row) for row in content.buttons]
            self.link_preview, self.caption_above = content.link_preview, content.caption_above

    @property
    def content(self) -> Content:
        """What the post will show, as it stands."""
        return Content(
            caption=self.caption or "",
            caption_entities=self.caption_entities,
            images=self.images,
            buttons=self.buttons,
            link_preview=self.link_preview,
            caption_above=self.caption_above,
        )

    def content_key(self) -> tuple[str, tuple[str, ...]]:
        """The content as it stands: the caption (with its formatting, media kinds, buttons and
        layout, when it has any beyond plain text and photos) and which images."""
        caption = self.caption or ""
        extras = {
            "entities": self.caption_entities,
            "media": [(image.kind.value, image.spoiler, image.caption_entities) for image in self.images],
            "buttons": [[asdict(button) for button in row] for row in self.buttons],
            "link_preview": asdict(self.link_preview),
            "caption_above": self.caption_above,
        }
        plain = {
            "entities": [],
            "media": [(MediaKind.PHOTO.value, False, []) for _ in self.images],
            "buttons": [],
            "link_preview": asdict(LinkPreview()),
            "caption_above": False,
        }
        if extras != plain:
            caption += "\x00" + json.dumps(extras, sort_keys=True)
        return caption, tuple(image.blob_id for image in self.images)

    def saved_as(self, poster_name: str) -> None:
        """The content as it stands now is the poster `poster_name`."""
        self.poster_name, self.saved_content = poster_name, self.content_key()

    def worth_saving(self) -> bool:
        """False when the content is a poster already: picked from one, or saved as it is now."""
        if not self.poster_name:
            return True
        return self.saved_content is not None and self.saved_content != self.content_key()

    def worth_keeping(self) -> bool:
        """True once the person picked or gave something that starting over would throw away."""
        return bool(self.selected or self.images or self.caption is not None)

    def to_json(self) -> dict[str, Any]:
        """The draft as JSON-friendly values (for `user_data`)."""
        return {
            "format": FORMAT,
            "account_id": self.account_id,
            "account_name": self.account_name,
            "platform": self.platform.value if self.platform else None,
            "other_accounts": self.other_accounts,
            "targets": [asdict(target) for target in self.offered],
            "selected": list(self.selected),
            "page": self.page,
            "images": [asdict(image) for image in self.images],
            "caption": self.caption,
            "poster_name": self.poster_name,
            "saved_content": [self.saved_content[0], list(self.saved_content[1])] if self.saved_content else None,
            "when": self.when.isoformat() if self.when else None,
            "suggested_when": self.suggested_when.isoformat() if self.suggested_when else None,
            "caption_entities": [dict(entity) for entity in self.caption_entities],
            "buttons": [[asdict(button) for button in row] for row in self.buttons],
            "link_preview": asdict(self.link_preview),
            "caption_above": self.caption_above,
            "queued": self.queued,
            "options": options_to_doc(self.options),
            "rule": self.rule,
            "repeat": self.repeat,
        }

    @classmethod
    def from_json(cls, saved: object) -> Draft:
        """The draft `to_json` made, or the dict an earlier Herald kept; DraftUnreadable otherwise."""
        if not isinstance(saved, dict):
            raise DraftUnreadable(f"a draft is a dict, not {type(saved).__name__}")
        if _value(saved, "format", int, 1) > FORMAT:
            raise DraftUnreadable("the draft was saved by a newer version of Herald")
        platform = _value(saved, "platform", str | None, None)
        saved_content = _value(saved, "saved_content", list | None, None)
        try:
            return cls(
                account_id=_value(saved, "account_id", str, ""),
                account_name=_value(saved, "account_name", str, ""),
                platform=Platform(platform) if platform else None,
                other_accounts=_value(saved, "other_accounts", bool, False),
                offered=[_record(Target, doc) for doc in _value(saved, "targets", list, [])],
                selected=[_text(target_id) for target_id in _value(saved, "selected", list, [])],
                page=_value(saved, "page", int, 0),
                images=[_record(Image, doc) for doc in _value(saved, "images", list, [])],
                caption=_value(saved, "caption", str | None, None),
                poster_name=_value(saved, "poster_name", str | None, None),
                saved_content=_content(saved_content) if saved_content is not None else None,
                when=_moment(_value(saved, "when", str | None, None)),
                suggested_when=_moment(_value(saved, "suggested_when", str | None, None)),
                caption_entities=_entities(_value(saved, "caption_entities", list, [])),
                buttons=[
                    [_record(Button, button) for button in _list(row)] for row in _value(saved, "buttons", list, [])
                ],
                link_preview=_record(LinkPreview, _value(saved, "link_preview", dict, {})),
                caption_above=_value(saved, "caption_above", bool, False),
                queued=_value(saved, "queued", bool, False),
                options=options_from_doc(_value(saved, "options", dict | None, None)),
                rule=_value(saved, "rule", dict | None, None),
                repeat=_value(saved, "repeat", dict | None, None),
            )
        except (TypeError, ValueError) as error:
            raise DraftUnreadable(str(error)) from error


def _fits(value: object, kind: Any) -> bool:
    """True if `value` is of the type `kind` (a class, a union of classes, or a list or dict of
    anything: their items are checked where they are read)."""
    if get_origin(kind) in (Union, types.UnionType):
        return any(_fits(value, member) for member in get_args(kind))
    if get_origin(kind) in (list, dict):
        return isinstance(value, get_origin(kind))
    if kind is type(None):
        return value is None
    # bool is an int to isinstance, never to a draft.
    return isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)


def _value(saved: dict[str, Any], key: str, kind: Any, default: Any) -> Any:
    value = saved.get(key, default)
    if not _fits(value, kind):
        raise DraftUnreadable(f"{key} holds a {type(value).__name__}")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise DraftUnreadable(f"expected text, found a {type(value).__name__}")
    return value


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise DraftUnreadable(f"{text} names no time zone")
    return moment


def _content(saved: list[Any]) -> tuple[str, tuple[str, ...]]:
    caption, blob_ids = saved
    if not isinstance(blob_ids, list):
        raise DraftUnreadable("saved_content holds no list of images")
    return _text(caption), tuple(_text(blob_id) for blob_id in blob_ids)


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise DraftUnreadable(f"expected a list, found a {type(value).__name__}")
    return value


def _entities(saved: list[Any]) -> list[Entity]:
    """Formatting spans: dicts, each with a type, an offset and a length."""
    for entity in saved:
        if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
            raise DraftUnreadable("a formatting span is not one")
        if not all(isinstance(entity.get(name), int) for name in ("offset", "length")):
            raise DraftUnreadable("a formatting span has no offset or length")
    return [dict(entity) for entity in saved]


def _record(kind: type[Record], saved: object) -> Record:
    """A Target, an Image, a Button or a LinkPreview from its fields; missing optional fields take
    their defaults."""
    if not isinstance(saved, dict):
        raise DraftUnreadable(f"a {kind.__name__} is a dict, not {type(saved).__name__}")
    hints = get_type_hints(kind)
    values: dict[str, Any] = {}
    for one in fields(kind):
        if one.name == "platform" and kind is Target:
            # Saved as text; by an earlier version not at all (its `kind` told the platform).
            values["platform"], values["kind"] = target_platform(saved)
        elif one.name == "kind" and kind is Image:
            # Saved as text; by an earlier version not at all (every image was a photo).
            values["kind"] = MediaKind(_value(saved, "kind", str, MediaKind.PHOTO.value))
        elif one.name == "caption_entities":
            values["caption_entities"] = _entities(_value(saved, "caption_entities", list, []))
        elif one.name in saved and one.name not in values:
            values[one.name] = _value(saved, one.name, hints[one.name], None)
    return kind(**values)
