"""Media URLs of an /import downloaded with requests from a real web server on 127.0.0.1: streamed
into a file, refused over the limit (declared or not), given up when slow, redirects followed,
this machine's addresses refused unless allowed, every failure a sentence for the person."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.url_media import DownloadFailed, download, download_to
from tests.fakes.media_server import MediaServer, Served

PHOTO = bytes([0xFF, 0xD8, 0xFF]) + b"jpeg" * 5000


@pytest.fixture
async def server() -> AsyncIterator[MediaServer]:
    async with MediaServer() as started:
        yield started


async def test_a_photo_is_downloaded_whole_with_its_type(server: MediaServer, tmp_path: Path) -> None:
    url = server.serve("/a/photo.jpg", Served(PHOTO, "image/jpeg"))
    got = await download(url, tmp_path / "1", 1024 * 1024, allow_private=True)
    assert got.path.read_bytes() == PHOTO
    assert got.size == len(PHOTO) and got.content_type.startswith("image/jpeg")


async def test_a_file_streamed_without_a_length_is_downloaded_whole(server: MediaServer, tmp_path: Path) -> None:
    body = b"v" * 300_000
    url = server.serve("/clip.mp4", Served(body, "video/mp4", chunked=True))
    got = await download(url, tmp_path / "1", 1024 * 1024, allow_private=True)
    assert got.path.read_bytes() == body


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_file_over_the_limit_is_refused_and_nothing_is_left_behind(
    server: MediaServer, tmp_path: Path, chunked: bool
) -> None:
    url = server.serve("/big.jpg", Served(b"x" * 200_000, "image/jpeg", chunked=chunked))
    with pytest.raises(DownloadFailed, match=r"file too big \(over 0.1 MB\)"):
        await download(url, tmp_path / "1", 100 * 1024 * 1024 // 1000, allow_private=True)
    assert not (tmp_path / "1").exists()
    # Exactly at the limit is fine.
    got = await download(url, tmp_path / "2", 200_000, allow_private=True)
    assert got.size == 200_000


async def test_a_missing_file_an_empty_one_and_a_closed_port_are_named(server: MediaServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadFailed, match="download failed: HTTP 404"):
        await download(server.root + "/nothing.jpg", tmp_path / "1", 1000, allow_private=True)
    empty = server.serve("/empty.jpg", Served(b"", "image/jpeg"))
    with pytest.raises(DownloadFailed, match="the file is empty"):
        await download(empty, tmp_path / "2", 1000, allow_private=True)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(DownloadFailed, match=f"could not connect to 127.0.0.1:{port}"):
        await download(f"http://127.0.0.1:{port}/x.jpg", tmp_path / "3", 1000, allow_private=True)


async def test_a_server_too_slow_to_answer_times_out(server: MediaServer, tmp_path: Path) -> None:
    url = server.serve("/slow.jpg", Served(PHOTO, "image/jpeg", delay=1))
    with pytest.raises(DownloadFailed, match="download timed out"):
        await asyncio.to_thread(download_to, url, tmp_path / "1", 10**6, allow_private=True, read_timeout=0.3)


async def test_redirects_are_followed_a_few_times_only(server: MediaServer, tmp_path: Path) -> None:
    server.serve("/photo.jpg", Served(PHOTO, "image/jpeg"))
    hop = server.serve("/short", Served(redirect="/photo.jpg"))
    got = await download(hop, tmp_path / "1", 10**6, allow_private=True)
    assert got.path.read_bytes() == PHOTO
    for n in range(7):
        server.serve(f"/loop{n}", Served(redirect=f"/loop{n + 1}"))
    with pytest.raises(DownloadFailed, match="more than 5 redirects"):
        await download(server.root + "/loop0", tmp_path / "2", 10**6, allow_private=True)


async def test_this_machine_and_other_schemes_are_refused_unless_allowed(server: MediaServer, tmp_path: Path) -> None:
    url = server.serve("/photo.jpg", Served(PHOTO, "image/jpeg"))
    with pytest.raises(DownloadFailed, match=r"127\.0\.0\.1 is a private address"):
        await download(url, tmp_path / "1", 10**6)
    assert server.hits["/photo.jpg"] == 0
    # A redirect from elsewhere to this machine is checked at its hop too.
    with pytest.raises(DownloadFailed, match="private address"):
        await download("http://localhost:1/x.jpg", tmp_path / "2", 10**6)
    with pytest.raises(DownloadFailed, match="not an http"):
        await download("ftp://example.com/x.jpg", tmp_path / "3", 10**6, allow_private=True)
