"""Admin operations on users, members and projects, shared by the REST API and the CLI.

Each operation that takes access away changes the database first; open sockets follow
within a revalidation interval on every replica (``revocation.py``), and pods that the
user may no longer use are stopped here. Volumes are kept unless deletion is asked for.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from session_manager.states import State
from session_manager.store import SessionRow

from . import audit
from .accounts import AccountError, AccountNotFound, User

if TYPE_CHECKING:
    from .services import Services

log = logging.getLogger(__name__)

_LIVE = (State.PENDING, State.STARTING, State.READY, State.STOPPING)


async def _stop(services: Services, rows: list[SessionRow], reason: str) -> int:
    for row in rows:
        await services.manager.stop_session(row.id, reason=reason)
    return len(rows)


async def _user(services: Services, username: str) -> User:
    user = await services.accounts.user_by_name(username)
    if user is None:
        raise AccountNotFound(f"no user {username!r}")
    return user


async def _enabled_admins(services: Services) -> list[str]:
    return [
        u.username for u in await services.accounts.list_users() if u.is_admin and not u.disabled
    ]


async def list_users(services: Services) -> list[dict[str, Any]]:
    """Every user, with how they sign in (``sso``) and whether they are break-glass."""
    rows = await services.db.fetchall(
        "SELECT u.id, u.break_glass, i.user_id IS NOT NULL AS sso FROM users u"
        " LEFT JOIN user_identities i ON i.user_id = u.id"
    )
    extra = {r["id"]: {"sso": r["sso"], "break_glass": r["break_glass"]} for r in rows}
    return [{**u.admin_view(), **extra.get(u.id, {})} for u in await services.accounts.list_users()]


async def end_access(services: Services, user_id: int, reason: str) -> tuple[int, int]:
    """End every login of the user and stop their pods (volumes stay); their sockets close
    at the next revalidation on every replica. Returns (logins ended, sessions stopped)."""
    logins = await services.logins.end_all(user_id)
    live = await services.store.list(user_id=user_id, states=_LIVE)
    return logins, await _stop(services, live, reason)


async def create_user(
    services: Services,
    username: str,
    password: str,
    *,
    is_admin: bool = False,
    email: str = "",
    display_name: str = "",
    actor: str | None,
) -> dict[str, Any]:
    """A new local user."""
    user = await services.accounts.create_user(
        username, password, is_admin=is_admin, email=email, display_name=display_name
    )
    await audit.record(services.db, actor, "user.add", user=username, is_admin=is_admin)
    return user.admin_view()


async def set_admin(
    services: Services, username: str, is_admin: bool, actor: str | None
) -> dict[str, Any]:
    """Make a user an admin (of every project) or take it back; the last enabled admin
    stays one. Sockets opened as an admin are downgraded at the next revalidation."""
    user = await _user(services, username)
    if user.is_admin and not is_admin and await _enabled_admins(services) == [username]:
        raise AccountError(f"{username!r} is the only enabled admin; make another admin first")
    user = await services.accounts.set_admin(username, is_admin)
    await audit.record(services.db, actor, "user.admin", user=username, is_admin=is_admin)
    return user.admin_view()


async def disable_user(services: Services, username: str, actor: str | None) -> dict[str, Any]:
    """Ends every login and socket of the user and stops their pods; volumes stay."""
    user = await _user(services, username)
    if user.is_admin and not user.disabled and await _enabled_admins(services) == [username]:
        raise AccountError(f"{username!r} is the only enabled admin; enable another admin first")
    user = await services.accounts.set_disabled(username, True)
    logins, stopped = await end_access(services, user.id, f"user {username} disabled")
    await audit.record(services.db, actor, "user.disable", user=username)
    return {**user.admin_view(), "logins_ended": logins, "sessions_stopped": stopped}


async def remove_user(
    services: Services, username: str, *, delete_volumes: bool, actor: str | None
) -> dict[str, Any]:
    """Remove a user entirely: logins, pods, memberships, shares, credentials, the history
    of their dbt invocations with its stored objects, and (if asked) their volumes. The
    audit log keeps their name. Nobody removes themselves or the last enabled admin.

    The stored objects go first: if the store does not answer, nothing is removed and the
    admin is told to try again (the user is left as they were, so nothing is orphaned).
    """
    from .objectstore import StoreUnavailable
    from .retention import delete_objects

    user = await _user(services, username)
    if username == actor:
        raise AccountError("you cannot remove yourself; another admin can")
    if user.is_admin and not user.disabled and await _enabled_admins(services) == [username]:
        raise AccountError(f"{username!r} is the only enabled admin; make another admin first")
    logins, stopped = await end_access(services, user.id, f"user {username} removed")
    volumes = sorted({r.project for r in await services.store.list(user_id=user.id)})
    rows = await services.db.fetchall(
        "SELECT object_keys FROM dbt_invocations WHERE user_id = %s", (user.id,)
    )
    assert services.objects is not None
    try:
        await delete_objects(services.objects, rows)
    except StoreUnavailable as exc:
        raise StoreUnreachable(
            f"the object store did not answer ({exc}); {username} was not removed: try again"
        ) from None
    await services.accounts.delete_user(username)
    if delete_volumes:
        for project in volumes:
            await services.manager.backend.delete_volume(username, project)
    await audit.record(
        services.db, actor, "user.remove", user=username, volumes_deleted=delete_volumes
    )
    return {
        "username": username,
        "logins_ended": logins,
        "sessions_stopped": stopped,
        "invocations_removed": len(rows),
        "volumes": volumes,
        "volumes_deleted": delete_volumes,
    }


class StoreUnreachable(Exception):
    """A removal that needs the object store, which did not answer; nothing was removed."""


async def enable_user(services: Services, username: str, actor: str | None) -> dict[str, Any]:
    user = await services.accounts.set_disabled(username, False)
    await audit.record(services.db, actor, "user.enable", user=username)
    return user.admin_view()


async def reset_password(
    services: Services, username: str, password: str, actor: str | None
) -> dict[str, Any]:
    """A new password set by an admin; every login of the user ends."""
    user = await services.accounts.set_password(username, password)
    logins = await services.logins.end_all(user.id)
    await audit.record(services.db, actor, "user.password_reset", user=username)
    return {**user.admin_view(), "logins_ended": logins}


async def list_members(services: Services, project: str) -> list[dict[str, str]]:
    return [
        {"username": name, "role": role}
        for name, role in await services.accounts.members_of(project)
    ]


async def add_member(
    services: Services, project: str, username: str, role: str, actor: str | None
) -> dict[str, str]:
    """Give a user a role on a project (or change the one they have)."""
    await services.accounts.add_member(project, username, role)
    await audit.record(services.db, actor, "member.add", project=project, user=username, role=role)
    return {"username": username, "project": project, "role": role}


async def set_role(
    services: Services, project: str, username: str, role: str, actor: str | None
) -> dict[str, str]:
    """Change a member's role; sockets opened under a higher one are downgraded."""
    previous = await services.accounts.set_role(project, username, role)
    await audit.record(
        services.db, actor, "member.role", project=project, user=username, role=role, was=previous
    )
    return {"username": username, "role": role, "previous_role": previous}


