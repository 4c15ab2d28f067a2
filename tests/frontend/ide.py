"""Steps a person takes in the IDE, driven through the selectors listed in docs/frontend.md."""

from __future__ import annotations

import asyncio

from playwright.async_api import Locator, Page, expect

from tests.support.gateway import PASSWORD

SESSION_START_MS = 90_000


async def log_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    await page.goto(base_url + "/")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("current-user")).to_be_visible()


async def open_project(page: Page, project: str = "demo", role: str = "developer") -> str:
    """Opens (or rejoins) the user's session on ``project``; returns the session id."""
    row = page.locator(f'[data-testid=project-row][data-project="{project}"]')
    await row.get_by_test_id("project-open").click()
    await wait_connected(page, role)
    session_id = await page.get_by_test_id("ide").get_attribute("data-session")
    assert session_id
    return session_id


async def wait_connected(page: Page, role: str = "developer") -> None:
    await expect(page.get_by_test_id("status-connection")).to_have_attribute(
        "data-state", "open", timeout=SESSION_START_MS
    )
    await expect(page.get_by_test_id("ide")).to_have_attribute("data-role", role)


def tree_item(page: Page, path: str) -> Locator:
    return page.locator(f'[data-testid=tree-item][data-path="{path}"]')


def tab(page: Page, path: str) -> Locator:
    return page.locator(f'[data-testid=tab][data-path="{path}"]')


async def open_file(page: Page, path: str) -> Locator:
    """Expands the directories on the way, opens the file, waits for its synced editor."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        directory = tree_item(page, "/".join(parts[:depth]))
        if await directory.get_attribute("data-expanded") != "true":
            await directory.click()
        await expect(directory).to_have_attribute("data-expanded", "true")
    await tree_item(page, path).click()
    editor = page.locator(f'[data-testid=editor][data-path="{path}"]')
    await expect(editor).to_have_attribute("data-synced", "true")
    return editor


async def type_at_end(page: Page, text: str) -> None:
    """Types a new last line; ``text`` should avoid brackets and quotes (auto-closed)."""
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+End")
    await page.keyboard.press("Enter")
    await page.keyboard.type(text)


async def expect_editor_to_contain(
    page: Page, text: str, timeout: float = 10, present: bool = True
) -> None:
    """CodeMirror renders only the lines in view: scroll to the end, where tests type."""
    scroller = page.locator(".cm-scroller")
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await scroller.evaluate("(el) => { el.scrollTop = el.scrollHeight; }")
        if (text in await page.locator(".cm-content").inner_text()) == present:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the editor {'does not show' if present else 'shows'} {text!r}")
        await asyncio.sleep(0.1)


async def record_dirty_flags(page: Page, path: str) -> None:
    """Records every value the tab's ``data-dirty`` takes from now on, however briefly.

    The test gateway writes a room to disk 0.3 s after the last edit, too short a window
    for polling assertions to be sure to see the tab dirty.
    """
    await page.evaluate(
        """(path) => {
            const seen = (window.__dirtyFlags = window.__dirtyFlags || {});
            seen[path] = [];
            const bar = document.querySelector('[data-testid=tabs]');
            const read = () => {
                const tab = bar.querySelector(`[data-testid=tab][data-path="${CSS.escape(path)}"]`);
                const value = tab && tab.dataset.dirty;
                const list = seen[path];
                if (value && list[list.length - 1] !== value) list.push(value);
            };
            read();
            new MutationObserver(read).observe(bar, {
                subtree: true, childList: true, attributes: true, attributeFilter: ['data-dirty'],
            });
        }""",
        path,
    )


async def dirty_flags(page: Page, path: str) -> list[str]:
    return await page.evaluate("(path) => window.__dirtyFlags[path]", path)


async def choose_branch(page: Page, branch: str) -> None:
    """Switches branch through the git panel's picker (local ``x`` or remote ``origin/x``)."""
    await page.get_by_test_id("git-branch").click()
    await page.get_by_test_id("git-branch-filter").fill(branch)
    menu = page.get_by_test_id("git-branch-menu")
    await menu.locator(f'[data-testid=git-branch-option][data-branch="{branch}"]').click()
