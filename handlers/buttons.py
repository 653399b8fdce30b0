"""Buttons under a post, as a person writes them in the chat: one row per line, `Label - https://…`
for a link, `Label - copy: CODE` for a text to copy (a promo code), `|` between the buttons of a
row. Checked against what Telegram takes, each problem named with its line; and written back the
same way, to show and to edit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from i18n import _, ngettext
from publishers.telegram_layout import (
    BUTTON_LABEL_LIMIT,
    BUTTONS_LIMIT,
    BUTTONS_PER_ROW_LIMIT,
    COPY_TEXT_LIMIT,
)
from storage.models import Button

# " - " between a label and its link; phones often turn a typed "-" into an en or em dash.
_SEPARATOR = re.compile(r"\s+[-–—]\s+")
_COPY = re.compile(r"^copy\s*:\s*", re.IGNORECASE)
# Written without a scheme, these are plainly web addresses.
_SCHEMELESS = ("t.me/", "www.", "telegram.me/")
URL_LIMIT = 2048


@dataclass
class ParsedButtons:
    """The rows read from a person's message, and what is wrong with it (one sentence per problem,
    each naming its line); the rows count only when there is no problem."""

    rows: list[list[Button]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_buttons(text: str) -> ParsedButtons:
    """The buttons `text` describes, or the problems that keep it from being used."""
    parsed = ParsedButtons()
    count = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        row: list[Button] = []
        for written in line.split("|"):
            button, problem = _button(written.strip())
            if problem is not None:
                # i18n: a problem with the typed buttons, on one line of them
                parsed.problems.append(_("line {number}: {problem}").format(number=number, problem=problem))
            elif button is not None:
                row.append(button)
        if len(row) > BUTTONS_PER_ROW_LIMIT:
            parsed.problems.append(
                ngettext(
                    "line {number}: {count} button in a row; Telegram shows at most {limit}",
                    "line {number}: {count} buttons in a row; Telegram shows at most {limit}",
                    len(row),
                ).format(number=number, count=len(row), limit=BUTTONS_PER_ROW_LIMIT)
            )
        count += len(row)
        if row:
            parsed.rows.append(row)
    if count > BUTTONS_LIMIT:
        parsed.problems.append(
            ngettext(
                "{count} button; a post can carry at most {limit}",
                "{count} buttons; a post can carry at most {limit}",
                count,
            ).format(count=count, limit=BUTTONS_LIMIT)
        )
    if not parsed.rows and not parsed.problems:
        parsed.problems.append(_("no button in it"))
    return parsed


def _button(written: str) -> tuple[Button | None, str | None]:
    """One button as written (`Label - target`), or why it cannot be one."""
    if not written:
        return None, _("an empty button between two |")
    parts = _SEPARATOR.split(written)
    if len(parts) < 2:
        # i18n: "Label - https://…" is the syntax (the word Label may be translated)
        return None, _("“{button}” has no link: write it as Label - https://…").format(button=_short(written))
    # The last " - " parts label and target: a label may hold a dash of its own.
    label = " - ".join(part.strip() for part in parts[:-1]).strip()
    target = parts[-1].strip()
    if not label:
        return None, _("a button needs a label before its link")
    if len(label) > BUTTON_LABEL_LIMIT:
        return None, ngettext(
            "the label “{label}” is {length} character; keep it to {limit}",
            "the label “{label}” is {length} characters; keep it to {limit}",
            len(label),
        ).format(label=_short(label), length=len(label), limit=BUTTON_LABEL_LIMIT)
    if _COPY.match(target):
        copied = _COPY.sub("", target, count=1).strip()
        if not copied:
            # i18n: "copy:" stays as it is (it is what the person types)
            return None, _("“{label}” copies nothing: write copy: and the text after it").format(label=_short(label))
        if len(copied) > COPY_TEXT_LIMIT:
            return None, ngettext(
                "the text “{label}” copies is over {limit} character",
                "the text “{label}” copies is over {limit} characters",
                COPY_TEXT_LIMIT,
            ).format(label=_short(label), limit=COPY_TEXT_LIMIT)
        return Button(label, copy_text=copied), None
    if target.lower().startswith(_SCHEMELESS):
        target = "https://" + target
    problem = url_problem(target)
    if problem is not None:
        # i18n: {problem} ends the sentence: "is over 2048 characters", "has a space in it"…
        return None, _("the link of “{label}” {problem}").format(label=_short(label), problem=problem)
    return Button(label, url=target), None


def url_problem(url: str) -> str | None:
    """Why Telegram would refuse this as a button's link (a sentence's end), or None."""
    if len(url) > URL_LIMIT:
        # i18n: the end of "the link of “Label” …"
        return ngettext("is over {limit} character", "is over {limit} characters", URL_LIMIT).format(limit=URL_LIMIT)
    if any(char.isspace() for char in url):
        # i18n: the end of "the link of “Label” …"
        return _("has a space in it")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        # i18n: the end of "the link of “Label” …"
        return _("is not a web address")
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not host or ("." not in host and host != "localhost"):
            # i18n: the end of "the link of “Label” …"
            return _("has no site in it (e.g. https://example.com)")
        return None
    if scheme == "tg":
        # i18n: the end of "the link of “Label” …"
        return None if url[len("tg:") :].strip("/") else _("is an empty tg:// link")
    # i18n: the end of "the link of “Label” …"
    return _("must start with https://, http:// or tg://")


def write_buttons(rows: list[list[Button]]) -> str:
    """The rows as a person writes them (what `parse_buttons` reads back)."""
    return "\n".join(
        " | ".join(f"{button.label} - {button.url or 'copy: ' + (button.copy_text or '')}" for button in row)
        for row in rows
    )


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
