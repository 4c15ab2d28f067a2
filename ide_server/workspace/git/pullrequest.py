"""``git/pull_request_url``: where to open a pull request for the current branch.

Built from the project's remote URL (never from ``.git/config``) for GitHub, GitLab and
Azure DevOps. The project's setting (``IDE_POD_GIT_PROVIDER``, and ``IDE_POD_GIT_WEB_URL``
when the web pages live elsewhere than the git remote) says which provider a self-hosted
host is; without it the provider is guessed from the host (``github``/``gitlab`` in its
name, Azure's hosts and ``/_git/`` paths). The user's browser opens the page; the pod
never calls the provider.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote, urlsplit

Provider = Literal["github", "gitlab", "azure"]

_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


def web_location(remote_url: str) -> tuple[str, str] | None:
    """``(host, path)`` of the repository's web page, credentials and ``.git`` removed."""
    url = remote_url.strip()
    if "://" in url:
        parts = urlsplit(url)
        host = parts.hostname or ""
        path = parts.path
    else:
        match = _SCP.match(url)  # git@host:owner/repo.git
        if not match:
            return None
        host, path = match["host"], match["path"]
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    if not host or not path:
        return None
    if host == "ssh.dev.azure.com" and path.startswith("v3/"):
        # git@ssh.dev.azure.com:v3/org/project/repo → dev.azure.com/org/project/_git/repo
        org, project, repo = (path.split("/", 3) + ["", "", ""])[1:4]
        host, path = "dev.azure.com", f"{org}/{project}/_git/{repo}"
    return host.lower(), path


def provider_of(host: str, path: str) -> Provider | None:
    if host == "dev.azure.com" or host.endswith(".visualstudio.com") or "/_git/" in f"/{path}":
        return "azure"
    if "github" in host:
        return "github"
    if "gitlab" in host:
        return "gitlab"
    return None


PROVIDERS: tuple[Provider, ...] = ("github", "gitlab", "azure")


def pull_request_url(
    remote_url: str, branch: str, base: str, *, provider: str = "", web_url: str = ""
) -> tuple[str | None, Provider | None]:
    """The provider's "new pull request" page for ``branch`` into ``base``.

    ``provider`` (one of :data:`PROVIDERS`) overrides the guess; ``web_url`` replaces
    ``https://<remote host>`` as the base the repository's path is appended to.
    """
    location = web_location(remote_url)
    if location is None:
        return None, None
    host, path = location
    kind = next((p for p in PROVIDERS if p == provider), None) or provider_of(host, path)
    base_url = web_url.rstrip("/") if kind and web_url else f"https://{host}"
    return _compare_page(kind, f"{base_url}/{path}", branch, base)


def _compare_page(
    provider: Provider | None, web: str, branch: str, base: str
) -> tuple[str | None, Provider | None]:
    source, target = quote(branch, safe="/"), quote(base, safe="/")
    if provider == "github":
        return f"{web}/compare/{target}...{source}?expand=1", provider
    if provider == "gitlab":
        query = (
            f"merge_request%5Bsource_branch%5D={source}&merge_request%5Btarget_branch%5D={target}"
        )
        return f"{web}/-/merge_requests/new?{query}", provider
    if provider == "azure":
        return f"{web}/pullrequestcreate?sourceRef={source}&targetRef={target}", provider
    return None, None
