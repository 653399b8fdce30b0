"""An /import document read and checked, row by row, before anything is stored: pure functions,
no chat and no network.

A document is CSV (a header row naming the columns) or JSON (a list of objects, or an object
whose "posts" is that list), with the fields `time`, `targets`, `text`, `media` and `buttons`:

- time: ISO 8601 with an offset (`2026-12-01T18:30:00+01:00`, `…Z`), or the person's local
  `YYYY-MM-DD HH:MM` (seconds allowed), read in their zone;
- targets: names or ids of their targets, `;` between them (a JSON list works too);
- text: the post's text (plain);
- media: URLs (http or https) or `file:<n>`, the n-th file the person sent in this import, `;`
  between them (a JSON list works too);
- buttons: the content step's syntax, one row a line (see handlers/buttons.py).

Rows are numbered as the person counts them: in a CSV as the spreadsheet does (the header is
row 1), in JSON from 1. A row with problems is reported with every one of them, and left out.
The reasons are in the person's language (shown at once, never stored); the column names, the
`file:<n>` references and the time formats are written the same in every language."""

from __future__ import annotations

import csv
import io
import json
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import i18n
from handlers.buttons import parse_buttons
from handlers.when import check_time, place
from i18n import _, ngettext
from publishers.telegram_layout import TEXT_LIMIT, utf16_len
from storage.models import MAX_IMAGES, Button, MediaKind, Target

MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_ROWS = 200
# Files a person may send in one import, to refer to as file:1, file:2…
MAX_FILES = 50
COLUMNS = ("time", "targets", "text", "media", "buttons")
URL_LIMIT = 2048
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)
_FILE_REF = re.compile(r"^file:\s*(\d{1,4})$", re.IGNORECASE)

# What a downloaded file is, by its Content-Type, else by the extension of its name.
KIND_OF_MIME = {
    "image/jpeg": MediaKind.PHOTO,
    "image/png": MediaKind.PHOTO,
    "image/webp": MediaKind.PHOTO,
    "image/gif": MediaKind.ANIMATION,
    "video/mp4": MediaKind.VIDEO,
    "video/quicktime": MediaKind.VIDEO,
    "video/webm": MediaKind.VIDEO,
    "audio/mpeg": MediaKind.AUDIO,
    "audio/mp4": MediaKind.AUDIO,
    "audio/ogg": MediaKind.AUDIO,
    "audio/flac": MediaKind.AUDIO,
    "audio/wav": MediaKind.AUDIO,
    "audio/x-wav": MediaKind.AUDIO,
    "application/pdf": MediaKind.DOCUMENT,
    "application/zip": MediaKind.DOCUMENT,
    "text/plain": MediaKind.DOCUMENT,
    "text/csv": MediaKind.DOCUMENT,
    "application/msword": MediaKind.DOCUMENT,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": MediaKind.DOCUMENT,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": MediaKind.DOCUMENT,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": MediaKind.DOCUMENT,
    "application/vnd.ms-excel": MediaKind.DOCUMENT,
    "application/epub+zip": MediaKind.DOCUMENT,
}
KIND_OF_EXTENSION = {
    **dict.fromkeys(("jpg", "jpeg", "png", "webp"), MediaKind.PHOTO),
    "gif": MediaKind.ANIMATION,
    **dict.fromkeys(("mp4", "mov", "m4v", "webm"), MediaKind.VIDEO),
    **dict.fromkeys(("mp3", "m4a", "ogg", "oga", "flac", "wav"), MediaKind.AUDIO),
    **dict.fromkeys(
        ("pdf", "zip", "txt", "csv", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "epub"),
        MediaKind.DOCUMENT,
    ),
}
# A Content-Type that says nothing of what the file is: its name's extension decides.
GENERIC_MIME = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/binary"})


