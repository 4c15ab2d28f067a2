"""Tools that revoke access: one's own password change, and the admins' user, member and
project commands over REST and the CLI, against the real gateway."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess, login_as


def _new_user(
    gateway: GatewayProcess, *, member_of: str | None = "demo", role: str = "developer"
) -> str:
    name = f"u{secrets.token_hex(4)}"
    gateway.cli("user", "add", name, "--password", PASSWORD)
    if member_of:
        gateway.cli("member", "add", member_of, name, role)
    return name


def _cli_fails(gateway: GatewayProcess, *args: str) -> str:
    with pytest.raises(RuntimeError) as failure:
        gateway.cli(*args)
    return str(failure.value)


def test_password_change_ends_every_other_login(gateway: GatewayProcess) -> None:
    name = _new_user(gateway, member_of=None)
    here, elsewhere = login_as(gateway, name), login_as(gateway, name)
    wrong = here.http.post(
        "/api/me/password", json={"current_password": "not-it-at-all", "new_password": "n" * 12}
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_password"
    short = here.http.post(
        "/api/me/password", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 400 and "8 characters" in short.json()["error"]["message"]
    assert (
        here.http.post("/api/me/password", json={"current_password": PASSWORD}).status_code == 400
    )
    assert elsewhere.http.get("/api/me").status_code == 200  # nothing changed so far
    changed = here.http.post(
        "/api/me/password", json={"current_password": PASSWORD, "new_password": "a-new-secret-9"}
    )
    assert changed.status_code == 204
    assert here.http.get("/api/me").status_code == 200  # the caller's own login stays
    assert elsewhere.http.get("/api/me").status_code == 401
    assert Api(gateway.url).login(name, PASSWORD).status_code == 401
    assert Api(gateway.url).login(name, "a-new-secret-9").status_code == 200
    anonymous = httpx.post(
        f"{gateway.url}/api/me/password",
        json={"current_password": PASSWORD, "new_password": "x" * 12},
        headers={"Origin": gateway.url},
    )
    assert anonymous.status_code == 401


def test_admin_routes_refuse_non_admins(gateway: GatewayProcess, alice: Api) -> None:
    calls = [
        ("GET", "/api/admin/users", None),
        ("POST", "/api/admin/users/bob/disable", None),
        ("POST", "/api/admin/users/bob/enable", None),
        ("PUT", "/api/admin/users/bob/password", {"password": "x" * 12}),
        ("GET", "/api/admin/projects", None),
        ("DELETE", "/api/admin/projects/demo?volumes=delete", None),
        ("GET", "/api/admin/projects/demo/members", None),
        ("PUT", "/api/admin/projects/demo/members/bob", {"role": "read-only"}),
        ("DELETE", "/api/admin/projects/demo/members/bob", None),
    ]
    for method, path, body in calls:
        response = alice.http.request(method, path, json=body)
        assert response.status_code == 403, (method, path)
        anonymous = httpx.request(
            method, gateway.url + path, json=body, headers={"Origin": gateway.url}
        )
        assert anonymous.status_code == 401
    roles = {m["username"]: m["role"] for m in _members(gateway, "demo")}
    assert roles["bob"] == "developer"  # nothing was done


def _members(gateway: GatewayProcess, project: str) -> list[dict]:
    from tests.support.gateway import ADMIN_PASSWORD

    admin = login_as(gateway, "admin", ADMIN_PASSWORD)
    response = admin.http.get(f"/api/admin/projects/{project}/members")
    assert response.status_code == 200, response.text
    return response.json()


def test_disable_ends_logins_and_pods_keeps_the_volume_and_enable_restores(
    gateway: GatewayProcess, admin: Api
) -> None:
    name = _new_user(gateway)
    user = login_as(gateway, name)
    session = user.open_session("demo")
    volume = gateway.data_dir / "volumes" / name / "demo"
    assert volume.is_dir()
    result = admin.http.post(f"/api/admin/users/{name}/disable")
    assert result.status_code == 200, result.text
    assert result.json()["disabled"] is True and result.json()["sessions_stopped"] == 1
    assert user.http.get("/api/me").status_code == 401
    refused = Api(gateway.url).login(name, PASSWORD)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "account_disabled"
    row = admin.http.get(f"/api/sessions/{session['id']}").json()
    assert row["state"] == "stopped"
    assert volume.is_dir() and (volume / "dbt_project.yml").exists()
    listed = {u["username"]: u for u in admin.http.get("/api/admin/users").json()}
    assert listed[name]["disabled"] is True and "password_hash" not in listed[name]
    assert admin.http.post(f"/api/admin/users/{name}/enable").status_code == 200
    assert Api(gateway.url).login(name, PASSWORD).status_code == 200


def test_admin_cannot_lock_themselves_or_everyone_out(gateway: GatewayProcess, admin: Api) -> None:
    own = admin.http.post("/api/admin/users/admin/disable")
    assert own.status_code == 400 and "yourself" in own.json()["error"]["message"]
    assert "only enabled admin" in _cli_fails(gateway, "user", "disable", "admin")
    missing = admin.http.post("/api/admin/users/no-such-user/disable")
    assert missing.status_code == 404 and "no user" in missing.json()["error"]["message"]


def test_admin_password_reset_ends_the_users_logins(gateway: GatewayProcess, admin: Api) -> None:
    name = _new_user(gateway, member_of=None)
    user = login_as(gateway, name)
    weak = admin.http.put(f"/api/admin/users/{name}/password", json={"password": "weak"})
    assert weak.status_code == 400
    assert user.http.get("/api/me").status_code == 200
    reset = admin.http.put(f"/api/admin/users/{name}/password", json={"password": "reset-by-admin"})
    assert reset.status_code == 200 and reset.json()["logins_ended"] == 1
    assert user.http.get("/api/me").status_code == 401
    assert Api(gateway.url).login(name, "reset-by-admin").status_code == 200
    gateway.cli("user", "passwd", name, "--password", "reset-by-cli-1")
    assert Api(gateway.url).login(name, "reset-by-cli-1").status_code == 200


def test_member_role_and_removal(gateway: GatewayProcess, admin: Api) -> None:
    name = _new_user(gateway)
    user = login_as(gateway, name)
    path = f"/api/admin/projects/demo/members/{name}"
    bad = admin.http.put(path, json={"role": "owner"})
    assert bad.status_code == 400 and "role must be one of" in bad.json()["error"]["message"]
    assert (
        admin.http.put(
            "/api/admin/projects/demo/members/dave", json={"role": "developer"}
        ).status_code
        == 404
    )
    lowered = admin.http.put(path, json={"role": "read-only"})
    assert lowered.json() == {"username": name, "role": "read-only", "previous_role": "developer"}
    assert [p["role"] for p in user.http.get("/api/projects").json()] == ["read-only"]
    assert admin.http.delete(path).status_code == 200
    assert user.http.get("/api/projects").json() == []
    assert admin.http.delete(path).status_code == 404
    assert user.http.post("/api/sessions", json={"project": "demo"}).status_code == 404


def test_cli_user_member_and_project_commands(gateway: GatewayProcess) -> None:
    name = _new_user(gateway)
    assert name in gateway.cli("user", "list")
    members = [line.split() for line in gateway.cli("member", "list", "demo").splitlines()]
    assert [name, "developer"] in members
    assert "(was developer)" in gateway.cli("member", "role", "demo", name, "read-only")
    assert "not a member" in _cli_fails(gateway, "member", "role", "demo", "dave", "developer")
    assert "invalid choice" in _cli_fails(gateway, "member", "role", "demo", name, "owner")
    assert "removed from demo" in gateway.cli("member", "remove", "demo", name)
    assert "disabled" in gateway.cli("user", "disable", name)
    assert Api(gateway.url).login(name, PASSWORD).status_code == 403
    assert "enabled" in gateway.cli("user", "enable", name)
    assert "no user" in _cli_fails(gateway, "user", "disable", "nobody-at-all")
    assert "demo" in gateway.cli("project", "list")


def test_project_removal_keeps_or_deletes_volumes_only_when_told(
    gateway: GatewayProcess, admin: Api
) -> None:
    remote = (gateway.data_dir / "remotes" / "demo.git").resolve()
    for fate in ("keep", "delete"):
        project = f"p{secrets.token_hex(3)}"
        gateway.cli("project", "add", project, remote.as_uri())
        name = _new_user(gateway, member_of=project)
        user = login_as(gateway, name)
        session = user.open_session(project)
        volume = gateway.data_dir / "volumes" / name / project
        assert volume.is_dir()
        unsaid = admin.http.delete(f"/api/admin/projects/{project}")
        assert unsaid.status_code == 400 and "volumes=keep" in unsaid.json()["error"]["message"]
        assert "--keep-volumes" in _cli_fails(gateway, "project", "remove", project)
        assert admin.http.get(f"/api/sessions/{session['id']}").json()["state"] == "ready"
        removed = admin.http.delete(f"/api/admin/projects/{project}?volumes={fate}")
        assert removed.status_code == 200, removed.text
        assert removed.json()["sessions_stopped"] == 1 and removed.json()["volumes"] == [name]
        assert volume.is_dir() == (fate == "keep")
        assert project not in [p["name"] for p in admin.http.get("/api/admin/projects").json()]
        assert user.http.post("/api/sessions", json={"project": project}).status_code == 404
    assert admin.http.delete("/api/admin/projects/none-such?volumes=keep").status_code == 404
