"""Admin operations on projects: add and edit (the default branch checked against the
remote), the deploy token. Shared by the REST API and the CLI; every change is audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import audit
from .accounts import AccountError, AccountNotFound, Project
from .credentials import GIT_TOKEN
from .remote_branches import check_branch

if TYPE_CHECKING:
    from .services import Services


def token_hint(secret: str) -> str:
    """Enough to recognise a token, never enough to use it."""
    return f"…{secret[-4:]}" if len(secret) >= 12 else "…"


async def _project(services: Services, name: str) -> Project:
    project = await services.accounts.project_by_name(name)
    if project is None:
        raise AccountNotFound(f"no project {name!r}")
    return project


async def _check(services: Services, url: str, branch: str, token: str) -> None:
    await check_branch(url, branch, token, ca_bundle=services.config.git_ca_bundle)


async def deploy_token_hint(services: Services, project: Project) -> str | None:
    token = await services.credentials.get(GIT_TOKEN, project_id=project.id)
    return None if token is None else token_hint(token)


async def project_view(services: Services, project: Project) -> dict[str, Any]:
    members = await services.accounts.members_of(project.name)
    hint = await deploy_token_hint(services, project)
    return {
        "name": project.name,
        "git_url": project.git_url,
        "default_branch": project.default_branch,
        "members": len(members),
        "deploy_token_set": hint is not None,
        "deploy_token_hint": hint,
    }


async def add_project(
    services: Services,
    name: str,
    git_url: str,
    default_branch: str,
    *,
    deploy_token: str = "",
    check_remote: bool = True,
    actor: str | None,
) -> dict[str, Any]:
    """Register a project once its remote proved to have ``default_branch``."""
    if not default_branch:
        raise AccountError("a project needs a default branch")
    if await services.accounts.project_by_name(name) is not None:
        raise AccountError(f"project {name!r} exists already")
    if check_remote:
        await _check(services, git_url, default_branch, deploy_token)
    project = await services.accounts.create_project(name, git_url, default_branch)
    if deploy_token:
        await services.credentials.put(GIT_TOKEN, deploy_token, project_id=project.id)
    await audit.record(
        services.db,
        actor,
        "project.add",
        project=name,
        git_url=git_url,
        default_branch=default_branch,
        remote_checked=check_remote,
    )
    return await project_view(services, project)


async def edit_project(
    services: Services,
    name: str,
    *,
    git_url: str | None = None,
    default_branch: str | None = None,
    actor: str | None,
) -> dict[str, Any]:
    """Change the remote or the default branch; the new pair is checked first. Sessions
    that run keep their checkout; new sessions use the new settings."""
    project = await _project(services, name)
    url = git_url or project.git_url
    branch = default_branch or project.default_branch
    if (url, branch) == (project.git_url, project.default_branch):
        return await project_view(services, project)
    token = await services.credentials.get(GIT_TOKEN, project_id=project.id) or ""
    await _check(services, url, branch, token)
    updated = await services.accounts.update_project(name, git_url=url, default_branch=branch)
    await audit.record(
        services.db, actor, "project.edit", project=name, git_url=url, default_branch=branch
    )
    return await project_view(services, updated)


async def set_deploy_token(
    services: Services, name: str, token: str, actor: str | None
) -> dict[str, Any]:
    project = await _project(services, name)
    await services.credentials.put(GIT_TOKEN, token, project_id=project.id)
    await audit.record(services.db, actor, "deploy_token.set", project=name)
    return {"deploy_token_set": True, "hint": token_hint(token)}


async def delete_deploy_token(services: Services, name: str, actor: str | None) -> bool:
    project = await _project(services, name)
    removed = await services.credentials.delete(GIT_TOKEN, project_id=project.id)
    await audit.record(services.db, actor, "deploy_token.delete", project=name)
    return removed
