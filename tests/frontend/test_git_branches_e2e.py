"""The branch picker end to end: branches someone else pushed appear when the IDE opens
(the pod fetches in the background, no pull), and ~60 branches are found by typing,
chosen with the arrow keys and Enter, created from the typed name, closed with Escape."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pygit2
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.frontend.ide import log_in, open_project, wait_connected
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(180)

NewContext = Callable[[], Awaitable[BrowserContext]]
LOCAL_BRANCHES = 44
TEAM_BRANCHES = 15


@pytest.fixture(scope="module")
def picker_user(make_developer: Callable[..., str]) -> str:
    return make_developer("picker")


@pytest.fixture
def remote(web: GatewayProcess, picker_user: str) -> Iterator[pygit2.Repository]:
    """The demo project's remote; the branches this test pushes are deleted afterwards."""
    repo = pygit2.Repository(str(web.data_dir / "remotes" / "demo.git"))
    yield repo
    for name in list(repo.branches.local):
        if name.startswith(picker_user):
            repo.branches.local.delete(name)


def someone_pushes(repo: pygit2.Repository, branch: str, path: str) -> None:
    """Another developer pushes ``branch``: main plus one new file."""
    main = repo.references["refs/heads/main"].peel(pygit2.Commit)
    index = pygit2.Index()
    index.read_tree(main.tree)
    blob = repo.create_blob(f"-- {branch}\nselect 1\n".encode())
    index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode.BLOB))
    who = pygit2.Signature("Someone Else", "someone@example.com", int(time.time()), 0)
    tree = index.write_tree(repo)
    repo.create_commit(f"refs/heads/{branch}", who, who, f"Start {branch}\n", tree, [main.id])


def local_branches(volume: Path, names: list[str]) -> None:
    repo = pygit2.Repository(str(volume))
    main = repo.branches.local["main"].peel(pygit2.Commit)
    for name in names:
        repo.branches.local.create(name, main)


def option(page: Page, branch: str, kind: str = "local"):  # noqa: ANN201 - a Locator
    return page.locator(
        f'[data-testid=git-branch-option][data-branch="{branch}"][data-kind="{kind}"]'
    )


async def open_picker(page: Page) -> None:
    await page.get_by_test_id("git-branch").click()
    await expect(page.get_by_test_id("git-branch-menu")).to_be_visible()
    await expect(page.get_by_test_id("git-branch-filter")).to_be_focused()


async def wait_on_branch(page: Page, branch: str) -> None:
    panel = page.get_by_test_id("git-panel")
    await expect(panel).to_have_attribute("data-branch", branch, timeout=30_000)
    await expect(panel).to_have_attribute("data-busy", "false", timeout=30_000)


