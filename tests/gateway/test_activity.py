"""The proxy's activity notes: never blocking, kept through an outage, written once back."""

from __future__ import annotations

import asyncio
from datetime import datetime

from ide_server.db import DatabaseUnavailable
from ide_server.gateway.activity import ActivityBuffer


class FlakyDatabase:
    """Session activity as the store records it, with the database down when told."""

    def __init__(self) -> None:
        self.down = False
        self.last: dict[str, datetime] = {}
        self.writes = 0

    async def touch(self, session_id: str, at: datetime) -> None:
        if self.down:
            raise DatabaseUnavailable("down")
        self.writes += 1
        self.last[session_id] = max(at, self.last.get(session_id, at))


async def test_notes_are_written_once_per_interval_and_kept_through_an_outage() -> None:
    db = FlakyDatabase()
    buffer = ActivityBuffer(db.touch, interval=0.3, tick=0.02)
    buffer.start()
    try:
        for _ in range(50):
            buffer.note("s1")  # every frame notes; only one write per interval follows
        await asyncio.sleep(0.1)
        assert db.writes == 1 and "s1" in db.last
        db.down = True
        buffer.note("s2")
        buffer.note("s1")
        noted = datetime.now().astimezone()
        await asyncio.sleep(0.5)
        assert buffer.pending == 2  # nothing lost, nothing raised to the proxy
        db.down = False
        await asyncio.sleep(0.1)
        assert buffer.pending == 0
        assert db.last["s2"] <= noted and db.last["s1"] <= noted
    finally:
        await buffer.stop()
        await buffer.stop()  # safe twice


async def test_stop_writes_what_is_pending() -> None:
    db = FlakyDatabase()
    buffer = ActivityBuffer(db.touch, interval=60, tick=60)
    buffer.start()
    buffer.note("s1")
    await buffer.stop()
    assert "s1" in db.last
