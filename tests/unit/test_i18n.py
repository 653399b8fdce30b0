"""i18n: choosing a language, translating constants and sentences, plural forms, stored English
shown translated, dates per language — against a small catalogue made for the test — and the
checker that keeps every real catalogue complete (tests/unit/test_catalogues.py runs it on them)."""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from hypothesis import given
from hypothesis import strategies as st

import i18n
from i18n import N_
from scripts import messages

ROOT = Path(__file__).resolve().parents[2]


def _write(folder: Path, code: str, entries: list[tuple[object, object, str | None]]) -> None:
    catalog = Catalog(locale=code, domain=i18n.DOMAIN, fuzzy=False)
    for msgid, msgstr, context in entries:
        catalog.add(msgid, msgstr, context=context)  # type: ignore[arg-type]
    path = folder / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as out:
        write_po(out, catalog)


@pytest.fixture
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A Russian and a German catalogue of a few messages, in place of the real ones."""
    _write(
        tmp_path,
        "ru",
        [
            ("Hello", "Привет", None),
            ("Scheduled for {when}", "Запланировано на {when}", None),
            ("the bot is no longer an admin there ({detail})", "бот там больше не администратор ({detail})", None),
            ("Telegram refused the message: {detail}", "Telegram отказался принять сообщение: {detail}", None),
            ("the chat no longer exists", "чата больше нет", None),
            (("{count} post", "{count} posts"), ("{count} пост", "{count} поста", "{count} постов"), None),
            ("Now", "Сейчас", "button"),
            ("EEE d MMM", "EEE, d MMM", "date pattern"),
            ("At most {limit} photos, {count} in", "Не больше {limit} фото, уже {count}", None),
        ],
    )
    _write(tmp_path, "de", [("Hello", "Hallo", None)])
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    for cached in (i18n.available, i18n.translations, i18n._stored_patterns):
        cached.cache_clear()
    yield tmp_path
    for cached in (i18n.available, i18n.translations, i18n._stored_patterns):
        cached.cache_clear()
    i18n.set_default("en")


def test_languages_are_the_catalogues_with_english_first(catalogues: Path) -> None:
    assert i18n.available() == ("en", "de", "ru")
    assert [i18n.native_name(code) for code in i18n.available()] == ["English", "Deutsch", "Русский"]


@pytest.mark.parametrize(
    ("chosen", "app", "expected"),
    [
        ("de", "ru", "de"),  # a choice beats the app
        (None, "ru", "ru"),
        (None, "ru-RU", "ru"),  # a region falls back to its language
        (None, "RU", "ru"),
        (None, "uk", "en"),  # a language without a catalogue: the default
        (None, None, "en"),
        ("fr", "de", "de"),  # a choice whose catalogue is gone: the app's
    ],
)
def test_the_language_spoken_is_the_choice_then_the_app_then_the_default(
    catalogues: Path, chosen: str | None, app: str | None, expected: str
) -> None:
    assert i18n.pick(chosen, app) == expected


def test_the_default_language_is_what_people_without_a_known_language_get(catalogues: Path) -> None:
    i18n.set_default("ru")
    assert i18n.pick(None, "uk") == "ru"
    assert i18n.pick(None, None) == "ru"
    i18n.set_default("xx")  # unknown: English
    assert i18n.default() == "en"


def test_messages_plural_forms_and_contexts_follow_the_language(catalogues: Path) -> None:
    assert i18n._("Hello") == "Hello"
    with i18n.speaking("ru"):
        assert i18n._("Hello") == "Привет"
        assert i18n._("Not in the catalogue") == "Not in the catalogue"
        forms = [i18n.ngettext("{count} post", "{count} posts", n).format(count=n) for n in (1, 2, 5, 11, 21, 22)]
        assert forms == ["1 пост", "2 поста", "5 постов", "11 постов", "21 пост", "22 поста"]
        assert i18n.pgettext("button", "Now") == "Сейчас"
        with i18n.speaking("de"):
            assert i18n._("Hello") == "Hallo"
        assert i18n.current() == "ru"
    assert i18n.current() == "en"
    assert [i18n.ngettext("{count} post", "{count} posts", n).format(count=n) for n in (1, 2)] == ["1 post", "2 posts"]


def test_a_translating_module_reads_its_constants_in_the_current_language(catalogues: Path) -> None:
    module = types.ModuleType("herald_test_texts")
    module.GREETING = N_("Hello")  # type: ignore[attr-defined]
    module.LIMIT = N_("At most {limit} photos, {count} in", limit=10)  # type: ignore[attr-defined]
    module.BADGES = {"sent": N_("Hello"), "key": "plain"}  # type: ignore[attr-defined]
    module.PAIRS = [("new", N_("Hello"))]  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        i18n.translating(module.__name__)
        assert module.GREETING == "Hello"
        assert module.LIMIT == "At most 10 photos, {count} in"
        with i18n.speaking("ru"):
            assert module.GREETING == "Привет"
            assert module.LIMIT.format(count=3) == "Не больше 10 фото, уже 3"
            assert module.BADGES == {"sent": "Привет", "key": "plain"}
            assert module.PAIRS == [("new", "Привет")]
    finally:
        del sys.modules[module.__name__]


def test_sentences_stored_in_english_are_shown_in_the_readers_language(catalogues: Path) -> None:
    said = "the bot is no longer an admin there (Forbidden: bot was kicked)"
    with i18n.speaking("ru"):
        assert i18n.stored("the chat no longer exists") == "чата больше нет"
        assert i18n.stored(said) == "бот там больше не администратор (Forbidden: bot was kicked)"
        # A platform's own words inside a template stay as the platform said them.
        assert i18n.stored("Telegram refused the message: Bad Request: message is too long") == (
            "Telegram отказался принять сообщение: Bad Request: message is too long"
        )
        assert i18n.stored("something no catalogue knows") == "something no catalogue knows"
        assert i18n.stored("") == ""
    assert i18n.stored(said) == said


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_english_dates_read_as_they_always_did(moment: datetime) -> None:
    local = moment.replace(tzinfo=ZoneInfo("UTC"))
    with i18n.speaking("en"):
        assert i18n.day_time(local) == f"{local:%a} {local.day} {local:%b} {local:%H:%M}"
        assert i18n.day_year(local) == f"{local:%a} {local.day} {local:%b} {local.year}"
        assert i18n.clock(local) == f"{local:%H:%M}"


def test_russian_dates_numbers_and_relative_times(catalogues: Path) -> None:
    moment = datetime(2026, 12, 2, 14, 5, tzinfo=ZoneInfo("Europe/Moscow"))
    with i18n.speaking("ru"):
        assert i18n.day_time(moment) == "ср, 2 дек. 14:05"
        assert i18n.month_year(date(2026, 3, 1)) == "Март 2026"
        assert i18n.weekday_names()[0] == "Пн"
        assert i18n.relative(timedelta(hours=2)) == "через 2 часа"
        assert i18n.relative(timedelta(minutes=-5)) == "5 минут назад"
        assert i18n.number(12345) == "12\xa0345"
    assert i18n.relative(timedelta(hours=2)) == "in 2 hours"
    assert i18n.number(12345) == "12,345"


def test_the_checker_finds_what_a_catalogue_lacks_or_gets_wrong(catalogues: Path) -> None:
    template = Catalog(domain=i18n.DOMAIN)
    for msgid in [
        "Hello",
        "Scheduled for {when}",
        "<b>Bold</b> {name}",
        "Forgotten",
        "Empty",
        ("{count} post", "{count} posts"),
        ("{count} photo of {name}", "{count} photos of {name}"),
    ]:
        template.add(msgid, None)  # type: ignore[arg-type]
    ours = Catalog(locale="ru", domain=i18n.DOMAIN, fuzzy=False)
    ours.add("Hello", "Привет")
    ours.add("Scheduled for {when}", "Запланировано на {time}")
    ours.add("<b>Bold</b> {name}", "Жирный {name}")
    ours.add("Empty", "")
    ours.add(("{count} post", "{count} posts"), ("{count} пост", "{count} поста"))
    # The singular form may leave {count} out; {name} it must keep.
    ours.add(("{count} photo of {name}", "{count} photos of {name}"), ("одно фото", "{count} фото", "{count} фото"))
    ours.add("Gone from the code", "Ушло")
    found = "\n".join(messages.problems("ru", template, ours))
    assert "'Forgotten' is missing" in found
    assert "'Empty': is not translated" in found
    assert "placeholders the English lacks: ['time']" in found and "lacks placeholders: ['when']" in found
    assert "other HTML tags" in found
    assert "has 2 plural forms, the language has 3" in found
    assert "lacks placeholders: ['name']" in found
    assert "'Gone from the code' is no longer in the code" in found
    assert "Hello" not in found


def _module_level_imports_of_texts(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "handlers.texts":
            found.extend(f"{path.relative_to(ROOT)}: {alias.name}" for alias in node.names if alias.name.isupper())
    return found


def test_no_module_takes_a_text_constant_at_import_time() -> None:
    """`from handlers.texts import CONSTANT` at the top of a module keeps the English forever."""
    files = [*ROOT.glob("handlers/*.py"), *ROOT.glob("publishers/*.py"), *ROOT.glob("scheduler/*.py"), ROOT / "bot.py"]
    assert [found for path in files for found in _module_level_imports_of_texts(path)] == []


def test_the_code_marks_no_message_it_cannot_extract() -> None:
    """`_()` of an f-string, a concatenation or a formatted string is translated by nothing: the
    extractor cannot see it, and no catalogue has it. (`_(NAME)` of an `N_` constant is fine.)"""
    bad = []
    for _name, path in messages._python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called(node) in ("_", "N_"):
                first = node.args[0] if node.args else None
                literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
                built = isinstance(first, ast.JoinedStr | ast.BinOp | ast.Call)
                if first is None or built or (_called(node) == "N_" and not literal):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bad == []


def _called(call: ast.Call) -> str:
    """The name a call calls: `N_(…)` and `i18n.N_(…)` are both "N_"."""
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _marked_constants(tree: ast.Module) -> set[str]:
    """Module-level names bound to an N_ message, or to a container holding one."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            calls = [n for n in ast.walk(node.value) if isinstance(n, ast.Call)]
            if any(_called(call) == "N_" for call in calls):
                found.update(t.id for t in targets if isinstance(t, ast.Name))
    return found


def _bare_reads(tree: ast.Module, names: set[str]) -> list[int]:
    """Lines where a function reads one of `names` other than through a translating call."""
    translating = {"translated", "_"}
    lines = []

    def visit(node: ast.AST, inside_translation: bool) -> None:
        if isinstance(node, ast.Call):
            inside_translation = inside_translation or _called(node) in translating
        read = isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names
        if read and not inside_translation and isinstance(node, ast.Name):
            lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, inside_translation)

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            visit(node, False)
    return lines


def test_texts_functions_read_their_own_constants_translated() -> None:
    """Inside handlers/texts.py a constant is read from the module's dict, not through the
    translating module: a bare `NOT_A_PHOTO` there is English in every language."""
    tree = ast.parse((ROOT / "handlers" / "texts.py").read_text(encoding="utf-8"))
    names = _marked_constants(tree)
    assert len(names) > 50
    assert _bare_reads(tree, names) == []
