"""Which branches a project's git remote has, asked before a project is added or edited.

The question goes to ``python -P -m ide_server.workspace.git.lsremote`` in a process of its
own: the gateway never loads libgit2 or the pod's code, and the remote is reached under the
same rules as in a pod (see that module). The token goes through the child's stdin.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile

from .accounts import AccountError

LS_REMOTE_MODULE = "ide_server.workspace.git.lsremote"
TIMEOUT = 60.0  # libgit2's own connect timeout is 15 s; this bounds a stalled transfer


class RemoteUnreachable(AccountError):
    """The remote could not be asked (unreachable, refused the token, untrusted TLS)."""


class BranchMissing(AccountError):
    """The remote lacks the branch; ``branches`` are the ones it has."""

    def __init__(self, message: str, branches: list[str]) -> None:
        super().__init__(message)
        self.branches = branches


async def list_branches(url: str, token: str = "", *, ca_bundle: str = "") -> list[str]:
    """The remote's branch names, sorted; raises RemoteUnreachable with a message."""
    with tempfile.TemporaryDirectory(prefix="ide-lsremote-home-") as home:
        # A home of its own: no ~/.gitconfig of the gateway's user reaches libgit2.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "IDE_"))}
        env.update(HOME=home, XDG_CONFIG_HOME=home, GIT_CONFIG_NOSYSTEM="1")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-P", "-m", LS_REMOTE_MODULE, url, ca_bundle,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=home,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(proc.communicate(token.encode()), TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RemoteUnreachable(
                f"the remote {url} did not answer within {TIMEOUT:.0f} s"
            ) from None
    try:
        answer = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RemoteUnreachable(f"the remote {url} could not be asked for its branches") from None
    if "error" in answer:
        raise RemoteUnreachable(str(answer["error"]))
    return [str(b) for b in answer["branches"]]


async def check_branch(url: str, branch: str, token: str = "", *, ca_bundle: str = "") -> None:
    """Raise BranchMissing unless the remote at ``url`` has ``branch``."""
    branches = await list_branches(url, token, ca_bundle=ca_bundle)
    if branch in branches:
        return
    if not branches:
        raise BranchMissing(
            f"the remote {url} has no branches yet; push a first commit to {branch!r}", []
        )
    raise BranchMissing(
        f"the remote {url} has no branch {branch!r}; it has: {', '.join(branches)}", branches
    )
