"""Git tokens and warehouse passwords: stored sealed, never shown back, handed to the pod."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.support.client import Api
from tests.support.gateway import ADMIN_PASSWORD, PASSWORD, GatewayProcess

TOKEN = "ghp_SENTINEL0token0for0tests0only0x7Q"


@pytest.fixture(scope="module")
def frank(gateway: GatewayProcess) -> Api:
    gateway.cli("user", "add", "frank", "--password", PASSWORD)
    gateway.cli("member", "add", "demo", "frank", "developer")
    api = Api(gateway.url)
    assert api.login("frank", PASSWORD).status_code == 200
    return api


def test_git_token_is_sealed_and_never_shown_back(frank: Api, gateway: GatewayProcess) -> None:
    assert frank.http.get("/api/me").json()["git_token_set"] is False
    response = frank.http.put("/api/me/git-token", json={"token": TOKEN})
    assert response.status_code == 200
    assert TOKEN not in response.text and response.json()["hint"] == "…0x7Q"
    me = frank.http.get("/api/me")
    assert me.json()["git_token_set"] is True and TOKEN not in me.text
    with psycopg.connect(gateway.database_url) as conn:
        dump = str(conn.execute("SELECT * FROM secrets").fetchall())
    assert TOKEN not in dump and "v1." in dump
    assert frank.http.put("/api/me/git-token", json={"token": ""}).status_code == 400
    assert frank.http.put("/api/me/git-token", content=b"nope").status_code == 400


def test_the_pod_receives_the_token_in_its_environment_only(
    frank: Api, gateway: GatewayProcess
) -> None:
    frank.http.put("/api/me/git-token", json={"token": TOKEN})
    session = frank.open_session("demo")
    pid = gateway.pod_pid(session["id"])
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert f"IDE_POD_GIT_TOKEN={TOKEN}".encode() in environ
    assert TOKEN.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    volume = gateway.data_dir / "volumes" / "frank" / "demo"
    for path in volume.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    frank.http.delete(f"/api/sessions/{session['id']}")


def test_a_sealed_value_moved_to_another_row_does_not_open(
    frank: Api, gateway: GatewayProcess
) -> None:
    gateway.cli("project", "add", "sealed", "file:///nonexistent/sealed.git", "--skip-remote-check")
    gateway.cli("project", "connection", "sealed", "--type", "postgres", "--host", "127.0.0.1",
                "--database", "nowhere")  # fmt: skip
    gateway.cli("member", "add", "sealed", "frank", "developer")
    frank.http.put("/api/me/git-token", json={"token": TOKEN})
    frank.http.put("/api/projects/sealed/credentials", json={"password": "pw-123"})
    with psycopg.connect(gateway.database_url, autocommit=True) as conn:
        uid = conn.execute("SELECT id FROM users WHERE username = 'frank'").fetchone()[0]
        conn.execute(
            "UPDATE secrets SET value = (SELECT value FROM secrets WHERE kind = 'git_token'"
            " AND user_id = %s) WHERE kind = 'warehouse_password' AND user_id = %s",
            (uid, uid),
        )
    response = frank.http.post("/api/sessions", json={"project": "sealed"})
    # The swapped row fails to decrypt: the start is refused clearly, nothing leaks.
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "secret_unreadable"
    assert TOKEN not in response.text
    frank.http.put("/api/projects/sealed/credentials", json={"password": "pw-123"})


def test_only_admins_set_deploy_tokens(frank: Api, gateway: GatewayProcess) -> None:
    assert (
        frank.http.put("/api/projects/demo/deploy-token", json={"token": TOKEN}).status_code == 403
    )
    admin = Api(gateway.url)
    admin.login("admin", ADMIN_PASSWORD)
    ok = admin.http.put("/api/projects/demo/deploy-token", json={"token": TOKEN})
    assert ok.status_code == 200 and TOKEN not in ok.text
    assert (
        admin.http.put("/api/projects/nope/deploy-token", json={"token": TOKEN}).status_code == 404
    )
