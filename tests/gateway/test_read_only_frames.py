"""What a read-only member may send on a document socket: reads only."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.client import Api
from tests.support.ydoc import encode_save_request, room, room_text


async def test_a_read_only_members_save_never_reaches_the_pod(carol: Api) -> None:
    session = carol.open_session("demo")
    async with room(carol, session["id"], "dbt_project.yml") as (doc, channel):
        assert "name" in room_text(doc)  # reading works
        await channel.send(encode_save_request(41))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(channel.raw_replies.get(), 3)