class DocumentRefused(ValueError):
    """The document as a whole cannot be imported: `kind` of reason ("too_big", "not_utf8",
    "bad_csv", "bad_json", "json_shape", "unknown_columns", "missing_columns", "no_rows",
    "too_many_rows") and its `detail` (a size, a count, the names, the parser's words)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class RawRow:
    """One row as written: its number as the person counts, its fields (missing ones empty), and
    what is wrong with its shape before any field is read (a JSON item that is not an object)."""

    number: int
    fields: dict[str, str]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class MediaRef:
    """One media item of a row: a URL to download, or the number of a file sent in this import."""

    url: str = ""
    file_number: int = 0


@dataclass(frozen=True)
class PlannedRow:
    """A row that will become a post, once confirmed."""

    number: int
    when: datetime
    target_ids: list[str]
    text: str
    media: list[MediaRef] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)


@dataclass(frozen=True)
class RowProblem:
    """A row left out, and why (each problem of it)."""

    number: int
    reasons: list[str]


# -- reading the document -------------------------------------------------------------------------
def is_import_document(file_name: str | None, mime_type: str | None) -> bool:
    """True if a sent document is an import (CSV or JSON), not a media file for the import."""
    name = (file_name or "").lower()
    mime = (mime_type or "").lower()
    return name.endswith((".csv", ".json")) or mime in ("text/csv", "application/json")


def read_document(data: bytes, file_name: str, mime_type: str = "") -> list[RawRow]:
    """The rows of a CSV or JSON document; raises DocumentRefused with the reason it cannot be read."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused("too_big", f"{len(data)}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentRefused("not_utf8") from error
    is_json = file_name.lower().endswith(".json") or mime_type.lower() == "application/json"
    rows = _json_rows(text) if is_json else _csv_rows(text)
    if not rows:
        raise DocumentRefused("no_rows")
    if len(rows) > MAX_ROWS:
        raise DocumentRefused("too_many_rows", f"{len(rows)}")
    return rows


def _delimiter(text: str) -> str:
    """The CSV's delimiter: a comma, or the semicolon or tab a spreadsheet in many languages saves
    with — whichever splits the header into column names Herald knows."""
    header = text.split("\n", 1)[0].lower()
    counts = {
        delimiter: sum(name.strip().strip('"') in COLUMNS for name in header.split(delimiter))
        for delimiter in (",", ";", "\t")
    }
    return max(counts, key=lambda delimiter: counts[delimiter])


def _csv_rows(text: str) -> list[RawRow]:
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error as error:
        raise DocumentRefused("bad_csv", f"{error}") from error
    if not records:
        raise DocumentRefused("no_rows")
    header = [name.strip().lower() for name in records[0]]
    _check_columns([name for name in header if name])
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # a blank line: nothing to import, nothing wrong
        problems: tuple[str, ...] = ()
        if len(record) > len(header):
            problems = (
                _("{cells}, but the header names {columns}").format(
                    cells=ngettext("{count} cell", "{count} cells", len(record)).format(count=len(record)),
                    columns=ngettext("{count} column", "{count} columns", len(header)).format(count=len(header)),
                ),
            )
        fields = {name: cell.strip() for name, cell in zip(header, record, strict=False) if name}
        rows.append(RawRow(number, fields, problems))
    return rows


def _check_columns(names: list[str]) -> None:
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise DocumentRefused("unknown_columns", ", ".join(unknown))
    missing = [name for name in ("time", "targets") if name not in names]
    if missing:
        raise DocumentRefused("missing_columns", ", ".join(missing))
    if "text" not in names and "media" not in names:
        # i18n: the column names "text" and "media" are written in English in every language.
        raise DocumentRefused("missing_columns", _("text or media"))


