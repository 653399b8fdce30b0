"""Herald's message catalogues, with Babel.

    python scripts/messages.py extract        write locales/herald.pot from the code
    python scripts/messages.py update         extract, then bring every catalogue up to date with it
                                              (new messages empty, changed ones fuzzy, gone ones dropped)
    python scripts/messages.py init CODE      start the catalogue of a new language (e.g. de, pt_BR)
    python scripts/messages.py merge CODE F…  fill CODE's untranslated messages from other .po files
    python scripts/messages.py check          what tests/test_i18n.py fails on, printed

`make messages` runs `update`. A catalogue is complete when `check` prints nothing.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import i18n  # noqa: E402 — after the path is set

# Where the bot's words are: the chat layer, the publishers' reasons, the scheduler's reports, and
# the stores' sentences for people (not configuration errors: those are for the operator, in English).
SOURCES = ("handlers", "publishers", "scheduler", "storage", "bot.py", "i18n.py")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
COMMENT_TAGS = ("i18n:",)
TEMPLATE = i18n.LOCALES / f"{i18n.DOMAIN}.pot"
# Placeholders ({name}) and Telegram HTML tags: a translation keeps the same ones.
PLACEHOLDER = re.compile(r"(?<!\{)\{(\w*)(?:[:!][^}]*)?\}(?!\})")
TAG = re.compile(r"</?(?:b|i|u|s|code|pre|a|blockquote|tg-spoiler)\b[^>]*>")


def _python_files() -> Iterable[tuple[str, Path]]:
    for source in SOURCES:
        path = ROOT / source
        if path.is_file():
            yield source, path
        else:
            for file in sorted(path.rglob("*.py")):
                yield str(file.relative_to(ROOT)), file


def extracted() -> Catalog:
    """Every message the code marks, with where it is and the translators' comments."""
    catalog = Catalog(project="Herald", domain=i18n.DOMAIN, charset="utf-8", fuzzy=False)
    for name, path in _python_files():
        with path.open("rb") as source:
            found = extract("python", source, keywords=KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=True)
            for lineno, message, comments, context in found:
                catalog.add(message, None, [(name, lineno)], auto_comments=comments, context=context)
    return catalog


def write_template() -> Catalog:
    template = extracted()
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    with TEMPLATE.open("wb") as out:
        write_po(out, template, width=120, omit_header=False, sort_output=False)
    return template


def read(code: str) -> Catalog:
    with i18n.catalogue_path(code).open("rb") as source:
        return read_po(source, locale=code, domain=i18n.DOMAIN)


def save(code: str, catalog: Catalog) -> None:
    catalog.fuzzy = False  # the header: a translated catalogue's is not a draft
    path = i18n.catalogue_path(code)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        write_po(out, catalog, width=120, ignore_obsolete=True)


def update(template: Catalog) -> None:
    for code in i18n.available()[1:]:
        catalog = read(code)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        save(code, catalog)


def init(code: str) -> None:
    if i18n.catalogue_path(code).exists():
        raise SystemExit(f"{code} has a catalogue already: {i18n.catalogue_path(code)}")
    Locale.parse(code)  # an unknown code fails here
    template = write_template()
    catalog = Catalog(locale=code, domain=i18n.DOMAIN, project="Herald", creation_date=datetime.now(), fuzzy=False)
    catalog.update(template)
    save(code, catalog)
    print(f"started {i18n.catalogue_path(code)}: translate every msgstr, then run the tests")


def merge(code: str, fragments: list[str]) -> None:
    """Fills `code`'s untranslated messages from other .po files (a translator's, a helper's)."""
    catalog = read(code)
    filled = 0
    for fragment in fragments:
        with open(fragment, "rb") as source:
            part = read_po(source, locale=code, domain=i18n.DOMAIN)
        for message in part:
            ours = catalog.get(message.id, context=message.context) if message.id else None
            if ours is not None and message.string and not _translated(ours):
                ours.string = message.string
                ours.flags.discard("fuzzy")
                filled += 1
    save(code, catalog)
    print(f"{code}: {filled} messages filled")


def _translated(message: Message) -> bool:
    string = message.string
    return bool(string) if isinstance(string, str) else any(string or ())


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def _tags(text: str) -> Counter[str]:
    return Counter(re.sub(r"\s.*", ">", tag) if not tag.startswith("</") else tag for tag in TAG.findall(text))


def problems(code: str, template: Catalog | None = None, catalog: Catalog | None = None) -> list[str]:
    """What keeps `code`'s catalogue (or `catalog`) from being complete and safe: a message missing,
    untranslated, fuzzy, or whose translation has other placeholders or other HTML tags than the
    English; a message the code no longer has."""
    template = template or extracted()
    catalog = catalog or read(code)
    found: list[str] = []
    plurals = catalog.num_plurals
    for message in template:
        if not message.id:
            continue
        ours = catalog.get(message.id, context=message.context)
        shown = message.id if isinstance(message.id, str) else message.id[0]
        where = f"{code}: {message.locations[0][0] if message.locations else '?'}: {shown[:70]!r}"
        if ours is None:
            found.append(f"{where} is missing")
            continue
        if ours.fuzzy:
            found.append(f"{where} is fuzzy (its English changed): check it and remove the fuzzy flag")
        found.extend(f"{where}: {problem}" for problem in _compare(message, ours, plurals))
    for ours in catalog:
        if ours.id and template.get(ours.id, context=ours.context) is None:
            found.append(f"{code}: {str(ours.id)[:70]!r} is no longer in the code (run `make messages`)")
    return found


def _compare(english: Message, ours: Message, plurals: int) -> list[str]:
    sources = [english.id] if isinstance(english.id, str) else list(english.id)
    strings = [ours.string] if isinstance(ours.string, str) else list(ours.string or ())
    if isinstance(english.id, str) != isinstance(ours.string, str):
        return ["singular in one, plural in the other"]
    if not isinstance(english.id, str) and len(strings) != plurals:
        return [f"has {len(strings)} plural forms, the language has {plurals}"]
    if any(not string for string in strings):
        return ["is not translated"]
    found = []
    want_names = set().union(*(_placeholders(s) for s in sources))
    want_tags = _tags(sources[-1])
    for string in strings:
        names = set(_placeholders(string))
        if names - want_names:
            found.append(f"has placeholders the English lacks: {sorted(names - want_names)}")
        # A plural form may leave {count} out ("одна запись"); every other placeholder stays.
        lacking = want_names - names - ({"count"} if len(sources) > 1 else set())
        if lacking:
            found.append(f"lacks placeholders: {sorted(lacking)}")
        if _tags(string) != want_tags:
            found.append(f"has other HTML tags than the English: {dict(_tags(string))} vs {dict(want_tags)}")
    return found


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "extract":
        write_template()
    elif command == "update":
        update(write_template())
    elif command == "init" and len(argv) == 3:
        init(argv[2])
    elif command == "merge" and len(argv) >= 4:
        merge(argv[2], argv[3:])
    elif command == "check":
        template = extracted()
        found = [problem for code in i18n.available()[1:] for problem in problems(code, template)]
        print("\n".join(found) or "every catalogue is complete")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
