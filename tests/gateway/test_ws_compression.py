"""IDE_WS_COMPRESSION: browsers that offer permessage-deflate get it by default, and an
operator on a LAN can turn it off (it costs a few milliseconds per large message)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets

from tests.support.gateway import GatewayProcess
from tests.support.pg import temporary_database
from tests.support.pods import developer


async def _negotiated(api: object, session_id: str) -> tuple[str | None, dict]:
    ws = await websockets.connect(
        api.ws_url(f"/sessions/{session_id}/ide"),  # type: ignore[attr-defined]
        additional_headers=api.ws_headers(),  # type: ignore[attr-defined]
        compression="deflate",  # what a browser offers
    )
    async with ws:
        await ws.send('{"jsonrpc": "2.0", "id": 1, "method": "session/status"}')
        answer = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert ws.response is not None
        return ws.response.headers.get("Sec-WebSocket-Extensions"), answer


@pytest.mark.parametrize(("setting", "compressed"), [(None, True), ("false", False)])
def test_websocket_compression_follows_the_setting(
    tmp_path: Path, setting: str | None, compressed: bool
) -> None:
    settings = {} if setting is None else {"ws_compression": setting}
    with temporary_database(tmp_path) as url:
        gw = GatewayProcess(tmp_path / "data", url, **settings)
        gw.start()
        try:
            api = developer(gw, "erin")
            session = api.open_session()
            extensions, answer = asyncio.run(_negotiated(api, session["id"]))
            assert answer["result"]["user"] == "erin"  # the socket works either way
            assert ("permessage-deflate" in (extensions or "")) is compressed
        finally:
            gw.stop()
            gw.stop_pods()
