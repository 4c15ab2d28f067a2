"""Tabs, tree and layout: a reload restores the tabs, the active one, the expanded folders
and the collapsed sidebar; same-name tabs show their folder; the tree follows the active
tab; images open as images, other binary files say so."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, expect

from tests.frontend.ide import log_in, open_file, open_project, tab, tree_item, wait_connected
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(150)

NewContext = Callable[[], Awaitable[BrowserContext]]
STAGING = "models/staging/schema.yml"
MARTS = "models/marts/schema.yml"
# A 1×1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def layout_user(make_developer: Callable[..., str]) -> str:
    return make_developer("layout")


async def test_reload_restores_tabs_folders_and_sidebar(
    web: GatewayProcess, new_context: NewContext, layout_user: str
) -> None:
    page = await (await new_context()).new_page()
    await log_in(page, web.url, layout_user)
    await open_project(page)
    await open_file(page, STAGING)
    await open_file(page, MARTS)

    # Same name: each tab says its folder.
    await expect(tab(page, STAGING).get_by_test_id("tab-dir")).to_have_text("models/staging")
    await expect(tab(page, MARTS).get_by_test_id("tab-dir")).to_have_text("models/marts")

    # The tree follows the active tab, into a folder that was collapsed.
    await tree_item(page, "models/staging").click()
    await expect(tree_item(page, "models/staging")).to_have_attribute("data-expanded", "false")
    await tab(page, STAGING).click()
    await expect(tree_item(page, "models/staging")).to_have_attribute("data-expanded", "true")
    await expect(tree_item(page, STAGING)).to_have_attribute("aria-selected", "true")

    await page.get_by_test_id("sidebar-toggle").click()
    await expect(page.get_by_test_id("ide")).to_have_attribute("data-sidebar", "collapsed")
    await expect(page.get_by_test_id("file-tree")).to_be_hidden()

    await page.wait_for_timeout(500)  # the layout is written 200 ms after the last change
    await page.reload()
    await wait_connected(page)
    await expect(page.get_by_test_id("tab")).to_have_count(2)
    await expect(tab(page, STAGING)).to_have_attribute("data-active", "true")
    await expect(tab(page, MARTS)).to_have_attribute("data-active", "false")
    await expect(page.get_by_test_id("ide")).to_have_attribute("data-sidebar", "collapsed")
    await page.keyboard.press("Control+b")
    await expect(page.get_by_test_id("ide")).to_have_attribute("data-sidebar", "shown")
    await expect(tree_item(page, "models/marts")).to_have_attribute("data-expanded", "true")
    await expect(tree_item(page, "models/staging")).to_have_attribute("data-expanded", "true")
    editor = page.locator(f'[data-testid=editor][data-path="{STAGING}"]')
    await expect(editor).to_have_attribute("data-synced", "true")


async def test_images_open_as_images_and_binaries_say_so(
    web: GatewayProcess, new_context: NewContext, layout_user: str
) -> None:
    tag = secrets.token_hex(3)
    image, blob = f"assets_{tag}/logo.png", f"assets_{tag}/data.bin"
    page = await (await new_context()).new_page()
    await log_in(page, web.url, layout_user)
    await open_project(page)
    volume = web.data_dir / "volumes" / layout_user / "demo"
    (volume / image).parent.mkdir()
    (volume / image).write_bytes(PNG)
    (volume / blob).write_bytes(b"\x00\x01\x02\xff\xfe\x00")
    await page.get_by_test_id("tree-refresh").click()

    await tree_item(page, f"assets_{tag}").click()
    await tree_item(page, image).click()
    view = page.get_by_test_id("image-view")
    await expect(view).to_be_visible()
    assert await view.evaluate("(img) => img.complete && img.naturalWidth") == 1
    await tree_item(page, blob).click()
    await expect(page.get_by_test_id("binary-view")).to_have_text(
        "Binary file, 6 bytes: it cannot be edited here."
    )
    await expect(page.get_by_test_id("editor-error")).to_have_count(0)
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "binary")


async def test_toolbars_do_not_wrap_at_700_px(
    web: GatewayProcess, new_context: NewContext, layout_user: str
) -> None:
    context = await new_context()
    page = await context.new_page()
    await page.set_viewport_size({"width": 700, "height": 800})
    await log_in(page, web.url, layout_user)
    await open_project(page)
    # On one line: every shown child overlaps every other vertically.
    one_line = """(bar) => {
        const boxes = [...bar.children].filter((c) => c.offsetParent !== null)
            .map((c) => c.getBoundingClientRect()).filter((r) => r.height > 0);
        return Math.max(...boxes.map((r) => r.top)) < Math.min(...boxes.map((r) => r.bottom));
    }"""
    assert await page.locator(".tree-toolbar").evaluate(one_line)
    assert await page.locator(".results-header").evaluate(one_line)
    assert await page.locator(".sidebar-tabs").evaluate(one_line)
