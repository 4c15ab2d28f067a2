"""Nothing is lost silently: a tab whose file vanished (another branch, a delete by a pair
partner) says so, every failed save is shown, and the text can be saved as a file."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pygit2
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.frontend.ide import (
    choose_branch,
    expect_editor_to_contain,
    log_in,
    open_file,
    open_project,
    tab,
    tree_item,
    type_at_end,
    wait_connected,
)
from tests.support.client import Api, RpcFailure
from tests.support.gateway import PASSWORD, GatewayProcess

pytestmark = pytest.mark.timeout(150)

NewContext = Callable[[], Awaitable[BrowserContext]]


@pytest.fixture(scope="module")
def lost_user(make_developer: Callable[..., str]) -> str:
    return make_developer("lost")


def volume(gateway: GatewayProcess, username: str) -> Path:
    return gateway.data_dir / "volumes" / username / "demo"


def branch_with_file(checkout: Path, branch: str, path: str, text: str) -> None:
    """A local branch off main whose one commit adds ``path`` (main does not have it)."""
    repo = pygit2.Repository(str(checkout))
    main = repo.branches.local["main"].peel(pygit2.Commit)
    index = pygit2.Index()
    index.read_tree(main.tree)
    blob = repo.create_blob(text.encode())
    index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode.BLOB))
    tree = index.write_tree(repo)
    who = pygit2.Signature("Test", "test@example.com", int(time.time()), 0)
    commit = repo.create_commit(None, who, who, "Add a scratch file", tree, [main.id])
    repo.branches.local.create(branch, repo[commit])  # type: ignore[arg-type]


async def switch_branch(page: Page, branch: str) -> None:
    await page.get_by_test_id("sidebar-git").click()
    panel = page.get_by_test_id("git-panel")
    await choose_branch(page, branch)
    await expect(panel).to_have_attribute("data-branch", branch, timeout=30_000)
    await expect(panel).to_have_attribute("data-busy", "false", timeout=30_000)
    await page.get_by_test_id("sidebar-files").click()


async def test_edits_to_a_file_not_on_this_branch_are_shown_and_can_be_saved(
    web: GatewayProcess, new_context: NewContext, lost_user: str
) -> None:
    path = "scratch.sql"
    branch = f"scratch-{secrets.token_hex(3)}"
    line = f"-- typed after the switch {secrets.token_hex(4)}"
    page = await (await new_context()).new_page()
    await log_in(page, web.url, lost_user)
    await open_project(page)
    checkout = volume(web, lost_user)
    branch_with_file(checkout, branch, path, "select 1 as scratch\n")
    await page.get_by_test_id("sidebar-git").click()
    await page.get_by_test_id("git-refresh").click()

    await switch_branch(page, branch)
    await expect(tree_item(page, path)).to_be_visible()
    await open_file(page, path)
    await switch_branch(page, "main")
    assert not (checkout / path).exists()

    await tab(page, path).click()
    notice = page.get_by_test_id("doc-missing")
    await expect(notice).to_be_visible()
    await expect(notice).to_have_attribute("data-reason", "branch")
    await expect(notice).to_contain_text("not on this branch")
    await expect(notice).to_contain_text(branch)

    await type_at_end(page, line)
    await page.keyboard.press("Control+s")
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "missing")
    await expect(tab(page, path)).to_have_attribute("data-dirty", "true")
    await expect(notice).to_be_visible()
    assert not (checkout / path).exists()

    # Saved as a file: on disk with what was typed; the tab settles.
    await page.get_by_test_id("doc-missing-save").click()
    await expect(notice).to_have_count(0, timeout=15_000)
    await expect(tab(page, path)).to_have_attribute("data-dirty", "false", timeout=15_000)
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    assert line in (checkout / path).read_text()
    await expect_editor_to_contain(page, line)


async def test_a_file_deleted_by_a_partner_says_so_and_can_be_closed(
    web: GatewayProcess, new_context: NewContext, lost_user: str
) -> None:
    path = f"models/gone_{secrets.token_hex(3)}.sql"
    checkout = volume(web, lost_user)
    me = await (await new_context()).new_page()
    await log_in(me, web.url, lost_user)
    await open_project(me)
    (checkout / path).write_text("select 2 as doomed\n")
    await me.get_by_test_id("sidebar-files").click()
    partner = await (await new_context()).new_page()
    await log_in(partner, web.url, lost_user)
    await open_project(partner)
    await open_file(me, path)

    # The partner deletes it through the tree.
    item = tree_item(partner, path)
    await open_file(partner, path)
    await partner.get_by_test_id("tree-delete").click()
    await partner.get_by_test_id("dialog-ok").click()
    await expect(item).to_have_count(0)

    notice = me.get_by_test_id("doc-missing")
    await expect(notice).to_have_attribute("data-reason", "deleted", timeout=15_000)
    await expect(notice).to_contain_text("was deleted")
    await expect(tab(me, path)).to_be_visible()
    await me.get_by_test_id("doc-missing-close").click()
    await expect(tab(me, path)).to_have_count(0)


# jupyter-server-ydoc's document_cleanup_delay: a room nobody is in closes after it, and the
# next visitor of a vanished file finds no room to hold its text.
ROOM_CLEANUP_SECONDS = 60


async def expect_gone(page: Page, path: str, reason: str, text: str) -> None:
    """The tab of ``path`` says its file is gone (the pod's words), not an HTTP status."""
    await tab(page, path).click()
    await expect(tab(page, path)).to_have_attribute("data-save-state", "gone", timeout=30_000)
    notice = page.get_by_test_id("doc-missing")
    await expect(notice).to_have_attribute("data-reason", reason)
    await expect(notice).to_contain_text(text)
    await expect(page.get_by_test_id("editor-error")).to_have_count(0)
    await expect(page.get_by_test_id("editor")).not_to_contain_text("404")
    # No document, so nothing to save: only "Close tab".
    await expect(page.get_by_test_id("doc-missing-save")).to_have_count(0)
    await expect(page.get_by_test_id("doc-missing-close")).to_be_visible()
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "gone")


