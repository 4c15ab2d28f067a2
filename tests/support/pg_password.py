"""A PostgreSQL server of its own that checks passwords (scram-sha-256), for tests of wrong
credentials: the machine's server trusts every local connection, so a wrong password
would pass there. Started from the machine's binaries in a temporary directory, on
loopback, as the unprivileged ``nobody`` when run as root (initdb refuses root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.gateway import free_port


@dataclass(frozen=True)
class PasswordServer:
    host: str
    port: int
    user: str
    password: str
    database: str = "postgres"


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed")
    return found


@contextmanager
def password_server() -> Iterator[PasswordServer]:
    base = Path(tempfile.mkdtemp(prefix="ide-pgpw-", dir="/tmp"))
    password = "right-password-" + os.urandom(6).hex()
    (base / "pw").write_text(password + "\n")
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "nobody")
        shutil.chown(base / "pw", "nobody")
        prefix = ["runuser", "-u", "nobody", "--"]
    port = free_port()
    data = base / "data"
    subprocess.run(
        [*prefix, _binary("initdb"), "-D", str(data), "-U", "owner", "--auth=scram-sha-256",
         f"--pwfile={base / 'pw'}", "-E", "UTF8"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*prefix, _binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"),
         "-w", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield PasswordServer("127.0.0.1", port, "owner", password)
    finally:
        subprocess.run(
            [*prefix, _binary("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)
