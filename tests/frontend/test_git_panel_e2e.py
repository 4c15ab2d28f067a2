"""The git panel end to end: edit, stage, diff, "Commit and sync" through the protected
primary branch onto a new branch, then a conflicting pull resolved in the editor."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable

import pygit2
import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.frontend.ide import (
    expect_editor_to_contain,
    log_in,
    open_file,
    open_project,
    tab,
    type_at_end,
)
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(120)

NewContext = Callable[[], Awaitable[BrowserContext]]
MODEL = "models/staging/stg_orders.sql"


@pytest.fixture(scope="module")
def git_user(make_developer: Callable[..., str]) -> str:
    return make_developer("git")


def remote(gateway: GatewayProcess) -> pygit2.Repository:
    return pygit2.Repository(str(gateway.data_dir / "remotes" / "demo.git"))


def remote_file(repo: pygit2.Repository, commit: pygit2.Commit, path: str) -> str:
    blob = repo[commit.tree[path].id]
    assert isinstance(blob, pygit2.Blob)
    return blob.data.decode()


def change_row(page: Page, path: str, group: str) -> Locator:
    return page.locator(f'[data-testid=git-file][data-path="{path}"][data-group="{group}"]')


async def click_action(row: Locator, testid: str) -> None:
    await row.hover()  # row actions show on hover, as in other editors
    await row.get_by_test_id(testid).click()


async def wait_idle(page: Page) -> None:
    await expect(page.get_by_test_id("git-panel")).to_have_attribute(
        "data-busy", "false", timeout=30_000
    )


async def edit_and_save(page: Page, path: str, text: str) -> None:
    await open_file(page, path)
    await type_at_end(page, text)
    await page.keyboard.press("Control+s")
    await expect(tab(page, path)).to_have_attribute("data-dirty", "false")


async def test_commit_and_sync_onto_a_new_branch(
    web: GatewayProcess, new_context: NewContext, git_user: str
) -> None:
    line = f"-- committed from the browser {secrets.token_hex(4)}"
    message = f"Note on stg_orders {secrets.token_hex(3)}"
    main_before = remote(web).references["refs/heads/main"].target

    page = await (await new_context()).new_page()
    await log_in(page, web.url, git_user)
    await open_project(page)
    await edit_and_save(page, MODEL, line)

    await page.get_by_test_id("sidebar-git").click()
    panel = page.get_by_test_id("git-panel")
    await expect(panel).to_have_attribute("data-branch", "main")
    await expect(page.get_by_test_id("git-change-count")).to_have_text("1")
    row = change_row(page, MODEL, "unstaged")
    await expect(row.get_by_test_id("git-file-marker")).to_have_text("M")

    # Stage, then unstage again.
    await click_action(row, "git-stage")
    await expect(change_row(page, MODEL, "staged")).to_be_visible()
    await expect(row).to_have_count(0)
    await click_action(change_row(page, MODEL, "staged"), "git-unstage")
    await expect(row).to_be_visible()

    # The side-by-side diff shows the new line on the right only.
    await row.click()
    diff = page.get_by_test_id("diff-view")
    await expect(diff).to_have_attribute("data-loaded", "true")
    added = diff.locator("[data-testid=diff-new][data-kind=add]")
    await expect(added).to_contain_text([line])
    await expect(diff.get_by_test_id("diff-stats")).to_have_text(re.compile(r"^\+\d+ −\d+$"))
    await diff.get_by_test_id("diff-close").click()
    await expect(diff).to_have_count(0)
    await row.click()  # open again: it closes by itself once the file is committed
    await expect(diff).to_have_attribute("data-loaded", "true")

    # main is protected: the commit offers <user>-patch-1, which takes the changes along.
    await page.get_by_test_id("git-commit-message").fill(message)
    await page.get_by_test_id("git-commit-sync").click()
    dialog = page.get_by_test_id("dialog")
    await expect(dialog).to_contain_text("main is protected")
    branch = f"{git_user}-patch-1"
    await expect(page.get_by_test_id("dialog-input")).to_have_value(branch)
    await page.get_by_test_id("dialog-ok").click()

    await expect(panel).to_have_attribute("data-branch", branch, timeout=30_000)
    await wait_idle(page)
    await expect(page.get_by_test_id("git-upstream")).to_have_text(f"origin/{branch} ↑0 ↓0")
    await expect(page.get_by_test_id("git-clean")).to_be_visible()
    await expect(diff).to_have_count(0)
    await expect(page.get_by_test_id("git-change-count")).to_have_text("")
    await expect(page.get_by_test_id("git-commit-entry").first).to_contain_text(message)
    await expect(page.get_by_test_id("git-branch")).to_have_attribute("data-current", branch)

    repo = remote(web)
    pushed = repo.references[f"refs/heads/{branch}"].peel(pygit2.Commit)
    assert pushed.message == message + "\n"
    assert pushed.parent_ids == [main_before]
    assert pushed.author.email == f"{git_user}@example.com"
    assert remote_file(repo, pushed, MODEL).rstrip("\n").endswith(line)
    assert repo.references["refs/heads/main"].target == main_before


def commit_on_remote(gateway: GatewayProcess, branch: str, path: str, old: str, new: str) -> None:
    """Someone else pushes a change to the same line of ``path`` on ``branch``."""
    repo = remote(gateway)
    parent = repo.references[f"refs/heads/{branch}"].peel(pygit2.Commit)
    text = remote_file(repo, parent, path)
    assert old in text
    blob = repo.create_blob(text.replace(old, new).encode())
    index = pygit2.Index()
    index.read_tree(parent.tree)
    index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode.BLOB))
    tree = index.write_tree(repo)
    someone = pygit2.Signature("Someone Else", "someone@example.com")
    repo.create_commit(
        f"refs/heads/{branch}", someone, someone, "Reword the note\n", tree, [parent.id]
    )


def volume_text(gateway: GatewayProcess, user: str, path: str) -> str:
    return (gateway.data_dir / "volumes" / user / "demo" / path).read_text()


async def replace_conflict_in_editor(page: Page, conflicted: str, replacement: str) -> None:
    """Selects from the ``<<<<<<<`` line to the end of the file and types over it."""
    lines = conflicted.split("\n")
    start = next(i for i, text in enumerate(lines) if text.startswith("<<<<<<<"))
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+End")
    for _ in range(len(lines) - 1 - start):
        await page.keyboard.press("Shift+ArrowUp")
    await page.keyboard.press("Shift+Home")
    await page.keyboard.type(replacement)


async def test_conflicting_pull_abort_then_resolve(
    web: GatewayProcess, new_context: NewContext, git_user: str
) -> None:
    branch = f"{git_user}-patch-1"  # made and pushed by the test above
    repo = remote(web)
    tip = repo.references[f"refs/heads/{branch}"].peel(pygit2.Commit)
    our_note = remote_file(repo, tip, MODEL).rstrip("\n").rsplit("\n", 1)[1]
    commit_on_remote(web, branch, MODEL, our_note, "-- their wording")

    page = await (await new_context()).new_page()
    await log_in(page, web.url, git_user)
    await open_project(page)
    await open_file(page, MODEL)
    # Our own rewording of the same line, committed locally.
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+End")
    await page.keyboard.press("Shift+Home")
    await page.keyboard.type("-- our wording")
    await page.keyboard.press("Control+s")
    await expect(tab(page, MODEL)).to_have_attribute("data-dirty", "false")

    await page.get_by_test_id("sidebar-git").click()
    await expect(page.get_by_test_id("git-panel")).to_have_attribute("data-branch", branch)
    await page.get_by_test_id("git-commit-message").fill("Our wording")
    await page.get_by_test_id("git-commit-sync").click()
    merge = page.get_by_test_id("git-merge")
    await expect(merge).to_be_visible(timeout=30_000)
    conflict = merge.locator(f'[data-testid=git-conflict][data-path="{MODEL}"]')
    await expect(conflict.get_by_test_id("git-file-marker")).to_have_text("C")
    await wait_idle(page)

    # Abort: the file is back to our committed version, no merge is left.
    await merge.get_by_test_id("git-abort-merge").click()
    await page.get_by_test_id("dialog-ok").click()
    await expect(merge).to_be_hidden()
    await expect(page.get_by_test_id("git-panel")).to_have_attribute("data-merging", "false")
    assert volume_text(web, git_user, MODEL).rstrip("\n").endswith("-- our wording")
    # The open editor follows the disk. Wait for it: the pod notices files that git changed
    # only at its next poll (up to a second later), and that reload replaces whatever is
    # typed into the room in between (reported as a backend issue).
    await expect_editor_to_contain(page, ">>>>>>>", present=False)

    # Pull again, and this time resolve in the editor.
    await page.get_by_test_id("git-pull").click()
    await expect(conflict).to_be_visible(timeout=30_000)
    await wait_idle(page)
    # Markers still in the file: "Mark resolved" asks first; decline.
    await conflict.get_by_test_id("git-resolve").click()
    await expect(page.get_by_test_id("dialog")).to_contain_text("still has conflict markers")
    await page.get_by_test_id("dialog-cancel").click()
    await wait_idle(page)

    await conflict.get_by_test_id("git-conflict-open").click()
    await expect(page.locator(f'[data-testid=editor][data-path="{MODEL}"]')).to_have_attribute(
        "data-synced", "true"
    )
    conflicted = volume_text(web, git_user, MODEL)
    assert "<<<<<<<" in conflicted
    await expect_editor_to_contain(page, ">>>>>>>")  # the room has the merge's file now
    await replace_conflict_in_editor(page, conflicted, "-- agreed wording")
    await conflict.get_by_test_id("git-resolve").click()
    await expect(conflict).to_have_count(0)
    await expect(page.get_by_test_id("git-merge-summary")).to_contain_text(
        "All conflicts are resolved"
    )
    await expect(page.get_by_test_id("git-commit")).to_have_text("Commit merge")

    await page.get_by_test_id("git-commit-sync").click()
    await expect(merge).to_be_hidden(timeout=30_000)
    await wait_idle(page)
    await expect(page.get_by_test_id("git-upstream")).to_have_text(f"origin/{branch} ↑0 ↓0")

    merged = remote(web).references[f"refs/heads/{branch}"].peel(pygit2.Commit)
    assert len(merged.parents) == 2
    text = remote_file(remote(web), merged, MODEL)
    assert text.rstrip("\n").endswith("-- agreed wording")
    assert "<<<<<<<" not in text and "their wording" not in text


async def test_read_only_member_sees_status_but_no_write_actions(
    web: GatewayProcess, new_context: NewContext, make_developer: Callable[..., str]
) -> None:
    viewer = make_developer("viewer", "read-only")
    page = await (await new_context()).new_page()
    await log_in(page, web.url, viewer)
    await open_project(page, role="read-only")
    await page.get_by_test_id("sidebar-git").click()
    panel = page.get_by_test_id("git-panel")
    await expect(panel).to_have_attribute("data-branch", "main")
    await expect(page.get_by_test_id("git-commit-entry").first).to_be_visible()
    await expect(page.get_by_test_id("git-clean")).to_be_visible()
    for hidden in ("git-commit-box", "git-new-branch", "git-pull", "git-push", "git-revert"):
        for element in await page.get_by_test_id(hidden).all():
            await expect(element).to_be_hidden()
    await expect(page.get_by_test_id("git-branch")).to_be_disabled()
