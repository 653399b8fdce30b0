"""Every language's catalogue against the code as it is: each message the code marks is translated,
with the same placeholders and HTML tags as the English, and formats without error."""

from __future__ import annotations

import re

import i18n
from scripts import messages


def test_herald_speaks_english_and_russian() -> None:
    assert i18n.available()[:1] == ("en",)
    assert "ru" in i18n.available()


def test_every_catalogue_translates_every_message_with_the_same_placeholders_and_tags() -> None:
    template = messages.extracted()
    assert len(template) > 500  # the extraction sees the bot's texts
    found = [problem for code in i18n.available()[1:] for problem in messages.problems(code, template)]
    shown = "\n".join(found[:40])
    assert found == [], f"{len(found)} problems (python scripts/messages.py check lists them):\n{shown}"


def test_every_translation_formats_with_the_placeholders_of_its_english() -> None:
    """A stray brace in a translation would raise where the message is shown; found here instead."""
    broken = []
    for code in i18n.available()[1:]:
        for message in messages.read(code):
            if not message.id or not message.string:
                continue
            sources = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else list(message.string)
            names = {name for source in sources for name in re.findall(r"\{(\w+)", source)}
            if not any("{" in source for source in sources):
                continue
            values = dict.fromkeys(names, 1)
            try:
                for source in sources:
                    source.format(**values)
            except (KeyError, IndexError, ValueError):
                continue  # braces the English shows as they are: it is never formatted
            for string in strings:
                try:
                    string.format(**values)
                except (KeyError, IndexError, ValueError) as error:
                    broken.append(f"{code}: {string[:60]!r}: {error!r}")
    assert broken == []
