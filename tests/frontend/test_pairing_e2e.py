"""Pairing in two browsers: participants, named cursors, follow mode; then two users: a
share from A to B, B joining from "Shared with me", and B's editor once A revokes."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.frontend.ide import (
    SESSION_START_MS,
    expect_editor_to_contain,
    log_in,
    open_file,
    open_project,
    tab,
    type_at_end,
)
from tests.support.gateway import GatewayProcess, login_as

pytestmark = pytest.mark.timeout(180)

NewContext = Callable[[], Awaitable[BrowserContext]]
FIRST = "models/staging/stg_customers.sql"
SECOND = "models/staging/stg_orders.sql"


@pytest.fixture(scope="module")
def owner(make_developer: Callable[..., str]) -> str:
    return make_developer("pairowner")


@pytest.fixture(scope="module")
def guest(make_developer: Callable[..., str]) -> str:
    return make_developer("pairguest")


def participant(page: Page, username: str, you: bool = False) -> Locator:
    items = page.locator(f'[data-testid=participant][data-username="{username}"]')
    return items.filter(has_text="(you)") if you else items.filter(has_not_text="(you)")


def remote_caret(page: Page, name: str) -> Locator:
    """y-codemirror.next's caret of another participant, labelled with their name."""
    return page.locator(".cm-ySelectionCaret .cm-ySelectionInfo", has_text=name)


async def test_two_tabs_see_each_other_named_and_follow(
    web: GatewayProcess, new_context: NewContext, owner: str
) -> None:
    first = await (await new_context()).new_page()
    second = await (await new_context()).new_page()
    for page in (first, second):
        await log_in(page, web.url, owner)
        await open_project(page)
        await open_file(page, FIRST)

    # Each lists the other, in the file they are in.
    for page in (first, second):
        other = participant(page, owner)
        await expect(other).to_have_count(1)
        await expect(other.get_by_test_id("participant-file")).to_have_text("stg_customers.sql")

    # Typing puts a caret labelled with the typist's name into the other editor.
    await type_at_end(first, f"-- first tab {secrets.token_hex(3)}")
    await expect(remote_caret(second, owner)).to_have_count(1)

    # The second tab follows the first one; the first opens another file: so does the second.
    await participant(second, owner).click()
    await expect(participant(second, owner)).to_have_attribute("data-following", "true")
    await open_file(first, SECOND)
    await expect(tab(second, SECOND)).to_have_attribute("aria-selected", "true")
    await expect(participant(second, owner).get_by_test_id("participant-file")).to_have_text(
        "stg_orders.sql"
    )

    # Our own click in the editor ends following: the first moving on no longer moves us.
    await second.locator(".cm-content").click()
    await expect(participant(second, owner)).to_have_attribute("data-following", "false")
    await open_file(first, FIRST)
    await expect(participant(second, owner).get_by_test_id("participant-file")).to_have_text(
        "stg_customers.sql"
    )
    await expect(tab(second, SECOND)).to_have_attribute("aria-selected", "true")


async def test_owner_asks_everyone_to_follow(
    web: GatewayProcess, new_context: NewContext, owner: str
) -> None:
    leader = await (await new_context()).new_page()
    other = await (await new_context()).new_page()
    for page in (leader, other):
        await log_in(page, web.url, owner)
        await open_project(page)
        await open_file(page, FIRST)
    await expect(participant(other, owner)).to_have_count(1)
    await leader.get_by_test_id("ask-to-follow").click()
    await expect(participant(other, owner)).to_have_attribute("data-following", "true")
    await open_file(leader, SECOND)
    await expect(tab(other, SECOND)).to_have_attribute("aria-selected", "true")


