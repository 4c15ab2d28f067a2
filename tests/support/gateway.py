"""A real gateway process (``ide-server serve``) for end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.support.pg import temporary_database

if TYPE_CHECKING:
    from tests.support.client import Api

ADMIN_PASSWORD = "admin-password-1"
PASSWORD = "correct-horse-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GatewayProcess:
    """Starts, kills and restarts ``ide-server serve`` on one data dir and database."""

    def __init__(self, data_dir: Path, database_url: str, **settings: str) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = free_port()
        self.settings = settings
        self.extra_env: dict[str, str] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"gateway-{self.port}.log"

    @property
    def tls(self) -> bool:
        return self.settings.get("tls_self_signed") == "true"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """Trust the self-signed certificate, once the gateway made it."""
        cert = self.data_dir / "tls" / "self-signed.pem"
        return ssl.create_default_context(cafile=str(cert)) if cert.exists() else True

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDE_")}
        env.update(
            IDE_DATABASE_URL=self.database_url,
            IDE_DATA_DIR=str(self.data_dir),
            IDE_ADMIN_PASSWORD=ADMIN_PASSWORD,
            IDE_SAVE_DELAY="0.3",
            IDE_LOG_LEVEL="info",
        )
        env.update({f"IDE_{k.upper()}": v for k, v in self.settings.items()})
        env.update(self.extra_env)
        return env

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "ide_server.cli", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"ide-server {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def start(self, timeout: float = 120) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ide_server.cli", "serve", "--port", str(self.port)],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log_path.read_text()[-3000:]}")
            try:
                if (
                    httpx.get(f"{self.url}/healthz", timeout=1, verify=self.verify).status_code
                    == 200
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gateway did not start: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """kill -9: no shutdown hooks run."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def runtime_dir(self, session_id: str) -> Path:
        from ide_server.config import load_config
        from session_manager.backends.local import LocalBackend

        config = load_config({"data_dir": str(self.data_dir)}, env={})
        return LocalBackend.from_config(config).runtime_dir(session_id)

    def pod_pid(self, session_id: str) -> int:
        record = json.loads((self.runtime_dir(session_id) / "pod.json").read_text())
        return int(record["pid"])

    def stop_pods(self) -> None:
        """Kill every pod this gateway started (they outlive the gateway by design)."""
        for record in self.runtime_dir("x").parent.glob("*/pod.json"):
            try:
                os.killpg(int(json.loads(record.read_text())["pid"]), signal.SIGKILL)
            except (ProcessLookupError, ValueError, OSError):
                pass

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def two_replicas(tmp: Path, **settings: str) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    """Two gateway replicas on one PostgreSQL database and one data dir, with the same
    ``settings``."""
    with temporary_database(tmp) as url:
        first = GatewayProcess(tmp / "data", url, **settings)
        first.start()
        second = GatewayProcess(tmp / "data", url, **settings)
        try:
            second.start()
            yield first, second
        finally:
            second.stop()
            first.stop()
            first.stop_pods()


def login_as(gw: GatewayProcess, user: str, password: str = PASSWORD) -> Api:
    """A client of ``gw`` logged in as ``user``."""
    from tests.support.client import Api

    api = Api(gw.url)
    response = api.login(user, password)
    assert response.status_code == 200, response.text
    return api
