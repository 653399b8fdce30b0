"""An /import document read and checked without a chat: CSV and JSON shapes, row numbers as the
person counts them, times in zones on both sides of UTC and across DST, targets by name or id,
limits as Telegram counts them, media references and kinds, buttons, and the document's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from handlers import texts
from handlers.import_rows import (
    MAX_DOCUMENT_BYTES,
    MAX_ROWS,
    DocumentRefused,
    MediaRef,
    PlannedRow,
    RawRow,
    RowProblem,
    check_row,
    check_rows,
    file_name_of,
    find_targets,
    first_words,
    is_import_document,
    media_kind,
    read_document,
    read_media,
    read_row_time,
)
from storage.models import MediaKind, Platform, Target

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TARGETS = [
    Target("tg-1001", "Shop news", "-1001", "channel"),
    Target("tg-1002", "Team chat", "-1002", "supergroup"),
    Target("fb-77", "Shop", "77", account_id="fb1", platform=Platform.FACEBOOK_PAGE),
    Target("fb-78", "shop", "78", account_id="fb2", platform=Platform.FACEBOOK_PAGE),
]


def row(number: int = 2, **fields: str) -> RawRow:
    return RawRow(number, {"time": "2026-12-03 18:30", "targets": "Shop news", "text": "Hello"} | fields)


def refused(checked: PlannedRow | RowProblem) -> list[str]:
    assert isinstance(checked, RowProblem), checked
    return checked.reasons


# -- the document ---------------------------------------------------------------------------------
def test_a_csv_is_read_with_quoted_cells_a_bom_and_rows_numbered_as_a_spreadsheet_does() -> None:
    data = (
        "\ufeffTime, Targets ,text,media,buttons\r\n"
        '2026-12-03 18:30,Shop news;Team chat,"Hello, world\nsecond line",https://x.example/a.jpg,\r\n'
        ",,,,\r\n"
        '2026-12-04 09:00,tg-1001,"He said ""hi""",,"Order - https://shop.example\nMenu - https://shop.example/m"\r\n'
    ).encode()
    rows = read_document(data, "posts.csv")
    assert [one.number for one in rows] == [2, 4]  # the blank row 3 is skipped, not renumbered
    assert rows[0].fields == {
        "time": "2026-12-03 18:30",
        "targets": "Shop news;Team chat",
        "text": "Hello, world\nsecond line",
        "media": "https://x.example/a.jpg",
        "buttons": "",
    }
    assert rows[1].fields["text"] == 'He said "hi"'


def test_a_json_list_or_posts_object_is_read_with_lists_for_targets_and_media() -> None:
    items = [
        {"time": "2026-12-03T18:30:00+01:00", "targets": ["Shop news", "Team chat"], "text": "A", "media": ["file:1"]},
        "not an object",
        {"time": "2026-12-03 18:30", "targets": "Shop news", "txet": "typo"},
        {"time": 5, "targets": "Shop news", "text": "B"},
    ]
    for document in (items, {"posts": items}):
        rows = read_document(json.dumps(document).encode(), "posts.json")
        assert [one.number for one in rows] == [1, 2, 3, 4]
        assert rows[0].fields["targets"] == "Shop news;Team chat" and rows[0].fields["media"] == "file:1"
        assert rows[1].problems and "not an object" in rows[1].problems[0]
        assert rows[2].problems == ("unknown field “txet”",)
        assert rows[3].problems == ("time must be text",)


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"time,targets,text\n", "a.csv", "no_rows"),
        (b"", "a.csv", "no_rows"),
        (b"time,targets,txt\n2026-12-03 18:30,a,b\n", "a.csv", "unknown_columns"),
        (b"time,text\n2026-12-03 18:30,b\n", "a.csv", "missing_columns"),
        (b"time,targets\n2026-12-03 18:30,b\n", "a.csv", "missing_columns"),
        ("time,targets,text\n1,2,caf\xe9\n".encode("latin-1"), "a.csv", "not_utf8"),
        (b'[{"time": "x",}]', "a.json", "bad_json"),
        (b'{"time": "x"}', "a.json", "json_shape"),
        (b"[]", "a.json", "no_rows"),
        (b"x" * (MAX_DOCUMENT_BYTES + 1), "a.csv", "too_big"),
    ],
)
def test_a_document_that_cannot_be_read_is_refused_with_its_reason(data: bytes, name: str, kind: str) -> None:
    with pytest.raises(DocumentRefused) as error:
        read_document(data, name)
    assert error.value.kind == kind


def test_more_rows_than_an_import_takes_are_refused_with_the_count() -> None:
    lines = ["time,targets,text"] + [f"2026-12-03 18:30,Shop news,post {n}" for n in range(MAX_ROWS + 1)]
    with pytest.raises(DocumentRefused) as error:
        read_document("\n".join(lines).encode(), "a.csv")
    assert (error.value.kind, error.value.detail) == ("too_many_rows", str(MAX_ROWS + 1))
    assert len(read_document("\n".join(lines[:-1]).encode(), "a.csv")) == MAX_ROWS


