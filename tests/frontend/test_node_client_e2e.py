"""The browser's document and a third-party client's (Node's y-websocket provider with the
login cookie, through the gateway) converge: each sees what the other types."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext

from tests.frontend.ide import (
    expect_editor_to_contain,
    log_in,
    open_file,
    open_project,
    type_at_end,
)
from tests.support.gateway import GatewayProcess, login_as
from tests.support.nodeclient import NodeYClient, install_node_clients
from tests.support.ydoc import open_file_session

pytestmark = pytest.mark.timeout(180)

NewContext = Callable[[], Awaitable[BrowserContext]]
PATH = "models/staging/stg_payments.sql"


async def test_browser_and_node_client_converge(
    web: GatewayProcess, new_context: NewContext, make_developer: Callable[..., str]
) -> None:
    install_node_clients()
    user = make_developer("nodepeer")
    page = await (await new_context()).new_page()
    await log_in(page, web.url, user)
    session_id = await open_project(page)
    await open_file(page, PATH)

    api = login_as(web, user)
    node = await NodeYClient.join(api, session_id, open_file_session(api, session_id, PATH))
    try:
        await node.event("synced")
        from_browser = f"-- typed in the browser {secrets.token_hex(3)}"
        await type_at_end(page, from_browser)
        deadline = asyncio.get_running_loop().time() + 20
        while from_browser not in await node.text():
            assert asyncio.get_running_loop().time() < deadline, "node never saw the browser"
            await asyncio.sleep(0.1)

        from_node = f"-- typed by node {secrets.token_hex(3)}\n"
        length = len(await node.text())
        await node.command(op="insert", index=length, text=from_node)
        await expect_editor_to_contain(page, from_node.strip())

        # At rest both hold both lines.
        assert from_browser in await node.text() and from_node in await node.text()
        await expect_editor_to_contain(page, from_browser)
    finally:
        await node.close()
