"""The branches a remote has: ``python -P -m ide_server.workspace.git.lsremote URL``.

Run by the gateway as a process of its own when an admin adds or edits a project, so the
gateway never loads libgit2 and the check goes through the same remote rules as the pod
(an anonymous remote, no URL rewriting, the token only to the project's own host, TLS
always verified). The token arrives on stdin, never on the command line; the answer is
one JSON line on stdout: ``{"branches": [...]}`` or ``{"error": "<for a person>"}``.
"""

from __future__ import annotations

import json
import sys
import tempfile

import pygit2

from ..rpc import RpcError
from .credentials import RemoteSession, configure_tls
from .errors import translate_network_error
from .remote import project_remote

_HEADS = "refs/heads/"


def remote_branches(url: str, token: str, ca_bundle: str = "") -> list[str]:
    """Every branch name of the remote at ``url``, sorted; raises RpcError."""
    configure_tls(ca_bundle)
    with tempfile.TemporaryDirectory(prefix="ide-lsremote-") as scratch:
        repo = pygit2.init_repository(scratch, bare=True)
        remote = project_remote(repo, url)
        callbacks = RemoteSession(url, token, operation="ls-remote")
        try:
            heads = remote.list_heads(callbacks=callbacks)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            raise translate_network_error(exc, url, [token]) from None
    names = [h.name or "" for h in heads]
    return sorted(n[len(_HEADS) :] for n in names if n.startswith(_HEADS))


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else ""
    ca_bundle = argv[2] if len(argv) > 2 else ""
    token = sys.stdin.read().strip()
    try:
        answer: dict[str, object] = {"branches": remote_branches(url, token, ca_bundle)}
    except RpcError as exc:
        answer = {"error": exc.message}
    except (OSError, pygit2.GitError) as exc:
        answer = {"error": f"the remote {url} could not be reached: {exc}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