def test_csv_and_json_documents_are_told_from_media_files() -> None:
    assert is_import_document("posts.CSV", "text/csv")
    assert is_import_document("posts.json", None)
    assert is_import_document("export", "application/json")
    assert not is_import_document("menu.pdf", "application/pdf")


# -- times ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "written", "expected"),
    [
        ("Europe/Berlin", "2026-12-03 18:30", datetime(2026, 12, 3, 17, 30, tzinfo=UTC)),
        ("Pacific/Auckland", "2026-12-03 18:30", datetime(2026, 12, 3, 5, 30, tzinfo=UTC)),
        ("America/Los_Angeles", "2026-12-03T18:30:15", datetime(2026, 12, 4, 2, 30, 15, tzinfo=UTC)),
        ("Pacific/Auckland", "2026-12-03T18:30:00+01:00", datetime(2026, 12, 3, 17, 30, tzinfo=UTC)),
        ("America/Los_Angeles", "2026-12-03T18:30:00Z", datetime(2026, 12, 3, 18, 30, tzinfo=UTC)),
    ],
)
def test_a_local_time_is_read_in_the_persons_zone_and_an_offset_wins(
    zone: str, written: str, expected: datetime
) -> None:
    assert read_row_time(written, zone, NOW) == (expected, None)


def test_a_local_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_first() -> None:
    spring = datetime(2027, 3, 20, tzinfo=UTC)
    when, problem = read_row_time("2027-03-28 02:30", "Europe/Berlin", spring)
    assert when is None and problem == "02:30 does not exist on 28 Mar 2027 in Europe/Berlin (the clocks go forward)"
    when, problem = read_row_time("2027-03-14 02:30", "America/New_York", datetime(2027, 3, 1, tzinfo=UTC))
    assert when is None and problem is not None and "America/New_York" in problem
    autumn = datetime(2027, 10, 20, tzinfo=UTC)
    assert read_row_time("2027-10-31 02:30", "Europe/Berlin", autumn) == (
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        None,
    )


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("", "no time"),
        ("tomorrow 9am", "bad time “tomorrow 9am”"),
        ("2026-12-03", "bad time “2026-12-03”"),
        ("2026-02-30 10:00", "no such date or time"),
        ("2026-12-03 25:00", "no such date or time"),
        ("2026-12-02 11:00", "past time (2026-12-02 11:00)"),
        ("2028-01-01 10:00", "more than a year ahead"),
    ],
)
def test_a_bad_past_or_far_time_is_named(written: str, reason: str) -> None:
    when, problem = read_row_time(written, "UTC", NOW)
    assert when is None and problem is not None and reason in problem


def test_past_depends_on_the_zone_east_and_west_of_utc() -> None:
    # 12:00 UTC is 01:00 the next day in Auckland and 04:00 the same day in Los Angeles.
    assert read_row_time("2026-12-03 00:30", "Pacific/Auckland", NOW)[1] == "past time (2026-12-03 00:30)"
    assert read_row_time("2026-12-02 05:00", "America/Los_Angeles", NOW)[0] is not None


# -- targets, text, media, buttons ----------------------------------------------------------------
def test_targets_are_found_by_name_id_or_address_and_unknown_or_ambiguous_ones_named() -> None:
    assert find_targets("Shop news; tg-1002 ;-1001", TARGETS) == (["tg-1001", "tg-1002"], [])
    assert find_targets("shop NEWS", TARGETS) == (["tg-1001"], [])
    assert find_targets("Nowhere;Shop news", TARGETS) == (["tg-1001"], ["unknown target “Nowhere”"])
    assert find_targets("SHOP", TARGETS) == ([], ["“SHOP” names 2 targets: write its id instead"])
    assert find_targets("fb-78", TARGETS) == (["fb-78"], [])
    assert find_targets(" ; ", TARGETS) == ([], ["no targets"])


def test_a_text_over_telegrams_limit_counted_in_utf16_is_refused() -> None:
    fits = "😀" * 2048  # 4,096 UTF-16 code units
    assert isinstance(check_row(row(text=fits), "UTC", NOW, TARGETS, 0), PlannedRow)
    assert refused(check_row(row(text=fits + "a"), "UTC", NOW, TARGETS, 0)) == [
        "text too long (4097 characters; at most 4096)"
    ]


def test_media_are_http_urls_or_files_sent_in_this_import() -> None:
    refs, problems = read_media("https://x.example/a.jpg; file:2 ;http://x.example/b", 2)
    assert refs == [
        MediaRef(url="https://x.example/a.jpg"),
        MediaRef(file_number=2),
        MediaRef(url="http://x.example/b"),
    ]
    assert problems == []
    _, problems = read_media("ftp://x.example/a.jpg;file:3;javascript:alert(1);x.example/a.jpg", 2)
    assert problems == [
        "“ftp://x.example/a.jpg” is not an http(s) URL",
        "file:3: only 2 file(s) were sent in this import",
        "“javascript:alert(1)” is not an http(s) URL",
        "“x.example/a.jpg” is not an http(s) URL",
    ]
    _, problems = read_media("file:1", 0)
    assert problems == ["file:1: no file was sent in this import (send the files before the document)"]
    _, problems = read_media(";".join(f"https://x.example/{n}.jpg" for n in range(11)), 0)
    assert problems == ["11 media; a post holds at most 10"]


