"""Media named by URL in an /import, downloaded with `requests` into a file: streamed a chunk at a
time, refused as soon as it is larger than the limit, given up after a timeout, redirects followed
a few times — each hop's address checked, so that a user cannot make Herald fetch from its own
machine or private network (unless the settings allow it: tests serve on 127.0.0.1).

`requests` blocks: `download` runs it in a worker thread."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

import i18n
from i18n import _

CHUNK = 64 * 1024
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
# However the server drips its bytes, a download ends within this many seconds.
TOTAL_TIMEOUT = 120.0
MB = 1024 * 1024


class DownloadFailed(Exception):
    """The file could not be had: why, in words for the person (in their language: shown at once, never stored)."""


@dataclass(frozen=True)
class Downloaded:
    """A file downloaded to `path`: its size and the Content-Type the server gave."""

    path: Path
    size: int
    content_type: str


def download_to(
    url: str,
    path: Path,
    limit: int,
    *,
    allow_private: bool = False,
    read_timeout: float = READ_TIMEOUT,
    total_timeout: float = TOTAL_TIMEOUT,
) -> Downloaded:
    """Downloads `url` into `path` (at most `limit` bytes); raises DownloadFailed. Blocking."""
    deadline = time.monotonic() + total_timeout
    with requests.Session() as session:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            _check_address(current, allow_private)
            try:
                response = session.get(
                    current, stream=True, timeout=(CONNECT_TIMEOUT, read_timeout), allow_redirects=False
                )
            except requests.Timeout as error:
                raise DownloadFailed(_("download timed out")) from error
            except requests.RequestException as error:
                raise DownloadFailed(
                    _("download failed: could not connect to {host}").format(host=urlsplit(current).netloc)
                ) from error
            with response:
                if response.is_redirect:
                    current = urljoin(current, response.headers.get("Location", ""))
                    continue
                if not 200 <= response.status_code < 300:
                    raise DownloadFailed(_("download failed: HTTP {status}").format(status=response.status_code))
                return _save(response, path, limit, deadline)
    raise DownloadFailed(_("download failed: more than {count} redirects").format(count=MAX_REDIRECTS))


def _save(response: requests.Response, path: Path, limit: int, deadline: float) -> Downloaded:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise DownloadFailed(_too_big(limit))
    size = 0
    try:
        with path.open("wb") as target:
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise DownloadFailed(_too_big(limit))
                if time.monotonic() > deadline:
                    raise DownloadFailed(_("download timed out"))
                target.write(chunk)
    except requests.RequestException as error:
        path.unlink(missing_ok=True)
        raise DownloadFailed(_("download failed: the connection broke off")) from error
    except DownloadFailed:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise DownloadFailed(_("download failed: the file is empty"))
    return Downloaded(path, size, response.headers.get("Content-Type", ""))


def _too_big(limit: int) -> str:
    return _("file too big (over {megabytes} MB)").format(megabytes=i18n.number(round(limit / MB, 1)))


def _check_address(url: str, allow_private: bool) -> None:
    """Refuses a URL that is not http(s), or (unless allowed) whose host is this machine or a
    private network."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise DownloadFailed(_("download failed: not an http(s) URL"))
    if allow_private:
        return
    try:
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise DownloadFailed(_("download failed: no such host {host}").format(host=parts.hostname)) from error
    for *_rest, address in found:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global:
            raise DownloadFailed(_("download refused: {host} is a private address").format(host=parts.hostname))


async def download(url: str, path: Path, limit: int, *, allow_private: bool = False) -> Downloaded:
    """`download_to` in a worker thread, so the bot's event loop goes on meanwhile (the thread speaks
    the caller's language: asyncio.to_thread carries the context over)."""
    return await asyncio.to_thread(download_to, url, path, limit, allow_private=allow_private)
