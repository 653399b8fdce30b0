"""A batch in the making kept as JSON in user_data: read back whole after a restart, and anything
else (a batch saved by a newer Herald, a broken one) read as unreadable rather than guessed at."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from handlers.batch import Batch
from handlers.draft import Draft, DraftUnreadable
from storage.models import Image, MediaKind, Target


def test_a_batch_reads_back_whole_from_json() -> None:
    album = Draft(caption="Three: an album", caption_entities=[{"type": "bold", "offset": 0, "length": 5}])
    album.images = [Image("photo-1.jpg", "blob1"), Image("clip.mp4", "blob2", "second", kind=MediaKind.VIDEO)]
    route = Draft(account_id="telegram", account_name="Telegram (this bot)")
    route.offer([Target("tg-1", "Shop news", "-1")])
    route.toggle("tg-1")
    batch = Batch(
        posts=[Draft(caption="One: hello"), album],
        albums={"13000000000000001": 1},
        route=route,
        times=[datetime(2027, 3, 13, 16, tzinfo=UTC), datetime(2027, 3, 14, 15, tzinfo=UTC)],
        queued=True,
    )
    read = Batch.from_json(json.loads(json.dumps(batch.to_json())))
    assert read == batch
    assert read.first_words(1) == "Three: an album" and read.route.chosen()[0].name == "Shop news"


@pytest.mark.parametrize(
    "saved",
    [
        "not a batch",
        {"posts": [{"format": 99}]},
        {"posts": [], "times": ["yesterday"]},
        {"posts": [], "albums": {"x": "first"}},
    ],
)
def test_a_batch_that_cannot_be_read_is_said_to_be_so(saved: object) -> None:
    with pytest.raises(DraftUnreadable):
        Batch.from_json(saved)
