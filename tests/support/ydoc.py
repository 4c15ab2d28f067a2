"""A Yjs client for tests: a pycrdt Doc synced with a collaboration room through the gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import websockets
from pycrdt import Doc, Map, Provider, Text
from websockets.asyncio.client import ClientConnection

from tests.support.client import Api

RAW = 2


class RoomChannel:
    """Adapts a websockets connection to pycrdt's Channel; raw (type 2) replies are queued."""

    def __init__(self, ws: ClientConnection, path: str) -> None:
        self.ws = ws
        self._path = path
        self.raw_replies: asyncio.Queue[bytes] = asyncio.Queue()

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> RoomChannel:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except websockets.ConnectionClosed:
            raise StopAsyncIteration from None

    async def recv(self) -> bytes:
        while True:
            message = await self.ws.recv()
            if isinstance(message, str):
                continue
            if message[:1] == bytes([RAW]):
                await self.raw_replies.put(message)
                continue
            return message

    async def send(self, message: bytes) -> None:
        await self.ws.send(message)


def open_file_session(api: Api, sid: str, path: str) -> dict[str, Any]:
    response = api.http.put(
        f"/sessions/{sid}/api/collaboration/session/{quote(path)}",
        json={"format": "text", "type": "file"},
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def room_text(doc: Doc) -> str:
    return str(doc.get("source", type=Text))


def room_state(doc: Doc) -> Map:
    return doc.get("state", type=Map)


@contextlib.asynccontextmanager
async def room(
    api: Api, sid: str, path: str, doc: Doc | None = None, session: dict[str, Any] | None = None
) -> AsyncIterator[tuple[Doc, RoomChannel]]:
    session = session or open_file_session(api, sid, path)
    url = api.ws_url(
        f"/sessions/{sid}/api/collaboration/room/text:file:{session['fileId']}"
        f"?sessionId={session['sessionId']}"
    )
    doc = doc if doc is not None else Doc()
    async with websockets.connect(url, additional_headers=api.ws_headers(), max_size=None) as ws:
        channel = RoomChannel(ws, path)
        async with Provider(doc, channel) as provider:
            await asyncio.wait_for(provider.synced.wait(), 20)
            yield doc, channel


def encode_save_request(request_id: int) -> bytes:
    from pycrdt import Encoder

    encoder = Encoder()
    encoder.write_var_uint(RAW)
    encoder.write_var_string("save")
    encoder.write_var_uint(request_id)
    return encoder.to_bytes()


def decode_raw_reply(message: bytes) -> str:
    from pycrdt import Decoder

    decoder = Decoder(message)
    assert decoder.read_var_uint() == RAW
    return decoder.read_var_string()


async def eventually(check: Any, timeout: float = 15, interval: float = 0.1) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
