"""A project's git provider setting, end to end: the REST API and its RBAC, validation,
the audit log, the CLI, and a real pod whose "Open pull request" link follows it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.client import Api
from tests.support.gateway import GatewayProcess
from tests.workspace.git.conftest import make_remote
from tests.workspace.git.remote_server import GitHttpServer

WEB = "https://gitlab.example.internal"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    """A remote whose host (127.0.0.1) names no provider."""
    root = tmp_path_factory.mktemp("served")
    make_remote(root, "analytics.git")
    server = GitHttpServer(root, username="", token="").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def project(gateway: GatewayProcess, served: GitHttpServer) -> str:
    """alice develops on it, bob administers it."""
    name = f"prov{secrets.token_hex(3)}"
    gateway.cli("project", "add", name, served.url("analytics.git"))
    gateway.cli("member", "add", name, "alice", "developer")
    gateway.cli("member", "add", name, "bob", "admin")
    return name


def _path(project: str) -> str:
    return f"/api/projects/{project}/git-provider"


def test_only_the_projects_admins_set_it(alice: Api, bob: Api, dave: Api, project: str) -> None:
    body = {"kind": "gitlab", "web_url": WEB}
    assert alice.http.get(_path(project)).json() == {"kind": None, "web_url": None, "guessed": True}
    for response in (alice.http.put(_path(project), json=body), alice.http.delete(_path(project))):
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
    for response in (dave.http.put(_path(project), json=body), dave.http.get(_path(project))):
        assert response.status_code == 404  # a non-member learns nothing
    answer = bob.http.put(_path(project), json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"kind": "gitlab", "web_url": WEB, "guessed": False}
    assert alice.http.get(_path(project)).json()["kind"] == "gitlab"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"kind": "bitbucket"}, "'kind' must be one of github, gitlab, azure"),
        ({}, "'kind' must be one of"),
        ({"kind": "gitlab", "web_url": "http://gitlab.example.com"}, "must start with https://"),
        ({"kind": "gitlab", "web_url": "gitlab.example.com"}, "must start with https://"),
        ({"kind": "gitlab", "web_url": "https://"}, "must name a host"),
        ({"kind": "gitlab", "web_url": "https://u:p@gitlab.example.com"}, "user name or password"),
        ({"kind": "gitlab", "web_url": "https://gitlab.example.com:port"}, "not a valid URL"),
        ({"kind": "gitlab", "web_url": "https://gitlab.example.com/?x=1"}, "query"),
        ({"kind": "gitlab", "web_url": "https://git lab.example.com"}, "must be a URL"),
        ({"kind": "gitlab", "web_url": 42}, "'web_url' must be a string"),
        ({"kind": "gitlab", "api": "x"}, "unknown field(s): api"),
    ],
)
def test_a_bad_setting_is_refused_with_a_clear_400(
    admin: Api, project: str, body: dict[str, Any], says: str
) -> None:
    before = admin.http.get(_path(project)).json()
    response = admin.http.put(_path(project), json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"
    assert says in response.json()["error"]["message"]
    assert admin.http.get(_path(project)).json() == before  # nothing changed


def test_setting_and_clearing_are_audited(bob: Api, gateway: GatewayProcess, project: str) -> None:
    assert bob.http.put(_path(project), json={"kind": "azure"}).status_code == 200
    assert bob.http.delete(_path(project)).status_code == 204
    assert bob.http.get(_path(project)).json()["guessed"] is True
    with psycopg.connect(gateway.database_url) as conn:
        rows = conn.execute(
            "SELECT actor, action, detail FROM audit_log"
            " WHERE action LIKE 'project.git_provider%%' AND detail->>'project' = %s"
            " ORDER BY id DESC LIMIT 2",
            (project,),
        ).fetchall()
    assert rows == [
        ("bob", "project.git_provider.clear", {"project": project}),
        ("bob", "project.git_provider", {"project": project, "kind": "azure", "web_url": None}),
    ]


def test_the_cli_shows_sets_refuses_and_clears(gateway: GatewayProcess, project: str) -> None:
    out = gateway.cli("project", "git-provider", project, "--kind", "github")
    assert '"kind": "github"' in out
    assert '"kind": "github"' in gateway.cli("project", "git-provider", project)
    with pytest.raises(RuntimeError, match="'kind' must be one of github, gitlab, azure"):
        gateway.cli("project", "git-provider", project, "--kind", "gitea")
    assert "guessed" in gateway.cli("project", "git-provider", project, "--clear")


def _pod_env(gateway: GatewayProcess, session_id: str) -> dict[str, str]:
    pid = gateway.pod_pid(session_id)
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(p.decode().split("=", 1) for p in pairs if p.startswith(b"IDE_POD_GIT_"))


def test_a_pod_started_after_the_setting_builds_the_providers_link(
    alice: Api, bob: Api, gateway: GatewayProcess, project: str
) -> None:
    bob.http.delete(_path(project))
    session = alice.open_session(project)
    try:

        async def link() -> dict[str, Any]:
            async with await alice.rpc(session["id"]) as rpc:
                await rpc.call("git/create_branch", {"name": "feat/x"})
                return dict(await rpc.call("git/pull_request_url"))

        assert asyncio.run(link())["url"] is None  # 127.0.0.1 names no provider
    finally:
        alice.http.delete(f"/api/sessions/{session['id']}")

    assert bob.http.put(_path(project), json={"kind": "gitlab", "web_url": WEB}).status_code == 200
    session = alice.open_session(project)
    try:
        env = _pod_env(gateway, session["id"])
        assert env["IDE_POD_GIT_PROVIDER"] == "gitlab" and env["IDE_POD_GIT_WEB_URL"] == WEB

        async def again() -> dict[str, Any]:
            async with await alice.rpc(session["id"]) as rpc:
                await rpc.call("git/checkout", {"branch": "feat/x"})
                return dict(await rpc.call("git/pull_request_url"))

        answer = asyncio.run(again())
        assert answer["provider"] == "gitlab"
        assert answer["url"] == (
            f"{WEB}/analytics/-/merge_requests/new?"
            "merge_request%5Bsource_branch%5D=feat/x&merge_request%5Btarget_branch%5D=main"
        )
    finally:
        alice.http.delete(f"/api/sessions/{session['id']}")