@pytest.mark.timeout(300)
async def test_restored_tabs_whose_files_are_gone_say_why(
    web: GatewayProcess, new_context: NewContext, lost_user: str
) -> None:
    on_branch = f"restored_{secrets.token_hex(3)}.sql"
    deleted = f"models/deleted_{secrets.token_hex(3)}.sql"
    branch = f"restore-{secrets.token_hex(3)}"
    page = await (await new_context()).new_page()
    await log_in(page, web.url, lost_user)
    session_id = await open_project(page)
    checkout = volume(web, lost_user)
    branch_with_file(checkout, branch, on_branch, "select 3 as restored\n")
    (checkout / deleted).write_text("select 4 as deleted\n")
    await page.get_by_test_id("sidebar-git").click()
    await page.get_by_test_id("git-refresh").click()
    await switch_branch(page, branch)
    await open_file(page, deleted)
    await open_file(page, on_branch)
    await page.wait_for_timeout(500)  # the layout is written 200 ms after the last change
    first_browser, url = page.context, page.url
    await page.close()  # nobody is in the files' rooms any more

    # Meanwhile: the branch changes in another window, the other file is deleted.
    other = await (await new_context()).new_page()
    await log_in(other, web.url, lost_user)
    await open_project(other)
    await switch_branch(other, "main")
    assert not (checkout / on_branch).exists()
    api = Api(web.url)
    assert api.login(lost_user, PASSWORD).status_code == 200
    async with await api.rpc(session_id) as rpc:
        await rpc.call("fs/delete", {"path": deleted})
        # What the editor asks about a file it cannot open: why it is not there.
        with pytest.raises(RpcFailure) as failure:
            await rpc.call("fs/read_binary", {"path": deleted})
    assert failure.value.code == -32003
    why = {"reason": "deleted", "message": f"{deleted} was deleted."}
    assert failure.value.error["data"] == why
    await asyncio.sleep(ROOM_CLEANUP_SECONDS + 5)

    # Back in the first browser: both tabs are restored and say why their file is gone.
    page = await first_browser.new_page()
    await page.goto(url)
    await wait_connected(page)
    await expect(page.get_by_test_id("tab")).to_have_count(2)
    await expect_gone(page, deleted, "deleted", f"{deleted} was deleted.")
    await page.get_by_test_id("doc-missing-close").click()
    await expect(tab(page, deleted)).to_have_count(0)
    await expect_gone(page, on_branch, "branch", f"not on this branch (it is on {branch})")
    # Back on the branch, the tab opens its file again by itself.
    await switch_branch(page, branch)
    await expect_editor_to_contain(page, "select 3 as restored")
    await expect(page.get_by_test_id("doc-missing")).to_have_count(0)
    await switch_branch(page, "main")


async def test_a_search_result_for_a_file_deleted_since_says_so(
    web: GatewayProcess, new_context: NewContext, lost_user: str
) -> None:
    # Every way of opening a path (tree, palette, search, lineage, a restored tab) goes
    # through the same tab: a search result for a file deleted since says so too.
    page = await (await new_context()).new_page()
    await log_in(page, web.url, lost_user)
    await open_project(page)
    checkout = volume(web, lost_user)
    word = f"needle{secrets.token_hex(4)}"
    found = f"models/found_{secrets.token_hex(3)}.sql"
    (checkout / found).write_text(f"select 5 as {word}\n")
    await page.keyboard.press("Control+Shift+F")
    await page.get_by_test_id("search-query").fill(word)
    await page.get_by_test_id("search-query").press("Enter")
    match = page.locator(f'[data-testid=search-match][data-path="{found}"]')
    await expect(match).to_be_visible()
    (checkout / found).unlink()
    await match.click()
    await expect_gone(page, found, "deleted", f"{found} was deleted.")
