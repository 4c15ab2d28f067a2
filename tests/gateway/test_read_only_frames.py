"""What a read-only member may send on a document socket: reads only."""

from __future__ import annotations

import asyncio

import pytest

from ide_server.gateway.proxy_filters import refuse_for_read_only
from tests.support.client import Api
from tests.support.ydoc import encode_save_request, room, room_text

ROOM = "/api/collaboration/room/text:file:abc"


@pytest.mark.parametrize(
    ("frame", "forwarded"),
    [
        (bytes([0, 0, 1, 0]), True),  # sync step 1: asks for the document
        (bytes([1, 3, 1, 2, 3]), True),  # awareness: cursor and name
        (bytes([0, 1, 5, 0]), False),  # sync step 2: a document
        (bytes([0, 2, 5, 0]), False),  # update
        (encode_save_request(3), False),  # raw "save"
        (bytes([2]), False),
        (bytes([9, 0]), False),  # unknown type
        (bytes([0]), False),
        (b"", False),
        ("text frame", False),
    ],
)
def test_read_only_room_frames(frame: bytes | str, forwarded: bool) -> None:
    assert (refuse_for_read_only(ROOM, "read-only", frame, frozenset()) is None) == forwarded
    assert refuse_for_read_only(ROOM, "developer", frame, frozenset()) is None


async def test_a_read_only_members_save_never_reaches_the_pod(carol: Api) -> None:
    session = carol.open_session("demo")
    async with room(carol, session["id"], "dbt_project.yml") as (doc, channel):
        assert "name" in room_text(doc)  # reading works
        await channel.send(encode_save_request(41))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(channel.raw_replies.get(), 3)
