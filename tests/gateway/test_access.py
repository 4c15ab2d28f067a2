"""The access decision of access.py, case by case (over HTTP and sockets: test_shares.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ide_server.gateway.access import Access, decide


def _facts(**overrides: Any) -> dict[str, Any]:
    base = {
        "user_id": 2,
        "is_admin": False,
        "owner_id": 1,
        "member_role": "developer",
        "owner_role": "developer",
        "share_mode": None,
    }
    return {**base, **overrides}


def test_the_owner_gets_their_role_and_no_mode() -> None:
    assert decide(_facts(user_id=1, member_role="read-only")) == Access("read-only")
    assert decide(_facts(user_id=1, member_role=None)) is None  # removed from the project


def test_an_admin_reaches_every_session() -> None:
    assert decide(_facts(is_admin=True, member_role=None)) == Access("admin")


@pytest.mark.parametrize(
    ("share", "guest_role", "owner_role", "expected"),
    [
        ("view", "developer", "developer", Access("read-only", "view")),
        ("edit", "developer", "developer", Access("developer", "edit")),
        ("full", "developer", "developer", Access("developer", "full")),
        ("full", "admin", "developer", Access("admin", "full")),
        ("edit", "read-only", "developer", Access("read-only", "view")),
        ("full", "developer", "read-only", Access("read-only", "view")),
        ("edit", "developer", "admin", Access("developer", "edit")),
    ],
)
def test_a_guest_gets_the_lowest_of_share_and_roles(
    share: str, guest_role: str, owner_role: str, expected: Access
) -> None:
    facts = _facts(share_mode=share, member_role=guest_role, owner_role=owner_role)
    assert decide(facts) == expected


def test_no_share_no_membership_or_no_owner_is_no_access() -> None:
    assert decide(_facts()) is None  # another member, not shared with
    assert decide(_facts(share_mode="full", member_role=None)) is None  # left the project
    assert decide(_facts(share_mode="full", owner_role=None)) is None  # owner left or disabled
    assert decide(_facts(user_id=None)) is None  # unknown or disabled user
    assert decide(_facts(owner_id=None)) is None  # no such session
