"""/import end to end: the bot polling the fake Bot API, a person sending a CSV or JSON document
(and files before it), media by URL from a web server on 127.0.0.1; a dry run that names every
bad row, nothing stored before Store, the posts published at their time, Cancel leaving nothing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers import texts
from handlers.import_rows import MAX_ROWS
from storage import Store
from storage.models import MediaKind, PostView, utc_now
from tests.e2e.conftest import ALICE, BOB, Person, bot_running, bot_settings, eventually
from tests.e2e.steps import add_chat, texts_in
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.media_server import MediaServer, Served

SHOP, TEAM, BOBS = -1001234567890, -1001234567891, -1001234567892
PHOTO = bytes([0xFF, 0xD8, 0xFF]) + b"a photo from the web" * 300
SENT_PHOTO = bytes([0xFF, 0xD8, 0xFF]) + b"a photo sent in the chat" * 300


@pytest.fixture
def alice(api: FakeBotAPI) -> Person:
    """Alice administers Shop news and Team chat; Bob's channel is not hers."""
    add_chat(api, SHOP, "Shop news")
    add_chat(api, TEAM, "Team chat", "supergroup")
    add_chat(api, BOBS, "Bob's corner", by=BOB)
    return Person(api, ALICE)


@pytest.fixture
async def web() -> AsyncIterator[MediaServer]:
    async with MediaServer() as server:
        yield server


def csv_of(*rows: str) -> bytes:
    return ("time,targets,text,media\n" + "\n".join(rows) + "\n").encode()


async def send_document(person: Person, data: bytes, name: str, expect: str) -> dict[str, object]:
    before = person.snapshot()
    person.api.send_document(person.user_id, data, name)
    return await person.expect(expect, since=before, timeout=15)


async def posts_of(store: Store) -> list[str]:
    return [post.main_caption for post in (await store.list_posts(ALICE, PostView.UPCOMING, per_page=50)).posts]


async def test_a_csv_with_bad_rows_names_each_and_the_good_post_goes_out_at_its_time(
    api: FakeBotAPI, alice: Person, database_url: str, encryption_key: str, web: MediaServer
) -> None:
    photo = web.serve("/shop/spring.jpg", Served(PHOTO, "image/jpeg"))
    page = web.serve("/shop/spring", Served(b"<html>a page</html>", "text/html"))
    due = (utc_now() + timedelta(seconds=6)).replace(microsecond=0)
    settings = bot_settings(api, database_url, encryption_key, import_private_urls=True)
    async with bot_running(settings) as store:
        await alice.say("/import", expect="Import posts")
        document = csv_of(
            f"{due:%Y-%m-%dT%H:%M:%S}Z,Shop news,Spring sale starts now,{photo}",
            "2030-01-01 10:00,Nowhere,Too far and nowhere,",
            f"{due + timedelta(days=1):%Y-%m-%d %H:%M},Bob's corner,Not hers,",
            f"{due + timedelta(days=1):%Y-%m-%d %H:%M},Team chat,Broken link,{web.root}/gone.jpg",
            f"{due + timedelta(days=1):%Y-%m-%d %H:%M},Team chat,A web page,{page}",
            "2020-05-05 10:00,Team chat,Long ago,ftp://files.example/a.jpg",
        )
        preview = await send_document(alice, document, "posts.csv", expect="Import preview")
        shown = str(preview["text"])
        assert "1 post will be stored" in shown
        assert "row 2 — " in shown and "Shop news — “Spring sale starts now” (+1 media item)" in shown
        assert "5 rows will be left out" in shown
        assert "row 3 — more than a year ahead (2030-01-01 10:00); unknown target “Nowhere”" in shown
        assert "row 4 — unknown target “Bob's corner”" in shown
        assert f"row 5 — {web.root}/gone.jpg: download failed: HTTP 404" in shown
        assert f"row 6 — {page}: unknown media kind (text/html)" in shown
        assert "row 7 — past time (2020-05-05 10:00); “ftp://files.example/a.jpg” is not an http(s) URL" in shown
        assert web.hits["/shop/spring.jpg"] == 1
        # Nothing is stored by the dry run.
        assert await posts_of(store) == []

        await alice.press("Store 1 post", expect="Imported 1 post")
        [post] = (await store.list_posts(ALICE, PostView.UPCOMING)).posts
        assert post.main_caption == "Spring sale starts now" and post.scheduled_time == due
        assert [target.name for target in post.targets] == ["Shop news"]
        [image] = post.images
        assert image.kind is MediaKind.PHOTO and image.name == "spring.jpg"
        assert await store.load_image(image.blob_id) == PHOTO

        await eventually(lambda: texts_in(api, SHOP) == ["Spring sale starts now"], timeout=20)
        [published] = api.bot_messages(SHOP)
        assert published["photo"] and published["date"] >= int(due.timestamp())
        await alice.expect(f"Published #{post.short_id}", timeout=10)
        assert texts_in(api, TEAM) == []