async def remove_member(
    services: Services, project: str, username: str, actor: str | None
) -> dict[str, Any]:
    """The user loses the project: their sockets close and their pod for it stops."""
    user = await _user(services, username)
    await services.accounts.remove_member(project, username)
    stopped = 0
    if not user.is_admin:  # admins keep reaching every project
        live = await services.store.list(user_id=user.id, states=_LIVE)
        mine = [r for r in live if r.project == project]
        stopped = await _stop(services, mine, f"removed from {project}")
    await audit.record(services.db, actor, "member.remove", project=project, user=username)
    return {"username": username, "project": project, "sessions_stopped": stopped}


async def list_projects(services: Services) -> list[dict[str, Any]]:
    from .admin_projects import project_view

    return [await project_view(services, p) for p in await services.accounts.list_projects()]


async def remove_project(
    services: Services, name: str, *, delete_volumes: bool, actor: str | None
) -> dict[str, Any]:
    """Stop every session of the project and delete it; its volumes are deleted only when
    ``delete_volumes`` is true (the callers make the admin say which)."""
    project = await services.accounts.project_by_name(name)
    if project is None:
        raise AccountNotFound(f"no project {name!r}")
    rows = [r for r in await services.store.list() if r.project_id == project.id]
    stopped = await _stop(
        services, [r for r in rows if r.state in _LIVE], f"project {name} removed"
    )
    owners = sorted({r.username for r in rows})
    await services.accounts.delete_project(name)
    if delete_volumes:
        for owner in owners:
            await services.manager.backend.delete_volume(owner, name)
    await audit.record(
        services.db, actor, "project.remove", project=name, volumes_deleted=delete_volumes
    )
    return {
        "name": name,
        "sessions_stopped": stopped,
        "volumes": owners,
        "volumes_deleted": delete_volumes,
    }


async def set_connection(
    services: Services, project: str, body: dict[str, Any], actor: str | None
) -> dict[str, Any]:
    """Check and store a project's warehouse connection; pods started after it use it.

    Raises AccountNotFound for an unknown project, InvalidSettings for bad input.
    """
    from .warehouse_config import check_attach_paths, check_connection

    row = await services.accounts.project_by_name(project)
    if row is None:
        raise AccountNotFound(f"no project {project!r}")
    connection = check_connection(body)
    check_attach_paths(connection, services.config.data_path, services.demo_warehouse_path)
    await services.warehouses.set_connection(row.id, connection, actor)
    await audit.record(
        services.db, actor, "project.connection", project=project, type=connection["type"]
    )
    return connection


async def remove_connection(services: Services, project: str, actor: str | None) -> bool:
    """Remove a project's connection; False if it had none. Pods started after it answer
    every preview and dbt command with "no warehouse connection" (-32043); running ones
    keep theirs until restarted.
    """
    row = await services.accounts.project_by_name(project)
    if row is None:
        raise AccountNotFound(f"no project {project!r}")
    removed = await services.warehouses.delete_connection(row.id)
    if removed:
        await audit.record(services.db, actor, "project.connection_removed", project=project)
    return removed
