"""The editor end to end in headless Chromium: type, save, reload; two browsers, one room."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.frontend.ide import (
    dirty_flags,
    expect_editor_to_contain,
    log_in,
    open_file,
    open_project,
    record_dirty_flags,
    tab,
    type_at_end,
)
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(120)

NewContext = Callable[[], Awaitable[BrowserContext]]


@pytest.fixture(scope="module")
def editor_user(make_developer: Callable[..., str]) -> str:
    return make_developer("editor")


def volume_file(gateway: GatewayProcess, username: str, path: str) -> Path:
    return gateway.data_dir / "volumes" / username / "demo" / path


async def wait_for_file(path: Path, text: str, timeout: float = 10) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        content = path.read_text() if path.exists() else ""
        if text in content or asyncio.get_running_loop().time() > deadline:
            return content
        await asyncio.sleep(0.1)


async def test_type_save_reload(
    web: GatewayProcess, new_context: NewContext, editor_user: str
) -> None:
    path = "models/staging/stg_customers.sql"
    line = f"-- typed in the browser {secrets.token_hex(4)}"
    page = await (await new_context()).new_page()
    await log_in(page, web.url, editor_user)
    await open_project(page)
    await open_file(page, path)
    await record_dirty_flags(page, path)

    await type_at_end(page, line)
    await page.keyboard.press("Control+s")
    await expect(tab(page, path)).to_have_attribute("data-dirty", "false")
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    assert (await dirty_flags(page, path))[:3] == ["false", "true", "false"]
    on_disk = await wait_for_file(volume_file(web, editor_user, path), line)
    assert on_disk.rstrip("\n").endswith(line)

    await page.reload()
    await expect(page.get_by_test_id("status-connection")).to_have_attribute(
        "data-state", "open", timeout=30_000
    )
    await open_file(page, path)
    await expect_editor_to_contain(page, line)
    await expect(tab(page, path)).to_have_attribute("data-dirty", "false")


async def test_second_browser_sees_typing_live(
    web: GatewayProcess, new_context: NewContext, editor_user: str
) -> None:
    """The same user logged in twice (two cookie jars) shares one session and one room."""
    path = "models/marts/customers.sql"
    first = await (await new_context()).new_page()
    second = await (await new_context()).new_page()
    await log_in(first, web.url, editor_user)
    await log_in(second, web.url, editor_user)
    first_session = await open_project(first)
    assert await open_project(second) == first_session
    await open_file(first, path)
    await open_file(second, path)
    # Presence: each browser lists the other at once, not at the next 15 s re-announce.
    await expect(first.get_by_test_id("peer")).to_have_count(1)
    await expect(second.get_by_test_id("peer")).to_have_count(1)
    await record_dirty_flags(second, path)

    line = f"-- pairing {secrets.token_hex(4)}"
    await type_at_end(first, line)
    await expect_editor_to_contain(second, line)
    # The dirty flag lives in the room, so the other browser's tab follows it too.
    await first.keyboard.press("Control+s")
    await expect(tab(second, path)).to_have_attribute("data-dirty", "false")
    flags = await dirty_flags(second, path)
    assert flags[:3] == ["false", "true", "false"], flags
    on_disk = await wait_for_file(volume_file(web, editor_user, path), line)
    assert line in on_disk

    # And back: the second browser's typing reaches the first.
    reply = f"-- answered {secrets.token_hex(4)}"
    await type_at_end(second, reply)
    await expect_editor_to_contain(first, reply)
