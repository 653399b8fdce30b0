"""Media read from the store into a temporary file, a chunk at a time: what an upload streams from,
so that a post of big videos never holds one whole in memory (httpx and the multipart bodies in
publishers/http.py read the file as they send it)."""

from __future__ import annotations

import asyncio
import tempfile
from typing import IO

from i18n import N_
from storage.base import Store
from storage.models import Image


class MissingMedia(Exception):
    """A media item's bytes are not in the store."""

    def __init__(self, image: Image) -> None:
        # The delivery's reason (stored English, shown translated).
        super().__init__(N_("the file {name} is missing from storage").format(name=image.name))
        self.image = image


async def spool(store: Store, image: Image) -> IO[bytes]:
    """The item's bytes in a temporary file (deleted when closed), positioned at its start.
    Raises MissingMedia if the store has none."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
    try:
        size = 0
        async for chunk in store.media_chunks(image.blob_id):
            await asyncio.to_thread(file.write, chunk)
            size += len(chunk)
        # Nothing read: an empty file, or none at all.
        if size == 0 and await store.load_image(image.blob_id) is None:
            raise MissingMedia(image)
        file.seek(0)
        return file
    except BaseException:
        file.close()
        raise