async def test_share_join_type_revoke(
    web: GatewayProcess, new_context: NewContext, owner: str, guest: str
) -> None:
    a = await (await new_context()).new_page()
    b = await (await new_context()).new_page()
    await log_in(a, web.url, owner)
    session_id = await open_project(a)
    await open_file(a, FIRST)

    # A shares the session with B in edit mode, from the Share dialog.
    await a.get_by_test_id("share-session").click()
    dialog = a.get_by_test_id("share-dialog")
    await dialog.get_by_test_id("share-user").fill(guest)
    await dialog.get_by_test_id("share-mode").select_option("full")
    await expect(dialog.get_by_test_id("share-full-warning")).to_be_visible()
    await dialog.get_by_test_id("share-mode").select_option("edit")
    await expect(dialog.get_by_test_id("share-full-warning")).to_be_hidden()
    await dialog.get_by_test_id("share-submit").click()
    row = dialog.locator(f'[data-testid=share-row][data-user="{guest}"]')
    await expect(row.get_by_test_id("share-row-mode")).to_have_text("edit")
    await dialog.get_by_test_id("share-close").click()

    # B finds it under "Shared with me" and joins the owner's session.
    await log_in(b, web.url, guest)
    shared = b.locator(f'[data-testid=shared-row][data-owner="{owner}"]')
    await expect(shared.get_by_test_id("shared-mode")).to_have_text("Edit")
    await shared.get_by_test_id("shared-join").click()
    await expect(b.get_by_test_id("ide")).to_have_attribute("data-session", session_id)
    await expect(b.get_by_test_id("status-connection")).to_have_attribute(
        "data-state", "open", timeout=SESSION_START_MS
    )
    await expect(b.get_by_test_id("guest-badge")).to_contain_text(owner)
    await expect(b.get_by_test_id("share-session")).to_be_hidden()
    await open_file(b, FIRST)

    # Both type; each sees the other's words and the other's caret with their name.
    from_a = f"-- typed by the owner {secrets.token_hex(3)}"
    from_b = f"-- typed by the guest {secrets.token_hex(3)}"
    await type_at_end(a, from_a)
    await expect_editor_to_contain(b, from_a)
    await type_at_end(b, from_b)
    await expect_editor_to_contain(a, from_b)
    await expect(remote_caret(a, guest)).to_have_count(1)
    await expect(remote_caret(b, owner)).to_have_count(1)
    await expect(participant(a, guest)).to_have_count(1)
    await expect(participant(b, owner)).to_have_count(1)

    # A lowers the share to view: B is told, and B's editor no longer takes keystrokes.
    await a.get_by_test_id("share-session").click()
    dialog = a.get_by_test_id("share-dialog")
    await dialog.get_by_test_id("share-user").fill(guest)
    await dialog.get_by_test_id("share-mode").select_option("view")
    await dialog.get_by_test_id("share-submit").click()
    await expect(row.get_by_test_id("share-row-mode")).to_have_text("view")
    await expect(b.get_by_test_id("access-changed")).to_contain_text("only view", timeout=10_000)
    await expect(b.get_by_test_id("guest-badge")).to_contain_text("view")
    await open_file(b, FIRST)
    await expect(b.locator(".cm-content")).to_have_attribute("data-readonly", "true")

    # A revokes; B's editor says that access ended, and B's caret leaves A's editor.
    await (
        dialog.locator(f'[data-testid=share-row][data-user="{guest}"]')
        .get_by_test_id("share-revoke")
        .click()
    )
    await expect(dialog.get_by_test_id("share-none")).to_be_visible()
    await dialog.get_by_test_id("share-close").click()
    await expect(b.get_by_test_id("access-ended")).to_be_visible(timeout=10_000)
    await expect(b.get_by_test_id("access-ended")).to_contain_text("access to this session ended")
    # The pod's room does not announce a client whose socket the gateway closed; A's
    # awareness drops it once its 30 s renewal is missed.
    await expect(participant(a, guest)).to_have_count(0, timeout=40_000)


async def test_invite_link_in_view_mode_opens_a_read_only_editor(
    web: GatewayProcess, new_context: NewContext, owner: str, make_developer: Callable[..., str]
) -> None:
    viewer = make_developer("pairviewer")
    a = await (await new_context()).new_page()
    b = await (await new_context()).new_page()
    await log_in(a, web.url, owner)
    session_id = await open_project(a)
    await a.get_by_test_id("share-session").click()
    dialog = a.get_by_test_id("share-dialog")
    await dialog.get_by_test_id("invite-mode").select_option("view")
    await dialog.get_by_test_id("invite-create").click()
    await expect(dialog.get_by_test_id("invite-url")).to_have_value(re.compile(r"/#/invite/\S+"))
    url = await dialog.get_by_test_id("invite-url").input_value()
    await dialog.get_by_test_id("share-close").click()

    await log_in(b, web.url, viewer)
    await b.goto(url)
    await expect(b.get_by_test_id("ide")).to_have_attribute("data-session", session_id)
    await expect(b.get_by_test_id("guest-badge")).to_contain_text("view")
    await open_file(b, FIRST)
    await expect(b.locator(".cm-content")).to_have_attribute("data-readonly", "true")

    # The code worked once: a second acceptance is refused, and the page says so.
    await b.goto(web.url + "/#/")
    await b.goto(url)
    await expect(b.get_by_test_id("invite-error")).to_be_visible()


async def test_a_raised_mode_opens_the_guests_editor_and_the_guest_follows_the_owner(
    web: GatewayProcess, new_context: NewContext, owner: str, make_developer: Callable[..., str]
) -> None:
    """Two different users: a view share raised to edit reaches the guest's open editor at
    once (with the banner), and the guest follows the owner from file to file."""
    follower = make_developer("pairfollower")
    a = await (await new_context()).new_page()
    b = await (await new_context()).new_page()
    await log_in(a, web.url, owner)
    session_id = await open_project(a)
    await open_file(a, FIRST)
    owner_api = login_as(web, owner)
    shared = owner_api.http.post(
        f"/api/sessions/{session_id}/shares", json={"user": follower, "mode": "view"}
    )
    assert shared.status_code == 201, shared.text

    await log_in(b, web.url, follower)
    await (
        b.locator(f'[data-testid=shared-row][data-owner="{owner}"]')
        .get_by_test_id("shared-join")
        .click()
    )
    await expect(b.get_by_test_id("ide")).to_have_attribute("data-session", session_id)
    await open_file(b, FIRST)
    await expect(b.locator(".cm-content")).to_have_attribute("data-readonly", "true")

    raised = owner_api.http.post(
        f"/api/sessions/{session_id}/shares", json={"user": follower, "mode": "edit"}
    )
    assert raised.status_code == 201, raised.text
    await expect(b.get_by_test_id("access-changed")).to_contain_text("edit files", timeout=10_000)
    await expect(b.get_by_test_id("guest-badge")).to_contain_text("edit")
    await open_file(b, FIRST)
    await expect(b.locator(".cm-content")).not_to_have_attribute("data-readonly", "true")
    typed = f"-- the follower can type now {secrets.token_hex(3)}"
    await type_at_end(b, typed)
    await expect_editor_to_contain(a, typed)

    # The follower follows the owner: the owner opens another file, so does the follower.
    await participant(b, owner).click()
    await expect(participant(b, owner)).to_have_attribute("data-following", "true")
    await open_file(a, SECOND)
    await expect(tab(b, SECOND)).to_have_attribute("aria-selected", "true")
