"""The admins' REST and CLI tools added for the admin pages (users, projects with the
default branch checked against a real git remote, members, deploy tokens, the audit log)
and the caller's own logins, against the real gateway."""

from __future__ import annotations

import getpass
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess, login_as
from tests.workspace.git.conftest import TOKEN, make_remote, run_git
from tests.workspace.git.remote_server import GitHttpServer


def _name(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def _audit(admin: Api, **filters: str) -> list[dict]:
    response = admin.http.get("/api/admin/audit", params=filters)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    """An HTTP remote that wants a token, with branches main and develop."""
    root = tmp_path_factory.mktemp("served")
    bare = make_remote(root, "shop.git")
    run_git("branch", "develop", "main", cwd=bare)
    server = GitHttpServer(root, username="alice", token=TOKEN).start()
    yield server
    server.stop()


def test_developers_and_strangers_cannot_reach_the_new_admin_endpoints(
    gateway: GatewayProcess, alice: Api
) -> None:
    calls = [
        ("POST", "/api/admin/users", {"username": "mallory", "password": "x" * 12}),
        ("PUT", "/api/admin/users/alice/admin", {"is_admin": True}),
        ("POST", "/api/admin/projects", {"name": "evil", "git_url": "file:///tmp/x"}),
        ("PATCH", "/api/admin/projects/demo", {"default_branch": "other"}),
        ("POST", "/api/admin/projects/demo/members", {"username": "dave", "role": "admin"}),
        ("PUT", "/api/admin/projects/demo/deploy-token", {"token": "t" * 20}),
        ("DELETE", "/api/admin/projects/demo/deploy-token", None),
        ("GET", "/api/admin/audit", None),
        ("PUT", "/api/admin/users/alice/break-glass", {"break_glass": True}),
        ("DELETE", "/api/admin/users/dave?volumes=keep", None),
    ]
    for method, path, body in calls:
        response = alice.http.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        anonymous = httpx.request(
            method, gateway.url + path, json=body, headers={"Origin": gateway.url}
        )
        assert anonymous.status_code == 401, (method, path)
    assert alice.http.get("/api/me").json()["is_admin"] is False
    assert Api(gateway.url).login("mallory", "x" * 12).status_code == 401


def test_admin_adds_a_user_makes_them_admin_and_back(gateway: GatewayProcess, admin: Api) -> None:
    name = _name("new")
    created = admin.http.post(
        "/api/admin/users",
        json={"username": name, "password": PASSWORD, "email": f"{name}@example.com"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["is_admin"] is False and created.json()["disabled"] is False
    again = admin.http.post("/api/admin/users", json={"username": name, "password": PASSWORD})
    assert again.status_code == 400 and "exists" in again.json()["error"]["message"]
    short = admin.http.post("/api/admin/users", json={"username": _name("s"), "password": "x"})
    assert short.status_code == 400
    user = login_as(gateway, name)
    assert user.http.get("/api/admin/users").status_code == 403
    promoted = admin.http.put(f"/api/admin/users/{name}/admin", json={"is_admin": True})
    assert promoted.status_code == 200 and promoted.json()["is_admin"] is True
    assert user.http.get("/api/admin/users").status_code == 200  # takes effect at once
    demoted = admin.http.put(f"/api/admin/users/{name}/admin", json={"is_admin": False})
    assert demoted.json()["is_admin"] is False
    assert user.http.get("/api/admin/users").status_code == 403
    self_demotion = admin.http.put("/api/admin/users/admin/admin", json={"is_admin": False})
    assert self_demotion.status_code == 400
    listed = {u["username"]: u for u in admin.http.get("/api/admin/users").json()}
    assert listed[name]["sso"] is False and listed[name]["break_glass"] is False
    assert user.http.get("/api/me").json()["sso"] is False
    marked = admin.http.put(f"/api/admin/users/{name}/break-glass", json={"break_glass": True})
    assert marked.json() == {"username": name, "break_glass": True}
    listed = {u["username"]: u for u in admin.http.get("/api/admin/users").json()}
    assert listed[name]["break_glass"] is True
    entries = _audit(admin, actor="admin", action="user.")
    assert {"user.add", "user.admin", "user.break_glass"} <= {e["action"] for e in entries}
    assert any(e["detail"].get("user") == name for e in entries)
    assert all(e["actor"] == "admin" and e["action"].startswith("user.") for e in entries)
    assert not any("password" in str(e["detail"]).lower() for e in entries)


def test_project_add_checks_the_default_branch_on_the_real_remote(
    gateway: GatewayProcess, admin: Api, remote: GitHttpServer
) -> None:
    url = remote.url("shop.git")
    name = _name("shop")
    body = {"name": name, "git_url": url, "default_branch": "trunk"}
    # The remote wants a token: without one, it cannot even be asked.
    refused = admin.http.post("/api/admin/projects", json=body)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "remote_unreachable"
    missing = admin.http.post("/api/admin/projects", json={**body, "deploy_token": TOKEN})
    assert missing.status_code == 400, missing.text
    error = missing.json()["error"]
    assert error["code"] == "branch_missing" and error["branches"] == ["develop", "main"]
    assert "trunk" in error["message"] and "develop, main" in error["message"]
    assert TOKEN not in missing.text
    assert name not in [p["name"] for p in admin.http.get("/api/admin/projects").json()]
    created = admin.http.post(
        "/api/admin/projects", json={**body, "default_branch": "develop", "deploy_token": TOKEN}
    )
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["default_branch"] == "develop" and view["deploy_token_set"] is True
    assert view["deploy_token_hint"] == "…" + TOKEN[-4:]
    assert TOKEN not in created.text
    # The token went only to the remote, as Basic auth.
    assert any(r.authorization for r in remote.requests)
    # Editing checks again, with the stored deploy token.
    bad_edit = admin.http.patch(f"/api/admin/projects/{name}", json={"default_branch": "nope"})
    assert bad_edit.status_code == 400 and bad_edit.json()["error"]["branches"] == [
        "develop",
        "main",
    ]
    edited = admin.http.patch(f"/api/admin/projects/{name}", json={"default_branch": "main"})
    assert edited.status_code == 200 and edited.json()["default_branch"] == "main"
    projects = {p["name"]: p for p in admin.http.get("/api/admin/projects").json()}
    assert projects[name]["default_branch"] == "main"
    # Deploy token removed: the project can no longer be checked.
    assert admin.http.delete(f"/api/admin/projects/{name}/deploy-token").status_code == 204
    no_token = admin.http.patch(f"/api/admin/projects/{name}", json={"default_branch": "develop"})
    assert no_token.json()["error"]["code"] == "remote_unreachable"
    put = admin.http.put(f"/api/admin/projects/{name}/deploy-token", json={"token": TOKEN})
    assert put.json() == {"deploy_token_set": True, "hint": "…" + TOKEN[-4:]}
    actions = [
        e["action"]
        for e in _audit(admin, actor="admin", action="")
        if e["detail"].get("project") == name
    ]
    assert {"project.add", "project.edit", "deploy_token.delete", "deploy_token.set"} <= set(
        actions
    )
    assert admin.http.delete(f"/api/admin/projects/{name}?volumes=delete").status_code == 200


def test_cli_project_add_refuses_a_missing_branch_with_the_list(
    gateway: GatewayProcess, tmp_path: Path
) -> None:
    bare = make_remote(tmp_path, "cli.git")
    run_git("branch", "release", "main", cwd=bare)
    name = _name("cli")
    with pytest.raises(RuntimeError) as failure:
        gateway.cli("project", "add", name, bare.as_uri(), "--default-branch", "master")
    assert "no branch 'master'" in str(failure.value) and "main, release" in str(failure.value)
    assert name not in gateway.cli("project", "list")
    gateway.cli("project", "add", name, bare.as_uri(), "--default-branch", "release")
    assert name in gateway.cli("project", "list")
    out = gateway.cli("project", "edit", name, "--default-branch", "main")
    assert "(main)" in out
    gateway.cli("project", "remove", name, "--keep-volumes")


def test_members_are_added_and_audited(gateway: GatewayProcess, admin: Api) -> None:
    name = _name("m")
    gateway.cli("user", "add", name, "--password", PASSWORD)
    user = login_as(gateway, name)
    assert "demo" not in [p["name"] for p in user.http.get("/api/projects").json()]
    added = admin.http.post(
        "/api/admin/projects/demo/members", json={"username": name, "role": "read-only"}
    )
    assert added.status_code == 200, added.text
    projects = {p["name"]: p["role"] for p in user.http.get("/api/projects").json()}
    assert projects["demo"] == "read-only"
    bad = admin.http.post(
        "/api/admin/projects/demo/members", json={"username": name, "role": "owner"}
    )
    assert bad.status_code == 400
    nobody = admin.http.post(
        "/api/admin/projects/demo/members", json={"username": "no-such-user", "role": "developer"}
    )
    assert nobody.status_code == 404
    entry = _audit(admin, action="member.add", actor="admin")[0]
    assert entry["detail"] == {"project": "demo", "user": name, "role": "read-only"}


def test_audit_log_filters_by_time_and_pages(gateway: GatewayProcess, admin: Api) -> None:
    name = _name("t")
    admin.http.post("/api/admin/users", json={"username": name, "password": PASSWORD})
    now = datetime.now(UTC)
    recent = _audit(admin, since=(now - timedelta(minutes=1)).isoformat(), action="user.add")
    assert any(e["detail"]["user"] == name for e in recent)
    old = _audit(admin, until=(now - timedelta(days=1)).isoformat())
    assert old == []
    first = _audit(admin, limit="2")
    assert len(first) == 2 and first[0]["id"] > first[1]["id"]
    older = _audit(admin, before=str(first[1]["id"]), limit="1")
    assert older[0]["id"] < first[1]["id"]
    assert admin.http.get("/api/admin/audit", params={"since": "yesterday"}).status_code == 400
    assert admin.http.get("/api/admin/audit", params={"limit": "0"}).status_code == 400
    out = gateway.cli("audit", "list", "--actor", "admin", "--action", "user.add", "--limit", "5")
    assert name in out


def test_own_logins_are_listed_and_ended_everywhere(gateway: GatewayProcess, admin: Api) -> None:
    name = _name("l")
    gateway.cli("user", "add", name, "--password", PASSWORD)
    here, there = login_as(gateway, name), login_as(gateway, name)
    listed = here.http.get("/api/me/logins").json()
    assert len(listed) == 2 and [x["current"] for x in listed].count(True) == 1
    assert {"created_at", "last_seen", "expires_at"} <= set(listed[0])
    assert len(login_as(gateway, "alice").http.get("/api/me/logins").json()) >= 1  # alice's own
    ended = here.http.delete("/api/me/logins")
    assert ended.status_code == 200 and ended.json() == {"logins_ended": 2}
    assert here.http.get("/api/me").status_code == 401
    assert there.http.get("/api/me").status_code == 401
    assert _audit(admin, actor=name, action="logins.end_all")[0]["detail"] == {"logins_ended": 2}


def test_git_token_hint_and_cli_sessions(gateway: GatewayProcess, admin: Api) -> None:
    name = _name("g")
    gateway.cli("user", "add", name, "--password", PASSWORD)
    gateway.cli("member", "add", "demo", name, "developer")
    user = login_as(gateway, name)
    assert user.http.get("/api/me").json()["git_token_hint"] is None
    user.http.put("/api/me/git-token", json={"token": "glpat-abcdefgh-1234WXYZ"})
    assert user.http.get("/api/me").json()["git_token_hint"] == "…WXYZ"
    session = user.open_session("demo")
    assert session["id"] in gateway.cli("session", "list")
    assert "volume kept" in gateway.cli("session", "stop", session["id"])
    assert user.http.get(f"/api/sessions/{session['id']}").json()["state"] == "stopped"
    assert gateway.cli("user", "admin", name, "--grant").startswith(f"{name} is an admin")
    assert user.http.get("/api/admin/users").status_code == 200
    gateway.cli("user", "admin", name, "--revoke")
    assert user.http.get("/api/admin/users").status_code == 403


def test_a_command_line_change_is_audited_with_who_ran_it(
    gateway: GatewayProcess, admin: Api
) -> None:
    name = _name("c")
    gateway.cli("user", "add", name, "--password", PASSWORD)
    gateway.cli("user", "disable", name)
    rows = [e for e in _audit(admin, action="user.") if e["detail"].get("user") == name]
    assert rows, "the command line's changes are in the audit log"
    assert {e["actor"] for e in rows} == {f"cli:{getpass.getuser()}"}


def test_an_admin_removes_a_user_entirely(gateway: GatewayProcess, admin: Api) -> None:
    name = _name("gone")
    gateway.cli("user", "add", name, "--password", PASSWORD)
    gateway.cli("member", "add", "demo", name, "developer")
    theirs = login_as(gateway, name)
    assert theirs.http.get("/api/me").status_code == 200
    # A stored invocation of theirs, with its log in the gateway's object store.
    key = f"invocations/demo/{name}/{'ab' * 16}/dbt.log"
    stored = gateway.data_dir / "objects" / key
    stored.parent.mkdir(parents=True)
    stored.write_text("a log")
    with psycopg.connect(gateway.database_url) as conn:
        conn.execute(
            "INSERT INTO dbt_invocations (user_id, project_id, invocation_id, command, args,"
            " started_at, status, counts, object_keys) SELECT u.id, p.id, %s, 'build', '[]',"
            " now(), 'success', '{}', jsonb_build_object('dbt.log', %s::text)"
            " FROM users u, projects p WHERE u.username = %s AND p.name = 'demo'",
            ("ab" * 16, key, name),
        )
    unsaid = admin.http.delete(f"/api/admin/users/{name}")
    assert unsaid.status_code == 400 and "volumes=keep" in unsaid.json()["error"]["message"]
    assert admin.http.delete("/api/admin/users/admin?volumes=keep").status_code == 400  # self
    assert admin.http.delete("/api/admin/users/nobody-at-all?volumes=keep").status_code == 404
    removed = admin.http.delete(f"/api/admin/users/{name}?volumes=keep")
    assert removed.status_code == 200, removed.text
    assert removed.json()["invocations_removed"] == 1 and removed.json()["volumes_deleted"] is False
    assert theirs.http.get("/api/me").status_code == 401  # the login went with them
    assert name not in [u["username"] for u in admin.http.get("/api/admin/users").json()]
    assert name not in [m["username"] for m in _members(admin, "demo")]
    assert not stored.exists()
    assert Api(gateway.url).login(name, PASSWORD).status_code == 401
    entries = [e for e in _audit(admin, action="user.remove") if e["detail"]["user"] == name]
    assert [e["actor"] for e in entries] == ["admin"]
    with pytest.raises(RuntimeError, match="no user"):
        gateway.cli("user", "remove", name, "--keep-volumes")


def _members(admin: Api, project: str) -> list[dict]:
    response = admin.http.get(f"/api/admin/projects/{project}/members")
    assert response.status_code == 200, response.text
    return response.json()
