"""A fetch that cannot disturb the checkout: ``python -P -m ide_server.workspace.git.fetch_child``.

Run by :mod:`.background` in a process of its own, so a remote that never answers is
bounded by killing the process (libgit2 has no way to interrupt a blocked read), and the
git lock is never held while the network is slow. The process writes nothing into the
checkout's repository: it fetches into a scratch bare repository whose object store
*borrows* the checkout's objects (``objects/info/alternates``), so only new objects
travel. The parent then moves the new pack into the checkout and updates the tracking
references itself, under the git lock, in a few milliseconds.

stdin: one JSON object ``{"root", "scratch", "url", "token", "ca_bundle"}`` (the token
never on the command line). stdout: JSON lines, ``{"progress": {...}}`` while receiving,
then ``{"refs": {"<branch>": "<oid>"}, "received_objects": n}`` or ``{"error": "..."}``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import FetchPrune

from ..rpc import RpcError
from .credentials import RemoteSession, configure_tls
from .errors import translate_network_error
from .remote import project_remote, proxy_setting
from .repo import open_repository

SCRATCH_PREFIX = "refs/remotes/origin/"
_HAVE_PREFIXES = ("refs/heads/", "refs/remotes/")


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def scratch_repository(checkout: pygit2.Repository, scratch: Path) -> pygit2.Repository:
    """A fresh bare repository sharing ``checkout``'s objects, with its branch tips as refs.

    The refs are what libgit2 tells the remote it already has, so the remote sends only
    what is new instead of the whole history.
    """
    shutil.rmtree(scratch, ignore_errors=True)
    pygit2.init_repository(str(scratch), bare=True)
    objects = Path(checkout.path) / "objects"
    (scratch / "objects" / "info" / "alternates").write_text(f"{objects.resolve()}\n")
    repo = pygit2.Repository(str(scratch))
    for index, name in enumerate(checkout.references):
        if not name.startswith(_HAVE_PREFIXES) or name.endswith("/HEAD"):
            continue
        target = checkout.references[name].resolve().target
        if isinstance(target, pygit2.Oid):
            repo.references.create(f"refs/have/{index}", target, force=True)
    return repo


def fetch_into_scratch(request: dict[str, str]) -> dict[str, Any]:
    url, token = request["url"], request.get("token", "")
    configure_tls(request.get("ca_bundle", ""))
    checkout = open_repository(Path(request["root"]))
    repo = scratch_repository(checkout, Path(request["scratch"]))
    remote = project_remote(repo, url)
    session = RemoteSession(
        url, token, operation="fetch", on_progress=lambda p: _say({"progress": p})
    )
    try:
        stats = remote.fetch(
            [f"+refs/heads/*:{SCRATCH_PREFIX}*"],
            callbacks=session,
            prune=FetchPrune.NO_PRUNE,
            proxy=proxy_setting(),
        )
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message
        raise translate_network_error(exc, url, [token]) from None
    refs = {
        name.removeprefix(SCRATCH_PREFIX): str(repo.references[name].target)
        for name in repo.references
        if name.startswith(SCRATCH_PREFIX) and not name.endswith("/HEAD")
    }
    return {"refs": refs, "received_objects": stats.received_objects}


def main() -> int:
    try:
        request = json.loads(sys.stdin.read())
        _say(fetch_into_scratch(request))
    except RpcError as exc:
        _say({"error": exc.message})
    except (OSError, ValueError, KeyError, pygit2.GitError) as exc:
        _say({"error": f"the fetch failed: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
