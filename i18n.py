"""Herald's languages: every sentence the bot says goes through gettext here.

The source language is English; a language is one catalogue, `locales/<code>/LC_MESSAGES/herald.po`
(Babel reads it at start: nothing is compiled by hand). Which language a piece of code speaks is the
context's (`contextvars`): the chat layer sets it per update from the user's choice (/language) or
their Telegram app's language, and the scheduler sets it around each report from the owner's.

How code marks what it says:
- `_("text {name}")` inside a function: translated when it runs; `.format(...)` after.
- `ngettext("{count} post", "{count} posts", n)`: plural forms as each language has them.
- `pgettext("context", "text")`: one English word that two languages say differently.
- `N_("text")` at module level (a constant): marked for extraction, translated when read — a module
  that calls `translating(__name__)` translates such constants on attribute access (`texts.X`);
  elsewhere pass the constant through `_()` where it is shown.
- Dates, times, numbers and "in 2 hours" through `day_time`, `clock`, `relative`, `number`….
"""

from __future__ import annotations

import gettext
import re
import sys
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import date, datetime, time, timedelta
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "herald"
SOURCE = "en"
LOCALES = Path(__file__).resolve().parent / "locales"

_current: ContextVar[str] = ContextVar("herald_language", default=SOURCE)
# The language spoken where nothing chose one (DEFAULT_LANGUAGE); set once at start.
_default = SOURCE


# -- which languages there are -------------------------------------------------------------------
def catalogue_path(code: str) -> Path:
    return LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def available() -> tuple[str, ...]:
    """Language codes Herald speaks: English, then each language with a catalogue, sorted."""
    found = sorted(p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE, *(code for code in found if code != SOURCE))


def native_name(code: str) -> str:
    """The language's name in itself, capitalised: "English", "Русский"."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def supported(code: str | None) -> str | None:
    """The available language a Telegram `language_code` ("ru", "pt-br", "en-US") asks for, or None."""
    if not code:
        return None
    wanted = code.replace("-", "_").strip()
    by_lower = {language.lower(): language for language in available()}
    return by_lower.get(wanted.lower()) or by_lower.get(wanted.split("_")[0].lower())


def set_default(code: str) -> None:
    """The language for whoever chose none and whose app's language Herald lacks."""
    global _default
    _default = supported(code) or SOURCE


def default() -> str:
    return _default


def pick(chosen: str | None, telegram_code: str | None) -> str:
    """The language to speak to someone: their /language choice, else their app's, else the default."""
    return supported(chosen) or supported(telegram_code) or _default


# -- which language this context speaks ------------------------------------------------------------
def current() -> str:
    return _current.get()


def use(code: str) -> Token[str]:
    """Speak `code` for the rest of this context (an update's handling); returns the token to reset."""
    return _current.set(supported(code) or _default)


@contextmanager
def speaking(code: str | None) -> Iterator[str]:
    """Speak `code` (None: the default) within the block."""
    token = _current.set(supported(code) or _default)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


# -- catalogues -------------------------------------------------------------------------------------
@cache
def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalogue of `code` (fuzzy and empty entries left out: English shows instead)."""
    path = catalogue_path(code)
    if code == SOURCE or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=code, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """`message` in the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of the message for `count` in the current language (Russian has three)."""
    return translations(_current.get()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """`message` in the current language, told apart from the same English in another `context`."""
    return translations(_current.get()).pgettext(context, message)


class Msg(str):
    """A module-level message marked with `N_`: English until read through a translating module
    (or `_()`); `preset` fills placeholders known when the module loads (limits, sizes)."""

    preset: Mapping[str, Any]

    def __new__(cls, message: str, preset: Mapping[str, Any] | None = None) -> Msg:
        made = super().__new__(cls, _filled(message, preset or {}))
        made.preset = dict(preset or {})
        made.msgid = message
        return made

    msgid: str

    def translated(self) -> str:
        return _filled(translations(_current.get()).gettext(self.msgid), self.preset)


class _Keep(dict[str, Any]):
    """Placeholders not preset stay as they are, for the caller's `.format`."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _filled(message: str, preset: Mapping[str, Any]) -> str:
    return message.format_map(_Keep(preset)) if preset else message


def N_(message: str, **preset: Any) -> Msg:
    """Marks a constant for translation; placeholders in `preset` are filled once translated."""
    return Msg(message, preset)


def translated(value: Any) -> Any:
    """`value` with every `N_` message in it (also inside dicts, lists and tuples) translated now."""
    if isinstance(value, Msg):
        return value.translated()
    kind = type(value)
    if kind is dict:
        return {key: translated(item) for key, item in value.items()}
    if kind is list:
        return [translated(item) for item in value]
    if kind is tuple:
        return tuple(translated(item) for item in value)
    return value


class _TranslatingModule(types.ModuleType):
    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        return value if name.startswith("__") else translated(value)


def translating(module_name: str) -> None:
    """Makes `module.CONSTANT` read in the current language for every `N_` constant of the module
    (call at the end of the module: `translating(__name__)`). `from module import CONSTANT` at
    import time would keep the English; tests/test_i18n.py refuses it."""
    sys.modules[module_name].__class__ = _TranslatingModule


