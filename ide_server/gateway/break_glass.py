"""Who may still log in with a password: SSO users never (they sign in at the provider),
and in ``oidc`` mode only the accounts an admin marked break-glass, for when the provider
is down or misconfigured. Marking one is audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import audit
from .accounts import AccountNotFound, User
from .http import ApiError

if TYPE_CHECKING:
    from .services import Services


async def set_break_glass(
    services: Services, username: str, on: bool, actor: str | None
) -> dict[str, object]:
    row = await services.db.fetchone(
        "UPDATE users SET break_glass = %s WHERE username = %s RETURNING username",
        (on, username),
    )
    if row is None:
        raise AccountNotFound(f"no user {username!r}")
    await audit.record(services.db, actor, "user.break_glass", user=username, on=on)
    return {"username": username, "break_glass": on}


async def refuse_sso_user(services: Services, user: User | None) -> None:
    """SSO users have no local password, even one set before they signed in by SSO."""
    if user is None:
        return
    row = await services.db.fetchone(
        "SELECT 1 AS one FROM user_identities WHERE user_id = %s", (user.id,)
    )
    if row is not None:
        name = services.config.oidc_provider_name
        raise ApiError(
            403, "sso_required", f"This account signs in with {name}: sign in with {name}."
        )


async def refuse_local_login(services: Services, user: User) -> None:
    """In ``oidc`` mode a password opens only break-glass accounts."""
    if services.config.auth_mode != "oidc":
        return
    row = await services.db.fetchone("SELECT break_glass FROM users WHERE id = %s", (user.id,))
    if row is None or not row["break_glass"]:
        name = services.config.oidc_provider_name
        raise ApiError(
            403,
            "local_login_disabled",
            f"Local logins are turned off on this server: sign in with {name}.",
        )