async def test_a_json_import_uses_a_file_sent_before_it_and_reads_local_times_in_the_persons_zone(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    zone = "America/New_York"
    day = (utc_now() + timedelta(days=2)).date()
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await alice.say("/timezone", expect="Send a city")
        await alice.say("New York", expect=zone)
        intro = await alice.say("/import", expect="Import posts")
        assert intro is not None and "in your zone (America/New_York)" in str(intro["text"])
        before = alice.snapshot()
        api.send_photo(ALICE, SENT_PHOTO)
        await alice.expect("File 1 kept (photo)", since=before)
        document = {
            "posts": [
                {
                    "time": f"{day:%Y-%m-%d} 09:15",
                    "targets": ["Shop news", f"tg{TEAM}"],
                    "text": "Morning news",
                    "media": ["file:1"],
                    "buttons": "Order - https://shop.example",
                },
                {"time": f"{day:%Y-%m-%d} 10:00", "targets": "Shop news", "media": "file:2"},
            ]
        }
        preview = await send_document(alice, json.dumps(document).encode(), "posts.json", expect="Import preview")
        shown = str(preview["text"])
        assert f"row 1 — {datetime.combine(day, time(9, 15)):%a} {day.day} {day:%b}" in shown
        assert "09:15 (America/New_York) → Shop news, Team chat — “Morning news” (+1 media item)" in shown
        assert "row 2 — file:2: only 1 file(s) were sent in this import" in shown

        await alice.press("Store 1 post", expect="Imported 1 post")
        [post] = (await store.list_posts(ALICE, PostView.UPCOMING)).posts
        assert post.scheduled_time == datetime.combine(day, time(9, 15), tzinfo=ZoneInfo(zone))
        assert [target.name for target in post.targets] == ["Shop news", "Team chat"]
        assert [[button.label for button in row] for row in post.buttons] == [["Order"]]
        [image] = post.images
        assert image.kind is MediaKind.PHOTO and image.telegram_file_id
        assert await store.load_image(image.blob_id) == SENT_PHOTO


async def test_cancel_stores_nothing_and_old_previews_and_bad_documents_are_answered(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str
) -> None:
    tomorrow = (utc_now() + timedelta(days=1)).date()
    good = csv_of(f"{tomorrow:%Y-%m-%d} 12:00,Shop news,Keep me?,")
    async with bot_running(bot_settings(api, sqlite_url, encryption_key)) as store:
        await alice.say("/import", expect="Import posts")
        await send_document(alice, b"time,targets,txt\n", "posts.csv", expect="Unknown column(s) in the header: txt")
        many = "\n".join(f"{tomorrow:%Y-%m-%d} 12:00,Shop news,post {n}" for n in range(MAX_ROWS + 1))
        await send_document(alice, csv_of(many), "posts.csv", expect=f"has {MAX_ROWS + 1} rows; an import takes up to")
        await send_document(alice, b"\xff\xfe not text", "posts.csv", expect="save it as UTF-8 text")
        # A long preview comes in several messages, each within Telegram's limit, every row named.
        nowhere = "\n".join(f"{tomorrow:%Y-%m-%d} 12:00,{'Nowhere ' * 4}{n},post {n}" for n in range(MAX_ROWS))
        before = alice.snapshot()
        api.send_document(ALICE, csv_of(nowhere), "posts.csv")
        await alice.expect(texts.IMPORT_NOTHING_GOOD, since=before, timeout=15)
        parts = [str(m["text"]) for m in alice.bot_messages() if m["message_id"] not in before]
        assert len(parts) > 1 and all(len(part) <= 4096 for part in parts)
        named = "\n".join(parts)
        assert all(f"• row {n + 2} — unknown target" in named for n in range(MAX_ROWS))
        assert alice.find_button("Cancel import") and "Store" not in str(alice.last().get("reply_markup"))
        before = alice.snapshot()
        api.send_media(ALICE, "document", b"big", "big.csv", file_size=2 * 1024 * 1024)
        await alice.expect("That document is too big: an import takes up to 1,024 KB", since=before)
        before = alice.snapshot()
        api.send_media(ALICE, "video", b"huge", "huge.mp4", file_size=25 * 1024 * 1024)
        await alice.expect("too big for a bot to download (over 20 MB)", since=before)
        before = alice.snapshot()
        api.send_document(ALICE, b"%PDF-1.4 menu", "menu.pdf")
        await alice.expect("File 1 kept (file)", since=before)  # the video too big was not numbered

        await send_document(alice, good, "posts.csv", expect="Import preview")
        first_store = alice.find_button("Store 1 post")
        # Another document replaces the preview, even one that cannot be read: the first one's Store
        # is out of date.
        await send_document(alice, b"time,targets,txt\n", "posts.csv", expect="Unknown column(s)")
        await alice.press_data(*first_store)
        assert alice.last_answer().get("text") == texts.IMPORT_OLD_PREVIEW
        await send_document(alice, good, "posts.csv", expect="Import preview")
        await alice.press_data(*first_store)
        assert alice.last_answer().get("text") == texts.IMPORT_OLD_PREVIEW
        assert await posts_of(store) == []

        latest_store = alice.find_button("Store 1 post")
        await alice.press("Cancel import", expect="Import cancelled — nothing was stored.")
        await alice.press_data(*latest_store)
        assert alice.last_answer().get("text") == texts.IMPORT_FINISHED
        assert await posts_of(store) == []
        # Anything typed now goes where it would have gone before /import.
        await alice.say("hello", expect="not waiting for anything")
        await alice.say("/help", expect="/import")
        assert "import" in {command["command"] for command in api.commands}


async def test_a_restart_between_the_preview_and_store_loses_nothing_and_a_lost_download_is_fetched_again(
    api: FakeBotAPI, alice: Person, sqlite_url: str, encryption_key: str, web: MediaServer
) -> None:
    logo = bytes([0x89]) + b"PNG" + os.urandom(2000)  # this test's own bytes, to find its download by
    photo = web.serve("/logo.png", Served(logo, "image/png"))
    settings = bot_settings(api, sqlite_url, encryption_key, import_private_urls=True)
    tomorrow = (utc_now() + timedelta(days=1)).date()
    async with bot_running(settings):
        await alice.say("/import", expect="Import posts")
        document = csv_of(f"{tomorrow:%Y-%m-%d} 12:00,Team chat,After a restart,{photo}")
        await send_document(alice, document, "posts.csv", expect="Import preview")
    [downloaded] = downloads_of(logo)
    shutil.rmtree(downloaded)  # as a restart on another machine would find it
    async with bot_running(settings) as store:
        await alice.press("Store 1 post", expect="Imported 1 post")
        [post] = (await store.list_posts(ALICE, PostView.UPCOMING)).posts
        assert post.main_caption == "After a restart"
        assert await store.load_image(post.images[0].blob_id) == logo
        assert web.hits["/logo.png"] == 2
    assert downloads_of(logo) == []  # the download folder goes once the import is over


def downloads_of(data: bytes) -> list[Path]:
    """The import download folders holding a file with these bytes."""
    return [
        folder
        for folder in Path(tempfile.gettempdir()).glob("herald-import-*")
        if any(path.is_file() and path.read_bytes() == data for path in folder.iterdir())
    ]