# -- sentences stored in English (a delivery's reason), shown in the reader's language -------------
@cache
def _stored_patterns(code: str) -> list[tuple[re.Pattern[str], str, list[str]]]:
    """(English as a pattern, msgid, placeholder names) for each message of `code` with placeholders,
    the most specific first."""
    catalog = translations(code)
    messages = getattr(catalog, "_catalog", {})
    found = []
    for msgid in messages:
        if not isinstance(msgid, str) or "{" not in msgid or "\x04" in msgid:
            continue
        names = re.findall(r"\{(\w+)\}", msgid)
        literal = re.sub(r"\{\w+\}", "", msgid)
        if not names or len(literal.strip()) < 4:
            continue
        pattern = "".join(
            f"(?P<{part[1:-1]}>.+?)" if re.fullmatch(r"\{\w+\}", part) else re.escape(part)
            for part in re.split(r"(\{\w+\})", msgid)
            if part
        )
        try:
            found.append((re.compile(pattern + r"\Z", re.S), msgid, names, len(literal)))
        except re.error:  # a placeholder twice: not a stored sentence
            continue
    found.sort(key=lambda item: -item[3])
    return [(pattern, msgid, names) for pattern, msgid, names, _size in found]


def stored(text: str) -> str:
    """A sentence Herald stored in English (a delivery's reason, a note) in the current language:
    the catalogue's own translation, or, for a message with placeholders, the translation with the
    stored values put back. What no catalogue knows (a platform's own words) is shown as it is."""
    code = _current.get()
    if code == SOURCE or not text:
        return text
    catalog = translations(code)
    direct = catalog.gettext(text)
    if direct != text:
        return direct
    for pattern, msgid, _names in _stored_patterns(code):
        matched = pattern.match(text)
        if matched:
            values = {name: stored(value) for name, value in matched.groupdict().items()}
            return catalog.gettext(msgid).format(**values)
    return text


# -- dates, times, numbers --------------------------------------------------------------------------
# The patterns are CLDR's (https://unicode.org/reports/tr35/tr35-dates.html): a translator may
# reorder them for their language ("d MMM, EEE"); "EEE" is the weekday, "MMM" the month, "y" the year.
def _locale() -> Locale:
    return Locale.parse(_current.get())


def clock(moment: datetime | time) -> str:
    """ "14:05" — Herald's times are 24-hour in every language."""
    return f"{moment:%H:%M}"


def day(moment: date | datetime) -> str:
    """ "Wed 2 Dec"."""
    return babel_dates.format_date(moment, pgettext("date pattern", "EEE d MMM"), locale=_locale())


def day_year(moment: date | datetime) -> str:
    """ "Wed 2 Dec 2026"."""
    return babel_dates.format_date(moment, pgettext("date pattern", "EEE d MMM y"), locale=_locale())


def date_year(moment: date | datetime) -> str:
    """ "2 Dec 2026" (no weekday)."""
    return babel_dates.format_date(moment, pgettext("date pattern", "d MMM y"), locale=_locale())


def day_time(moment: datetime) -> str:
    """ "Wed 2 Dec 14:05" (the moment as it is given: convert to the user's zone first)."""
    return f"{day(moment)} {clock(moment)}"


def day_year_time(moment: datetime) -> str:
    """ "Wed 2 Dec 2026 14:05"."""
    return f"{day_year(moment)} {clock(moment)}"


def month_year(moment: date | datetime) -> str:
    """ "December 2026" (the month named on its own, as a calendar's title)."""
    title = babel_dates.format_date(moment, pgettext("date pattern", "LLLL y"), locale=_locale())
    return title[:1].upper() + title[1:]


def weekday_names(width: str = "abbreviated") -> list[str]:
    """Monday first: ["Mon", "Tue", …] (width "abbreviated", "short", "narrow" or "wide"),
    standalone forms, capitalised."""
    names = _locale().days["stand-alone"][width]
    return [names[index][:1].upper() + names[index][1:] for index in range(7)]


def month_names(width: str = "abbreviated") -> list[str]:
    """January first, standalone forms."""
    names = _locale().months["stand-alone"][width]
    return [names[index] for index in range(1, 13)]


def relative(delta: timedelta) -> str:
    """ "in 2 hours", "5 minutes ago" — rounded as people say it."""
    return babel_dates.format_timedelta(delta, add_direction=True, threshold=1.0, locale=_locale())


def duration(delta: timedelta, width: Literal["narrow", "short", "medium", "long"] = "short") -> str:
    """ "2 hr", "3 days" (width "long": "2 hours")."""
    return babel_dates.format_timedelta(delta, threshold=1.0, format=width, locale=_locale())


def number(value: int | float) -> str:
    """ "1,234" in English, "1 234" in Russian."""
    return babel_numbers.format_decimal(value, locale=_locale())


# -- added by i18nC
def decimal(value: float, digits: int = 1) -> str:
    """ "1,234.5" in English, "1 234,5" in Russian: `value` with `digits` decimals (a size in MB),
    rounded as Python rounds it."""
    written = f"{value:,.{digits}f}"
    group, point = babel_numbers.get_group_symbol(_locale()), babel_numbers.get_decimal_symbol(_locale())
    return "".join(group if char == "," else point if char == "." else char for char in written)


# -- added by i18nA
def day_month(moment: date | datetime) -> str:
    """ "2 Dec" (no weekday, no year): a day named beside a time of that day."""
    return babel_dates.format_date(moment, pgettext("date pattern", "d MMM"), locale=_locale())


def month_in_date(month: int) -> str:
    """The month (1–12) as it is said in a date, after the day: "February", "февраля"."""
    return str(_locale().months["format"]["wide"][month])