async def test_pushed_branches_appear_on_open_and_the_picker_finds_sixty(
    web: GatewayProcess, new_context: NewContext, picker_user: str, remote: pygit2.Repository
) -> None:
    u = picker_user
    page = await (await new_context()).new_page()
    await log_in(page, web.url, u)
    await open_project(page)  # the volume is cloned now: what is pushed next is new

    local = [f"{u}-local-{i:02d}" for i in range(LOCAL_BRANCHES)]
    local_branches(web.data_dir / "volumes" / u / "demo", local)
    shared = f"{u}-shared-feature"
    someone_pushes(remote, shared, "models/shared_feature.sql")
    for i in range(TEAM_BRANCHES):
        someone_pushes(remote, f"{u}-team-{i:02d}", f"models/team_{i:02d}.sql")

    # Opening the IDE again fetches in the background: no pull, no click.
    await page.reload()
    await wait_connected(page)
    await page.get_by_test_id("sidebar-git").click()
    await expect(page.get_by_test_id("git-panel")).to_have_attribute("data-branch", "main")
    await open_picker(page)
    await expect(option(page, f"origin/{shared}", "remote")).to_be_visible(timeout=30_000)
    # The first open's fetch may have brought some of the pushes already, and this one the
    # rest: the list is complete once the last branch pushed is in it.
    last = f"origin/{u}-team-{TEAM_BRANCHES - 1:02d}"
    await expect(option(page, last, "remote")).to_be_visible(timeout=30_000)
    menu = page.get_by_test_id("git-branch-menu")
    await expect(menu.get_by_test_id("git-branch-menu-fetch")).to_contain_text(
        "Remote branches as of"
    )
    options = menu.get_by_test_id("git-branch-option")
    assert await options.count() >= 1 + LOCAL_BRANCHES + 1 + TEAM_BRANCHES
    await expect(menu.locator("[data-testid=git-branch-section]")).to_have_text(["Local", "Remote"])
    await expect(option(page, "main")).to_have_attribute("data-current", "true")

    # Typing filters (case-insensitively); only the Remote section is left.
    await page.get_by_test_id("git-branch-filter").fill(f"{u}-TEAM-1")
    await expect(options).to_have_count(5)  # team-10 … team-14
    for text in await options.all_inner_texts():
        assert f"{u}-team-1" in text
    await expect(menu.locator("[data-testid=git-branch-section]")).to_have_text(["Remote"])

    # Escape closes without switching, and gives the focus back to the picker.
    await page.keyboard.press("Escape")
    await expect(menu).to_be_hidden()
    await expect(page.get_by_test_id("git-branch")).to_be_focused()

    # Arrow keys and Enter: the second match of "local-4" is local-41.
    await open_picker(page)
    await page.keyboard.type(f"{u}-local-4")
    await expect(options.first).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("ArrowDown")
    await expect(option(page, f"{u}-local-41")).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("Enter")
    await wait_on_branch(page, f"{u}-local-41")
    await expect(menu).to_be_hidden()

    # A remote branch checks out as a local branch that tracks it.
    await open_picker(page)
    await page.keyboard.type("shared-fea")
    await page.keyboard.press("Enter")
    await wait_on_branch(page, shared)
    await expect(page.get_by_test_id("git-upstream")).to_have_text(f"origin/{shared} ↑0 ↓0")
    await expect(page.get_by_test_id("git-branch")).to_have_attribute("data-current", shared)
    await open_picker(page)
    await page.keyboard.type(shared)
    await expect(option(page, shared)).to_be_visible()
    await expect(option(page, f"origin/{shared}", "remote")).to_have_count(0)

    # No match: "Create branch <typed name>" is the one choice; Enter creates it.
    new = f"{u}-brand-new"
    await page.get_by_test_id("git-branch-filter").fill(new)
    create = page.get_by_test_id("git-branch-create")
    await expect(create).to_have_text(f"+Create branch {new}")
    await expect(options).to_have_count(0)
    await expect(create).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("Enter")
    await wait_on_branch(page, new)

    # A name git refuses is offered, but disabled, with the reason.
    await open_picker(page)
    await page.keyboard.type("bad..name")
    await expect(create).to_have_attribute("aria-disabled", "true")
    await expect(create).to_contain_text("not a valid branch name")
    await page.keyboard.press("Enter")
    await expect(menu).to_be_visible()
    await page.mouse.click(5, 5)  # a click elsewhere closes it too
    await expect(menu).to_be_hidden()
    await expect(page.get_by_test_id("git-panel")).to_have_attribute("data-branch", new)


async def test_a_failed_fetch_is_shown_and_blocks_nothing(
    web: GatewayProcess, new_context: NewContext, picker_user: str
) -> None:
    page = await (await new_context()).new_page()
    await log_in(page, web.url, picker_user)
    await open_project(page)
    await page.get_by_test_id("sidebar-git").click()
    state = page.get_by_test_id("git-fetch-state")
    # The fetch the IDE started when it opened ends first (a refresh would join it).
    await expect(state).to_have_attribute("data-state", "done", timeout=30_000)
    # For a moment the remote is no repository (the pod's sandbox binds its directory, so
    # the directory itself stays; what is in it changes).
    remote = web.data_dir / "remotes" / "demo.git" / "HEAD"
    away = remote.with_name("HEAD.away")
    remote.rename(away)
    try:
        await page.get_by_test_id("git-refresh").click()
        await expect(state).to_have_attribute("data-state", "failed", timeout=30_000)
        await expect(state).to_contain_text("Remote branches not updated")
        # The panel still works: a branch is created and checked out meanwhile.
        await open_picker(page)
        await page.keyboard.type(f"{picker_user}-after-failure")
        await page.keyboard.press("Enter")
        await wait_on_branch(page, f"{picker_user}-after-failure")
    finally:
        away.rename(remote)
    await page.get_by_test_id("git-refresh").click()
    await expect(state).to_have_attribute("data-state", "done", timeout=30_000)
    await expect(state).to_have_text("")
