"""Fixtures for git tests: real bare remotes (file:// and HTTP(S) via git http-backend),
volumes cloned through the pod's own code, and a fake RPC context."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ide_server.workspace.clone import ensure_checkout
from ide_server.workspace.config import PodConfig
from ide_server.workspace.git.methods import methods
from ide_server.workspace.rpc import dispatch
from ide_server.workspace.workspace import Workspace

from .remote_server import GitHttpServer

TOKEN = "ghp_TESTtoken0123456789abcdefSECRET"


def run_git(*args: str, cwd: Path | None = None) -> str:
    """The git command line, used by tests only to build and inspect remotes."""
    env_args = ["-c", "user.name=Seed", "-c", "user.email=seed@example.com"]
    result = subprocess.run(
        ["git", *env_args, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return result.stdout


def make_remote(directory: Path, name: str = "project.git") -> Path:
    """A bare repository with a small dbt-like project on ``main``."""
    bare = directory / name
    run_git("init", "-q", "--bare", "-b", "main", str(bare))
    run_git("config", "http.receivepack", "true", cwd=bare)
    seed = directory / f"{name}-seed"
    run_git("init", "-q", "-b", "main", str(seed))
    (seed / "models").mkdir()
    (seed / "models" / "orders.sql").write_text("select 1 as id\nfrom raw.orders\n")
    (seed / "models" / "customers.sql").write_text("select 1 as id\nfrom raw.customers\n")
    (seed / "dbt_project.yml").write_text("name: demo\nversion: '1.0'\n")
    run_git("add", "-A", cwd=seed)
    run_git("commit", "-q", "-m", "Initial project", cwd=seed)
    run_git("push", "-q", str(bare), "main", cwd=seed)
    return bare


def pod_config(
    root: Path, url: str, *, user: str = "alice", token: str = "", **kw: Any
) -> PodConfig:
    return PodConfig(
        session_id=f"s-{user}",
        root=root,
        user=user,
        user_name=user.title(),
        user_email=f"{user}@example.com",
        git_url=url,
        git_token=token,
        **kw,
    )


@dataclass
class FakeClient:
    user: str = "alice"
    role: str = "developer"
    notifications: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def notify(self, method: str, params: Mapping[str, Any]) -> None:
        self.notifications.append((method, dict(params)))


def workspace_for(config: PodConfig) -> Workspace:
    """The real Workspace; its disk watcher counts the reloads git asks for."""
    workspace = Workspace(config=config, registry=methods)
    workspace.reloads = 0  # type: ignore[attr-defined]

    async def count_reload() -> None:
        workspace.reloads += 1  # type: ignore[attr-defined]

    workspace.disk_watchers.append(count_reload)
    return workspace


@dataclass
class FakeContext:
    """Just what the git handlers use of the lead's CallContext."""

    workspace: Workspace
    client: FakeClient
    broadcasts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def broadcast(
        self, method: str, params: Mapping[str, Any], *, include_self: bool = False
    ) -> None:
        self.broadcasts.append((method, dict(params)))

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request through the real dispatcher; returns the whole answer."""
        message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
        answer = await dispatch(methods, self, json.dumps(message))
        assert answer is not None
        return answer

    async def ok(self, method: str, params: dict[str, Any] | None = None) -> Any:
        answer = await self.call(method, params)
        assert "error" not in answer, answer
        return answer["result"]

    async def error(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.call(method, params)
        assert "error" in answer, answer
        return answer["error"]


def make_context(config: PodConfig, role: str = "developer") -> FakeContext:
    return FakeContext(workspace_for(config), FakeClient(config.user, role))


@pytest.fixture
def file_remote(tmp_path: Path) -> Path:
    return make_remote(tmp_path / "remotes")


@pytest.fixture
def volume(tmp_path: Path, file_remote: Path) -> PodConfig:
    """A volume cloned from a file:// remote, as the pod launcher would."""
    config = pod_config(tmp_path / "volumes" / "alice", file_remote.as_uri())
    ensure_checkout(config)
    return config


@pytest.fixture
def ctx(volume: PodConfig) -> FakeContext:
    return make_context(volume)


@pytest.fixture
def http_remote(tmp_path: Path) -> Iterator[GitHttpServer]:
    """A Basic-auth HTTP remote serving ``project.git``."""
    make_remote(tmp_path / "served")
    server = GitHttpServer(tmp_path / "served", username="alice", token=TOKEN).start()
    yield server
    server.stop()
