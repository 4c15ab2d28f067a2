"""The global warehouse of earlier versions migrated to per-project connections: the
deprecated ``IDE_WAREHOUSE`` becomes the connection of projects that have none (never of
the demo project, which keeps the demo warehouse), and a per-user login stored by the
removed ``PUT /api/me/warehouse-credentials`` moves onto the user's PostgreSQL projects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ide_server.secrets import SecretBox
from tests.support.gateway import PASSWORD, GatewayProcess, login_as
from tests.support.pg import temporary_database

LEGACY = {"type": "postgres", "host": "warehouse.internal", "port": 6432, "dbname": "analytics"}
OLD_PASSWORD = "legacy-login-password-91c2"


@pytest.fixture
def legacy_gateway(tmp_path: Path) -> Iterator[GatewayProcess]:
    with temporary_database(tmp_path) as url:
        gw = GatewayProcess(tmp_path / "data", url, warehouse=json.dumps(LEGACY))
        gw.start()
        try:
            yield gw
        finally:
            gw.stop()
            gw.stop_pods()


def _store_legacy_login(gw: GatewayProcess, username: str) -> None:
    """What the removed endpoint stored: one sealed login per user, no project."""
    box = SecretBox.from_environment(gw.data_dir, environ={})
    with psycopg.connect(gw.database_url, autocommit=True) as conn:
        uid = conn.execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()[0]
        row_id = conn.execute(
            "INSERT INTO secrets (kind, user_id, value) VALUES ('warehouse_password', %s, '')"
            " RETURNING id",
            (uid,),
        ).fetchone()[0]
        login = json.dumps({"user": "erin_pg", "password": OLD_PASSWORD})
        conn.execute(
            "UPDATE secrets SET value = %s WHERE id = %s",
            (box.encrypt(login, f"secret:{row_id}"), row_id),
        )


def test_the_global_warehouse_and_user_logins_move_onto_projects(
    legacy_gateway: GatewayProcess,
) -> None:
    gw = legacy_gateway
    gw.cli("user", "add", "erin", "--password", PASSWORD)
    gw.cli("project", "add", "sales", "file:///nonexistent/sales.git", "--skip-remote-check")
    gw.cli("member", "add", "sales", "erin", "developer")
    _store_legacy_login(gw, "erin")
    gw.stop()
    gw.start()  # the migration runs at start

    erin = login_as(gw, "erin")
    sales = erin.http.get("/api/projects/sales/connection").json()
    assert sales == {
        "type": "postgres", "host": "warehouse.internal", "port": 6432, "database": "analytics",
    }  # fmt: skip
    gw.cli("member", "add", "demo", "erin", "developer")
    demo = erin.http.get("/api/projects/demo/connection").json()
    assert demo["type"] == "duckdb" and demo["attach"][0]["alias"] == "demo"

    mine = erin.http.get("/api/projects/sales/credentials").json()
    assert mine["user"] == "erin_pg" and mine["password_set"] is True
    with psycopg.connect(gw.database_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM secrets WHERE kind = 'warehouse_password' AND project_id IS NULL"
        ).fetchone()[0]
        dump = str(conn.execute("SELECT * FROM secrets").fetchall())
    assert left == 0 and OLD_PASSWORD not in dump
    # The moved password reaches the pod of that project, sealed until then.
    assert OLD_PASSWORD not in erin.http.get("/api/projects/sales/credentials").text
