"""A commit in the git panel's History shows what it changed."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, expect

from tests.frontend.ide import log_in, open_project
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(120)

NewContext = Callable[[], Awaitable[BrowserContext]]


@pytest.fixture(scope="module")
def history_user(make_developer: Callable[..., str]) -> str:
    return make_developer("history")


async def test_a_commit_in_history_shows_its_diff(
    web: GatewayProcess, new_context: NewContext, history_user: str
) -> None:
    page = await (await new_context()).new_page()
    await log_in(page, web.url, history_user)
    await open_project(page)
    await page.get_by_test_id("sidebar-git").click()
    oldest = page.get_by_test_id("git-commit-entry").last
    await expect(oldest).to_be_visible()
    commit = await oldest.get_attribute("data-commit")
    await oldest.click()
    view = page.get_by_test_id("commit-diff")
    await expect(view).to_have_attribute("data-loaded", "true")
    assert await view.get_attribute("data-commit") == commit
    stats = re.compile(r"^\d+ files?, \+\d+ −\d+$")
    await expect(view.get_by_test_id("diff-stats")).to_have_text(stats)
    project = view.locator('[data-testid=commit-diff-file][data-path="dbt_project.yml"]')
    await expect(project).to_have_attribute("data-status", "added")
    await expect(project.get_by_test_id("diff-row").first).to_be_visible()
    await view.get_by_test_id("diff-close").click()
    await expect(view).to_have_count(0)


async def test_conflict_markers_are_highlighted_and_resolved_per_conflict(
    web: GatewayProcess, new_context: NewContext, history_user: str
) -> None:
    from tests.frontend.ide import expect_editor_to_contain, open_file

    path = "models/conflicted_e2e.sql"
    page = await (await new_context()).new_page()
    await log_in(page, web.url, history_user)
    await open_project(page)
    volume = web.data_dir / "volumes" / history_user / "demo"
    (volume / path).write_text(
        "select 1\n<<<<<<< HEAD\nmine one\n=======\ntheirs one\n>>>>>>> feature\n"
        "middle\n<<<<<<< HEAD\nmine two\n=======\ntheirs two\n>>>>>>> feature\nend\n"
    )
    await page.get_by_test_id("tree-refresh").click()
    await open_file(page, path)
    actions = page.get_by_test_id("conflict-actions")
    await expect(actions).to_have_count(2)
    await expect(page.locator(".cm-conflict-current")).to_have_count(2)
    await expect(page.locator(".cm-conflict-incoming")).to_have_count(2)

    await actions.nth(0).get_by_test_id("conflict-accept-incoming").click()
    await expect(actions).to_have_count(1)
    await actions.nth(0).get_by_test_id("conflict-accept-both").click()
    await expect(actions).to_have_count(0)
    await expect_editor_to_contain(page, "mine two")
    content = await page.locator(".cm-content").inner_text()
    assert "theirs one" in content and "mine one" not in content
    assert "mine two\ntheirs two" in content and "<<<<<<<" not in content
