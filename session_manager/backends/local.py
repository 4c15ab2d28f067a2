"""Session pods as child processes of this machine, each on a private Unix socket.

Layout under the data dir: ``volumes/<user>/<project>`` (kept), ``run/<session>/`` (mode 0700:
the socket, the pod's record, Jupyter's runtime files; removed on stop) and
``logs/sessions/<session>.log``. Pods run in their own process group so that they outlive a
gateway restart and can be adopted by the next one.

Each pod runs confined (:mod:`.sandbox`): bwrap, then :mod:`.pod_guard` as PID 1 of the
pod's namespace holding it to its limits, then the Jupyter server. Without a working
sandbox no pod starts, unless the admin chose to run them unconfined.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from ide_server.config import Config

from ..pods import pod_client
from . import pod_guard
from .base import Backend, BackendError, PodInfo, PodSpec, Progress
from .processes import pid_is_pod, read_all, terminate_group
from .sandbox import (
    FIX_HINT,
    Sandbox,
    SandboxUnavailable,
    ca_paths,
    find_bwrap,
    probe,
    python_paths,
    shared_paths,
    system_paths,
)

log = logging.getLogger(__name__)

_RECORD = "pod.json"
_INHERITED = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "TZ",
        "TMPDIR",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    }
)
_SOCKET = "pod.sock"
_REASON = "stop-reason"  # written by the pod's guard when it stopped the pod for a limit
# Leaves room for "/<32-hex session id>/pod.sock" within the ~107-byte socket path limit.
_MAX_RUN_ROOT = 60
_READY_POLL = 0.01  # seconds between two looks at a starting pod (a stat, then a GET)


@dataclass(frozen=True)
class Confinement:
    """How local pods are confined: field ``x`` is the setting ``local_x`` of
    ide_server/config.py, where its default and its help live."""

    bwrap: str  # empty: found by :func:`.sandbox.find_bwrap`
    unconfined: bool
    memory_limit_mb: int
    max_tasks: int
    max_open_files: int

    @classmethod
    def from_config(cls, config: Config) -> Confinement:
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{name: config.values[f"local_{name}"] for name in names})


class LocalBackend(Backend):
    name = "local"

    def __init__(
        self,
        data_dir: Path,
        confinement: Confinement,
        *,
        python: str = sys.executable,
    ) -> None:
        self.data_dir = data_dir
        self.python = python
        self.confinement = confinement
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._bwrap: str | None = None  # found and probed once, at the first start

    @classmethod
    def from_config(cls, config: Config) -> LocalBackend:
        return cls(config.data_path, Confinement.from_config(config))

    # -- layout ----------------------------------------------------------------------------
    def volume_path(self, user: str, project: str) -> Path:
        return self.data_dir / "volumes" / user / project

    def _run_root(self) -> Path:
        """The private directory holding each pod's socket, mode 0700.

        A Unix socket path is limited to about 100 bytes; when the data dir is too deep for
        that, the runtime files go to a per-data-dir directory in the system's temp dir,
        which must then be ours, private and not a symlink.
        """
        root = self.data_dir / "run"
        if len(str(root)) > _MAX_RUN_ROOT:
            digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
            root = Path(tempfile.gettempdir()) / f"ide-run-{os.getuid()}-{digest}"
        root.parent.mkdir(parents=True, exist_ok=True)
        try:
            root.mkdir(mode=0o700)
        except FileExistsError:
            pass
        info = os.lstat(root)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise BackendError(f"{root} is not a directory owned by this user; remove it")
        os.chmod(root, 0o700)
        return root

    def _staging_dir(self, spec: PodSpec) -> Path:
        staging = self.data_dir / "staging" / spec.user / spec.project
        _private_dirs(self.data_dir, staging)
        return staging

    def runtime_dir(self, session_id: str) -> Path:
        return self._run_root() / session_id

    def log_path(self, session_id: str) -> Path:
        return self.data_dir / "logs" / "sessions" / f"{session_id}.log"

    # -- confinement -----------------------------------------------------------------------
    async def _sandbox_binary(self) -> str | None:
        """The probed bwrap, None when the admin chose unconfined pods; else BackendError."""
        if self.confinement.unconfined:
            log.warning(
                "starting a session pod UNCONFINED (IDE_LOCAL_UNCONFINED): it can read the "
                "data dir, the master key and every volume"
            )
            return None
        if self._bwrap is None:
            try:
                bwrap = find_bwrap(self.confinement.bwrap)
                scratch = self._run_root()
                await asyncio.to_thread(
                    probe, Sandbox(bwrap, scratch, scratch, tuple(system_paths()))
                )
            except SandboxUnavailable as exc:
                raise BackendError(f"session pods cannot be confined: {exc}. {FIX_HINT}") from None
            self._bwrap = bwrap
        return self._bwrap

    def _command(self, spec: PodSpec, bwrap: str | None, runtime: Path, info_fd: int) -> list[str]:
        pod = [self.python, "-P", "-m", "ide_server.workspace.launch"]  # -P: see launch.py
        if bwrap is None:
            return pod
        limits = self.confinement
        guard = pod_guard.command(self.python)
        guard += ["--memory-mb", str(limits.memory_limit_mb), "--tasks", str(limits.max_tasks)]
        guard += ["--open-files", str(limits.max_open_files)]
        guard += ["--reason-file", str(runtime / _REASON), "--"]
        writable, readable = shared_paths(spec.env)
        sandbox = Sandbox(
            bwrap,
            self.volume_path(spec.user, spec.project),
            runtime,
            system=(*system_paths(), *python_paths()),
            hidden=(self.data_dir,),
            read_only=(*readable, *ca_paths(os.environ)),
            read_write=tuple(writable),
            tmp_size_mb=limits.memory_limit_mb,
            staging=self._staging_dir(spec),
        )
        return sandbox.argv(guard + pod, info_fd=info_fd)

    # -- the interface ---------------------------------------------------------------------
    async def start(self, spec: PodSpec, progress: Progress) -> str:
        bwrap = await self._sandbox_binary()
        runtime = self.runtime_dir(spec.session_id)
        runtime.mkdir(mode=0o700, exist_ok=True)
        volume = self.volume_path(spec.user, spec.project)
        first_start = not (volume / ".git").exists()
        _private_dirs(self.data_dir, volume)
        sock = runtime / _SOCKET
        await progress("cloning the project into your volume" if first_start else "starting pod")
        record: dict[str, object] = {
            "session_id": spec.session_id,
            "user": spec.user,
            "project": spec.project,
            "socket": str(sock),
        }
        try:
            record.update(await self._spawn(spec, bwrap, runtime, sock))
            (runtime / _RECORD).write_text(json.dumps(record))
            await self._wait_ready(spec, self._children[spec.session_id], sock, progress)
        except BaseException:
            await self.stop(spec.session_id)
            raise
        return f"unix:{sock}"

    async def _spawn(
        self, spec: PodSpec, bwrap: str | None, runtime: Path, sock: Path
    ) -> dict[str, int]:
        """Start the pod; its pids: ``pid`` (bwrap, the process group), ``guard``."""
        info_read, info_write = os.pipe()  # bwrap tells the guard's pid there
        try:
            command = self._command(spec, bwrap, runtime, info_write)
            child = self._popen(spec, command, runtime, sock, info_write)
            self._children[spec.session_id] = child
            os.close(info_write)
            info_write = -1
            info = await asyncio.to_thread(read_all, info_read) if bwrap else b""
        finally:
            os.close(info_read)
            if info_write >= 0:
                os.close(info_write)
        pids = {"pid": child.pid}
        try:
            pids["guard"] = int(json.loads(info)["child-pid"])
        except (ValueError, KeyError, TypeError):
            pass  # unconfined, or bwrap failed: the exit shows in the log
        return pids

    def _popen(
        self, spec: PodSpec, command: list[str], runtime: Path, sock: Path, info_fd: int
    ) -> subprocess.Popen[bytes]:
        # An allow-list: the gateway's own credentials (AWS_*, PG*, KUBECONFIG...) must not
        # reach the user's kernels and commands.
        env = {k: v for k, v in os.environ.items() if k in _INHERITED or k.startswith("LC_")}
        volume = self.volume_path(spec.user, spec.project)
        env.update(spec.pod_env(root=volume, sock=str(sock)).to_env())
        env.update(
            JUPYTER_RUNTIME_DIR=str(runtime),
            JUPYTER_CONFIG_DIR=str(runtime / "config"),
        )
        log_path = self.log_path(spec.session_id)
        _private_dirs(self.data_dir, log_path.parent)
        with os.fdopen(
            os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab"
        ) as out:
            return subprocess.Popen(
                command,
                env=env,
                cwd=str(runtime),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives a gateway restart; adopted by reconcile
                pass_fds=(info_fd,),
            )

    async def _wait_ready(
        self, spec: PodSpec, child: subprocess.Popen[bytes], sock: Path, progress: Progress
    ) -> None:
        announced = False
        async with pod_client(f"unix:{sock}", timeout=2) as client:
            while True:
                if child.poll() is not None:
                    raise BackendError(
                        f"the session pod exited during start: {self._log_tail(spec.session_id)}"
                    )
                if os.path.exists(sock):  # noqa: ASYNC240 - one stat per poll
                    if not announced:
                        await progress("waiting for the pod to answer")
                        announced = True
                    try:
                        r = await client.get(f"http://pod{spec.base_url}ide/health")
                        if r.status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                # Short: every tick of it is start-up time the user waits through.
                await asyncio.sleep(_READY_POLL)

    def _log_tail(self, session_id: str) -> str:
        """The pod's last words: its last line, which the launcher keeps to one sentence."""
        try:
            text = self.log_path(session_id).read_text(errors="replace")
        except OSError:
            return "it left no log"
        lines = text.strip().splitlines()
        return lines[-1][:500] if lines else "it left no log"

    async def exit_reason(self, session_id: str) -> str | None:
        try:
            text = (self.runtime_dir(session_id) / _REASON).read_text(errors="replace")
        except OSError:
            return None
        return text.strip()[:300] or None

    async def stop(self, session_id: str) -> None:
        runtime = self.runtime_dir(session_id)
        record = _read_record(runtime) or {}
        child = self._children.pop(session_id, None)
        pid: int | None = child.pid if child else record.get("pid")
        guard: int | None = record.get("guard")
        # bwrap may be gone (killed) while the pod inside still runs: its guard then counts.
        if pid is None:
            alive = False
        else:
            alive = self._alive(session_id, pid, child)
        if pid is not None and (alive or (guard and pid_is_pod(guard, session_id))):
            await asyncio.to_thread(terminate_group, pid, guard, child)
        shutil.rmtree(runtime, ignore_errors=True)

    async def poll(self, session_id: str) -> bool:
        record = _read_record(self.runtime_dir(session_id))
        if record is None:
            return False
        return self._alive(session_id, record["pid"], self._children.get(session_id))

    def _alive(self, session_id: str, pid: int, child: subprocess.Popen[bytes] | None) -> bool:
        if child is not None:
            return child.poll() is None
        return pid_is_pod(pid, session_id)

    async def list_pods(self) -> list[PodInfo]:
        pods = []
        for runtime in sorted(self._run_root().iterdir()):
            record = _read_record(runtime)
            if record is None:
                continue
            session_id = record["session_id"]
            running = self._alive(session_id, record["pid"], self._children.get(session_id))
            pods.append(
                PodInfo(
                    session_id,
                    record["user"],
                    record["project"],
                    running,
                    f"unix:{record['socket']}",
                )
            )
        return pods

    async def delete_volume(self, user: str, project: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.volume_path(user, project), True)


def _private_dirs(data_dir: Path, path: Path) -> None:
    """``mkdir -p`` of ``path`` whose every directory below ``data_dir`` is mode 0700."""
    for directory in (*reversed(path.relative_to(data_dir).parents), path.relative_to(data_dir)):
        target = data_dir / directory
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        if stat.S_IMODE(target.stat().st_mode) != 0o700:
            target.chmod(0o700)


def _read_record(runtime: Path) -> dict | None:
    try:
        return json.loads((runtime / _RECORD).read_text())
    except (OSError, ValueError):
        return None
