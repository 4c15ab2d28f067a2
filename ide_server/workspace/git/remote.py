"""The project's remote: which URLs are accepted and how libgit2 gets to talk to them.

Every network operation uses an *anonymous* remote built from the URL in the project
settings, never ``remote.origin.url`` from ``.git/config``, so a rewritten ``.git/config``
cannot point fetches and pushes elsewhere. libgit2 still applies ``url.*.insteadOf`` and
``url.*.pushInsteadOf`` (from any config level) when it creates the remote; we detect the
rewrite and refuse, because following it would send the user's code to another host.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pygit2

from ..rpc import RpcError
from .errors import REMOTE_REFUSED

REMOTE_NAME = "origin"
TRACKING_PREFIX = f"refs/remotes/{REMOTE_NAME}/"
FETCH_REFSPEC = f"+refs/heads/*:{TRACKING_PREFIX}*"
ALLOWED_SCHEMES = frozenset({"https", "http", "file"})


def check_project_url(url: str) -> None:
    """Refuse URLs the pod must not use: SSH (runs ``core.sshCommand``), embedded secrets."""
    if not url:
        raise RpcError(REMOTE_REFUSED, "the project has no git remote configured")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise RpcError(
            REMOTE_REFUSED,
            "only https:// (and file://) git remotes are supported; "
            "ask an administrator to change the project's git URL",
        )
    if parts.password is not None:
        raise RpcError(
            REMOTE_REFUSED,
            "the project's git URL contains a password; store a token instead",
        )


def proxy_setting() -> str | None:
    """A proxy only from the pod's environment (set by the operator), never from git config."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        value = os.environ.get(name)
        if value:
            return value
    return None


def project_remote(repo: pygit2.Repository, url: str) -> pygit2.Remote:
    """An in-memory remote for ``url``; refuses if configuration rewrites it."""
    check_project_url(url)
    remote = repo.remotes.create_anonymous(url)
    if remote.url != url or remote.push_url not in (None, url):
        raise RpcError(
            REMOTE_REFUSED,
            "git configuration rewrites the project's remote URL (url.<base>.insteadOf or "
            "pushInsteadOf); remove that setting, the IDE only talks to the project's URL",
        )
    return remote


def tracking_ref(branch: str) -> str:
    return TRACKING_PREFIX + branch


def ensure_origin(repo: pygit2.Repository, url: str) -> None:
    """Record the (credential-free) project URL as ``origin`` for tools reading the config."""
    names = set(repo.remotes.names())
    if REMOTE_NAME not in names:
        repo.remotes.create(REMOTE_NAME, url, FETCH_REFSPEC)
    elif repo.remotes[REMOTE_NAME].url != url:
        repo.remotes.set_url(REMOTE_NAME, url)
