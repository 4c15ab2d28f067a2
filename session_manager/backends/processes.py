"""The processes of a local pod: is it (still) this session's pod, and ending it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from ide_server.podenv import PodEnv

# A live pod's environment names its session: a recycled pid does not.
_SESSION_VARIABLE = PodEnv.variable("session_id")


def read_all(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
    return data


def pid_is_pod(pid: int, session_id: str) -> bool:
    """True if ``pid`` is alive and is this session's pod (not a recycled pid)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return f"{_SESSION_VARIABLE}={session_id}".encode() in environ.split(b"\0")


def running(pid: int | None) -> bool:
    try:
        return pid is not None and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][1] != "Z"
    except (OSError, IndexError):
        return False


def terminate_group(
    pid: int, guard: int | None, child: subprocess.Popen[bytes] | None, grace: float = 10
) -> None:
    """SIGTERM to the pod's process group, SIGKILL after ``grace``; returns once it is gone.

    bwrap dies of the SIGTERM at once while the pod shuts down cleanly: the pod is gone
    when its guard (PID 1 of its namespace, whose end ends every process in it) is.
    """
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        bwrap_alive = child.poll() is None if child is not None else running(pid)
        if not bwrap_alive and not running(guard):
            break
        time.sleep(0.05)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if child is not None:
        child.wait()
