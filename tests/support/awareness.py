"""Yjs awareness (presence) for tests: encode and decode y-protocols awareness messages, and
a bare room socket that sends and collects them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import websockets
from pycrdt import Decoder, Encoder
from websockets.asyncio.client import ClientConnection

from tests.support.client import Api
from tests.support.ydoc import open_file_session

AWARENESS = 1

Entry = tuple[int, int, Any]  # (client id, clock, state or None)


def encode_awareness(*entries: Entry) -> bytes:
    inner = Encoder()
    inner.write_var_uint(len(entries))
    for client, clock, state in entries:
        inner.write_var_uint(client)
        inner.write_var_uint(clock)
        inner.write_var_string(json.dumps(state))
    update = inner.to_bytes()
    length = Encoder()
    length.write_var_uint(len(update))
    return bytes([AWARENESS]) + length.to_bytes() + update


def decode_awareness(frame: bytes) -> list[Entry]:
    decoder = Decoder(frame)
    assert decoder.read_var_uint() == AWARENESS
    update = decoder.read_message()
    assert update is not None
    inner = Decoder(update)
    entries = []
    for _ in range(inner.read_var_uint()):
        client, clock = inner.read_var_uint(), inner.read_var_uint()
        entries.append((client, clock, json.loads(inner.read_var_string())))
    return entries


class PresenceSocket:
    """A room socket that only speaks awareness; what the room relays is queued."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: asyncio.Queue[list[Entry]] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in self.ws:
                if isinstance(message, bytes) and message[:1] == bytes([AWARENESS]):
                    await self.received.put(decode_awareness(message))

    async def send(self, *entries: Entry) -> None:
        await self.ws.send(encode_awareness(*entries))

    async def state_of(self, client: int, timeout: float = 10) -> Any:
        """The next state relayed for ``client``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            entries = await asyncio.wait_for(self.received.get(), max(remaining, 0.01))
            for entry_client, _clock, state in entries:
                if entry_client == client:
                    return state

    async def relayed(self, seconds: float) -> list[Entry]:
        """Every entry relayed within ``seconds``."""
        await asyncio.sleep(seconds)
        out: list[Entry] = []
        while not self.received.empty():
            out += self.received.get_nowait()
        return out


@contextlib.asynccontextmanager
async def presence(api: Api, sid: str, path: str) -> AsyncIterator[PresenceSocket]:
    session = open_file_session(api, sid, path)
    url = api.ws_url(
        f"/sessions/{sid}/api/collaboration/room/text:file:{session['fileId']}"
        f"?sessionId={session['sessionId']}"
    )
    async with websockets.connect(url, additional_headers=api.ws_headers()) as ws:
        sock = PresenceSocket(ws)
        try:
            yield sock
        finally:
            sock._reader.cancel()