@pytest.mark.parametrize(
    ("name", "content_type", "kind"),
    [
        ("https://x.example/a.jpg", "image/jpeg", MediaKind.PHOTO),
        ("https://x.example/a", "image/png; charset=binary", MediaKind.PHOTO),
        ("https://x.example/a.gif?size=2", "application/octet-stream", MediaKind.ANIMATION),
        ("https://x.example/clip.MP4", "", MediaKind.VIDEO),
        ("https://x.example/song.mp3", None, MediaKind.AUDIO),
        ("https://x.example/menu.pdf", "application/pdf", MediaKind.DOCUMENT),
        ("https://x.example/a.jpg", "text/html", None),  # an error page, not the photo
        ("https://x.example/page", "application/octet-stream", None),
        ("https://x.example/a.exe", "", None),
    ],
)
def test_a_downloaded_files_kind_comes_from_its_type_else_its_name(
    name: str, content_type: str | None, kind: MediaKind | None
) -> None:
    assert media_kind(name, content_type) == kind


def test_buttons_in_the_content_steps_syntax_are_kept_or_their_problems_named() -> None:
    checked = check_row(row(buttons="Order - https://shop.example | Code - copy: SPRING"), "UTC", NOW, TARGETS, 0)
    assert isinstance(checked, PlannedRow)
    assert [[one.label for one in line] for line in checked.buttons] == [["Order", "Code"]]
    reasons = refused(check_row(row(buttons="Order https://shop.example"), "UTC", NOW, TARGETS, 0))
    assert reasons == ["buttons: line 1: “Order https://shop.example” has no link: write it as Label - https://…"]


def test_a_row_with_several_problems_names_each_and_good_rows_keep_their_order() -> None:
    rows = [
        row(2),
        row(3, time="yesterday", targets="Nowhere", text=""),
        row(4, time="2026-12-05 10:00", text="", media="file:1"),
    ]
    planned, problems = check_rows(rows, "Europe/Berlin", NOW, TARGETS, 1)
    assert [one.number for one in planned] == [2, 4]
    assert planned[0].when == datetime(2026, 12, 3, 17, 30, tzinfo=UTC)
    assert planned[1].media == [MediaRef(file_number=1)]
    assert len(problems) == 1 and problems[0].number == 3
    assert problems[0].reasons[1:] == ["unknown target “Nowhere”", "nothing to post: no text and no media"]
    assert problems[0].reasons[0].startswith("bad time “yesterday”")


def test_the_preview_shows_the_first_words_cut_at_a_word() -> None:
    assert first_words("Hello   world\nagain") == "Hello world again"
    assert first_words("Big spring sale on every bicycle in the shop today", 30) == "Big spring sale on every…"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_csv_saved_with_semicolons_or_tabs_is_read_as_well(delimiter: str) -> None:
    header = delimiter.join(["time", "targets", "text"])
    line = delimiter.join(["2026-12-03 18:30", '"Shop news;Team chat"', '"Hi, there"'])
    [one] = read_document(f"{header}\n{line}\n".encode(), "posts.csv")
    assert one.fields == {"time": "2026-12-03 18:30", "targets": "Shop news;Team chat", "text": "Hi, there"}


def test_a_preview_line_names_a_few_targets_or_reasons_and_counts_the_rest() -> None:
    reasons = [f"unknown target “T{n}”" for n in range(40)]
    line = texts.import_problem_line(7, reasons)
    assert line.startswith("• row 7 — unknown target “T0”; ") and line.endswith("; and 35 more")
    assert "T5" not in line
    named = texts.import_row_line(2, "Tue 3 Dec 18:30", [f"Channel {n}" for n in range(7)], "Hi", 0)
    assert (
        named == "• row 2 — Tue 3 Dec 18:30 → Channel 0, Channel 1, Channel 2, Channel 3, Channel 4, and 2 more — “Hi”"
    )


@pytest.mark.parametrize(
    ("url", "kind", "mime", "name"),
    [
        ("https://x.example/shop/spring.jpg?w=2", MediaKind.PHOTO, "image/jpeg", "spring.jpg"),
        ("https://x.example/photo", MediaKind.PHOTO, "image/png", "photo.png"),
        ("https://x.example/", MediaKind.VIDEO, "", "video-3.mp4"),
        ("https://x.example/" + "n" * 80 + ".pdf", MediaKind.DOCUMENT, "application/pdf", "document-3.pdf"),
    ],
)
def test_a_downloaded_file_is_named_after_its_url_with_an_extension(
    url: str, kind: MediaKind, mime: str, name: str
) -> None:
    assert file_name_of(url, kind, 3, mime) == name