def _json_rows(text: str) -> list[RawRow]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentRefused(
            "bad_json", _("line {line}: {problem}").format(line=error.lineno, problem=error.msg)
        ) from error
    if isinstance(document, dict) and isinstance(document.get("posts"), list):
        document = document["posts"]
    if not isinstance(document, list):
        raise DocumentRefused("json_shape")
    rows = []
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            rows.append(RawRow(number, {}, (_("not an object with time, targets, text…"),)))
            continue
        fields: dict[str, str] = {}
        problems = []
        for name, value in item.items():
            if name not in COLUMNS:
                problems.append(_("unknown field “{name}”").format(name=_short(str(name))))
                continue
            written = _json_field(name, value)
            if written is None:
                if name == "time":
                    problems.append(_("{name} must be text").format(name=name))
                else:
                    problems.append(_("{name} must be text or a list of texts").format(name=name))
            else:
                fields[name] = written
        rows.append(RawRow(number, fields, tuple(problems)))
    return rows


def _json_field(name: str, value: Any) -> str | None:
    """A JSON field as the CSV cell it stands for; None if it has no such form."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if name != "time" and isinstance(value, list) and all(isinstance(part, str) for part in value):
        joiner = "\n" if name in ("buttons", "text") else ";"
        return joiner.join(part.strip() for part in value)
    return None


# -- checking a row -------------------------------------------------------------------------------
def read_row_time(written: str, zone: str, now: datetime) -> tuple[datetime | None, str | None]:
    """(the UTC time a row names, None) or (None, why it cannot be used)."""
    if not written:
        return None, _("no time")
    if not _TIME.match(written):
        return None, _("bad time “{time}”: write 2026-12-01 18:30 (your zone) or ISO 8601 with an offset").format(
            time=_short(written)
        )
    try:
        parsed = datetime.fromisoformat(written.replace(" ", "T", 1))
    except ValueError:
        return None, _("bad time “{time}”: no such date or time").format(time=_short(written))
    if parsed.tzinfo is not None:
        when = parsed.astimezone(UTC)
    else:
        placed = place(parsed, zone)
        if placed.skipped:
            return None, _("{clock} does not exist on {date} in {zone} (the clocks go forward)").format(
                clock=i18n.clock(parsed), date=i18n.date_year(parsed), zone=zone
            )
        when = placed.when
    checked = check_time(when, now)
    if checked.problem == "past":
        return None, _("past time ({time})").format(time=written)
    if checked.problem == "too_far":
        return None, _("more than a year ahead ({time})").format(time=written)
    return checked.when, None


def find_targets(written: str, targets: list[Target]) -> tuple[list[str], list[str]]:
    """(ids of the targets named, problems): each name or id matched among the person's targets
    (by id, the platform's address, or the name, case aside)."""
    ids: list[str] = []
    problems = []
    for wanted in (part.strip() for part in written.split(";")):
        if not wanted:
            continue
        exact = [target for target in targets if wanted in (target.target_id, target.address)]
        named = [target for target in targets if target.name.casefold() == wanted.casefold()]
        found = exact or named
        if not found:
            problems.append(_("unknown target “{name}”").format(name=_short(wanted)))
        elif len(found) > 1:
            problems.append(
                ngettext(
                    "“{name}” names {count} target: write its id instead",
                    "“{name}” names {count} targets: write its id instead",
                    len(found),
                ).format(name=_short(wanted), count=len(found))
            )
        elif found[0].target_id not in ids:
            ids.append(found[0].target_id)
    if not ids and not problems:
        problems.append(_("no targets"))
    return ids, problems


def read_media(written: str, files: int) -> tuple[list[MediaRef], list[str]]:
    """(the media items a row names, problems): http(s) URLs and `file:<n>` of the `files` sent."""
    refs: list[MediaRef] = []
    problems = []
    for item in (part.strip() for part in written.split(";")):
        if not item:
            continue
        if found := _FILE_REF.match(item):
            number = int(found.group(1))
            if 1 <= number <= files:
                refs.append(MediaRef(file_number=number))
            elif files:
                problems.append(
                    ngettext(
                        "{item}: only {count} file(s) were sent in this import",
                        "{item}: only {count} file(s) were sent in this import",
                        files,
                    ).format(item=item, count=files)
                )
            else:
                problems.append(
                    _("{item}: no file was sent in this import (send the files before the document)").format(item=item)
                )
            continue
        parts = urlsplit(item)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            problems.append(_("“{url}” is not an http(s) URL").format(url=_short(item)))
        elif len(item) > URL_LIMIT or any(character.isspace() for character in item):
            problems.append(_("“{url}” is not a usable URL").format(url=_short(item)))
        else:
            refs.append(MediaRef(url=item))
    if len(refs) > MAX_IMAGES:
        problems.append(_("{count} media; a post holds at most {limit}").format(count=len(refs), limit=MAX_IMAGES))
    return refs, problems


def check_row(row: RawRow, zone: str, now: datetime, targets: list[Target], files: int) -> PlannedRow | RowProblem:
    """The post a row will become, or every reason it cannot (media downloads are checked later)."""
    problems = list(row.problems)
    fields = row.fields
    when, time_problem = read_row_time(fields.get("time", ""), zone, now)
    if time_problem:
        problems.append(time_problem)
    target_ids, target_problems = find_targets(fields.get("targets", ""), targets)
    problems += target_problems
    text = fields.get("text", "")
    length = utf16_len(text)
    if length > TEXT_LIMIT:
        problems.append(
            ngettext(
                "text too long ({count} character; at most {limit})",
                "text too long ({count} characters; at most {limit})",
                length,
            ).format(count=length, limit=TEXT_LIMIT)
        )
    media, media_problems = read_media(fields.get("media", ""), files)
    problems += media_problems
    buttons: list[list[Button]] = []
    if fields.get("buttons", "").strip():
        parsed = parse_buttons(fields["buttons"])
        problems += [_("buttons: {problem}").format(problem=problem) for problem in parsed.problems]
        buttons = parsed.rows
    if not text.strip() and not media and not media_problems:
        problems.append(_("nothing to post: no text and no media"))
    if problems or when is None:
        return RowProblem(row.number, problems)
    return PlannedRow(row.number, when, target_ids, text, media, buttons)


def check_rows(
    rows: list[RawRow], zone: str, now: datetime, targets: list[Target], files: int
) -> tuple[list[PlannedRow], list[RowProblem]]:
    """The rows that will become posts, and those left out with their reasons, in document order."""
    planned: list[PlannedRow] = []
    refused: list[RowProblem] = []
    for row in rows:
        checked = check_row(row, zone, now, targets, files)
        if isinstance(checked, PlannedRow):
            planned.append(checked)
        else:
            refused.append(checked)
    return planned, refused


def media_kind(name: str, content_type: str | None) -> MediaKind | None:
    """What a downloaded file is: by its Content-Type, or by its name's extension when the type
    says nothing; None when neither names a photo, video, GIF, audio file or document."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in KIND_OF_MIME:
        return KIND_OF_MIME[mime]
    if mime not in GENERIC_MIME:
        return None
    suffix = PurePosixPath(urlsplit(name).path if "://" in name else name).suffix.lower().lstrip(".")
    return KIND_OF_EXTENSION.get(suffix)


def file_name_of(url: str, kind: MediaKind, number: int, mime_type: str = "") -> str:
    """A name for a file downloaded from `url`: the last part of its path (with the extension its
    type has, when it has none), or one made up."""
    last = PurePosixPath(urlsplit(url).path).name
    extension = mimetypes.guess_extension(mime_type) if mime_type else None
    if not extension:
        extension = "." + {"photo": "jpg", "animation": "gif", "video": "mp4", "audio": "mp3"}.get(kind.value, "bin")
    if not last or len(last) > 64:
        return f"{kind.value}-{number}{extension}"
    return last if PurePosixPath(last).suffix else last + extension


def first_words(text: str, limit: int = 40) -> str:
    """The start of a text on one line, cut at a word with … when longer than `limit`."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + "…"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
