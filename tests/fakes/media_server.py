"""A web server on 127.0.0.1 that serves files by path, as the sites an /import's media URLs name:
each file with its Content-Type, with or without a Content-Length (chunked), slowly if asked, or
a redirect; anything else is a 404. It counts the requests for each path."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from aiohttp import web

from tests.fakes.local_server import LocalServer


@dataclass(frozen=True)
class Served:
    """What one path answers: `body` with `content_type`; `chunked` leaves out the Content-Length;
    `delay` seconds before the body; `redirect` answers 302 to that path instead."""

    body: bytes = b""
    content_type: str = "application/octet-stream"
    chunked: bool = False
    delay: float = 0.0
    redirect: str = ""


class MediaServer(LocalServer):
    """Files at paths (`serve`), their requests counted in `hits`."""

    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.hits: Counter[str] = Counter()

    def serve(self, path: str, served: Served) -> str:
        """Serves `served` at `path`; returns its full URL (the server must be started)."""
        self.files[path] = served
        return self.root + path

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        served = self.files.get(request.path)
        if served is None:
            return web.Response(status=404, text="not found")
        if served.redirect:
            raise web.HTTPFound(served.redirect)
        if served.delay:
            await asyncio.sleep(served.delay)
        if not served.chunked:
            return web.Response(body=served.body, content_type=served.content_type.split(";")[0])
        response = web.StreamResponse(headers={"Content-Type": served.content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(served.body), 65536):
            await response.write(served.body[start : start + 65536])
        await response.write_eof()
        return response
