"""A project's git hosting provider, for "Open pull request" on self-hosted instances.

The pod guesses GitHub, GitLab or Azure DevOps from the remote's host name; a host such as
``git.example.internal`` names none of them, so a project's admins say which it is, and,
when the web pages live elsewhere than the git remote, the web base URL. Stored in
``project_git_providers``; a pod gets it at its start (``IDE_POD_GIT_PROVIDER``,
``IDE_POD_GIT_WEB_URL``), so sessions started after a change use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..db import Database
from . import audit
from .accounts import AccountError, AccountNotFound

if TYPE_CHECKING:
    from .services import Services

PROVIDERS = ("github", "gitlab", "azure")
MAX_URL_LENGTH = 2048


class InvalidProvider(AccountError):
    """The setting cannot be stored; the message says why."""


def check_web_url(value: str) -> str:
    """An absolute ``https://host[:port][/path]`` without credentials, query or fragment."""
    url = value.strip().rstrip("/")
    if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidProvider("'web_url' must be a URL such as https://gitlab.example.com")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidProvider(f"'web_url' is not a valid URL: {value!r}") from None
    if parts.scheme != "https":
        raise InvalidProvider("'web_url' must start with https:// (the browser opens it)")
    if not parts.hostname:
        raise InvalidProvider("'web_url' must name a host, as in https://gitlab.example.com")
    if parts.username is not None or parts.password is not None:
        raise InvalidProvider("'web_url' must not contain a user name or password")
    if parts.query or parts.fragment:
        raise InvalidProvider("'web_url' must not have a query (?...) or fragment (#...)")
    return url


def check_setting(body: Any) -> dict[str, str | None]:
    """``{"kind", "web_url"?}`` validated: raises InvalidProvider with a message."""
    if not isinstance(body, dict):
        raise InvalidProvider("the body must be a JSON object")
    unknown = set(body) - {"kind", "web_url"}
    if unknown:
        raise InvalidProvider(f"unknown field(s): {', '.join(sorted(unknown))}")
    kind = body.get("kind")
    if kind not in PROVIDERS:
        raise InvalidProvider(f"'kind' must be one of {', '.join(PROVIDERS)}")
    web_url = body.get("web_url")
    if web_url is not None and not isinstance(web_url, str):
        raise InvalidProvider("'web_url' must be a string")
    return {"kind": kind, "web_url": check_web_url(web_url) if web_url else None}


class GitProviderStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, project_id: int) -> dict[str, str | None] | None:
        row = await self.db.fetchone(
            "SELECT kind, web_url FROM project_git_providers WHERE project_id = %s",
            (project_id,),
        )
        return {"kind": row["kind"], "web_url": row["web_url"]} if row else None

    async def put(self, project_id: int, setting: dict[str, str | None], actor: str | None) -> None:
        await self.db.execute(
            "INSERT INTO project_git_providers (project_id, kind, web_url, updated_by)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (project_id) DO UPDATE"
            " SET kind = EXCLUDED.kind, web_url = EXCLUDED.web_url,"
            " updated_by = EXCLUDED.updated_by, updated_at = now()",
            (project_id, setting["kind"], setting["web_url"], actor),
        )

    async def delete(self, project_id: int) -> bool:
        return bool(
            await self.db.execute(
                "DELETE FROM project_git_providers WHERE project_id = %s", (project_id,)
            )
        )


async def _project_id(services: Services, name: str) -> int:
    project = await services.accounts.project_by_name(name)
    if project is None:
        raise AccountNotFound(f"no project {name!r}")
    return project.id


async def set_git_provider(
    services: Services, project: str, body: Any, actor: str | None
) -> dict[str, str | None]:
    """Check and store the setting (shared by the REST API and the CLI); audited."""
    project_id = await _project_id(services, project)
    setting = check_setting(body)
    await services.git_providers.put(project_id, setting, actor)
    await audit.record(services.db, actor, "project.git_provider", project=project, **setting)
    return setting


async def clear_git_provider(services: Services, project: str, actor: str | None) -> bool:
    """Back to guessing from the host name; audited."""
    removed = await services.git_providers.delete(await _project_id(services, project))
    await audit.record(services.db, actor, "project.git_provider.clear", project=project)
    return removed
