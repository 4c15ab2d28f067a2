"""`ide-server serve` with the embedded defaults, as `./scripts/start` runs it for a newcomer:
a few lines of progress, then the URL and the login; Ctrl-C stops it and its PostgreSQL."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)

# What a newcomer may see before the URL: uvicorn's start-up lines, the embedded PostgreSQL
# starting, the migrations, the reaper; not pages of library detail.
MAX_LINES_BEFORE_URL = 12
NOISE = ("initdb", "Running commandline", "pg_ctl", "XDG_RUNTIME_DIR", "RuntimeDirWarning")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data dir outside pytest's private temp root: started as root, pgserver runs
    PostgreSQL as its own user, which must be able to reach the directory."""
    parent = Path(tempfile.mkdtemp(prefix="ide-start-"))
    yield parent / "data"
    shutil.rmtree(parent, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} within {timeout} s; the output was:\n" + "\n".join(lines))


def test_start_shows_progress_then_the_url_and_login(data_dir: Path) -> None:
    port = _free_port()
    # A fresh shell: no IDE_* settings (so the embedded PostgreSQL), no XDG_RUNTIME_DIR.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("IDE_") and k != "XDG_RUNTIME_DIR"
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ide_server.cli", "serve", "--data-dir", str(data_dir)]
        + ["--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _read_until(proc, "First login:", timeout=120)
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    output = "\n".join(lines)

    url_at = next(i for i, line in enumerate(lines) if "IDE server ready at" in line)
    assert f"http://localhost:{port}/" in lines[url_at]
    assert lines[-1].strip().startswith("First login: admin / ")
    before = [line for line in lines[:url_at] if line.strip()]
    assert len(before) <= MAX_LINES_BEFORE_URL, output
    for noise in NOISE:
        assert noise not in output + rest, f"{noise!r} in the start-up output:\n{output}"
    assert " WARNING " not in output and "Traceback" not in output + rest, output

    # Ctrl-C stopped the gateway and its PostgreSQL; the data stays for the next start.
    assert proc.returncode == 0, rest
    assert (data_dir / "postgres" / "PG_VERSION").is_file()
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
