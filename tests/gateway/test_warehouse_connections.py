"""Warehouse connections per project, development credentials per developer, end to end:
the REST API and its RBAC, the sealed password, the CLI, and real pods that preview
against their own project's warehouse (the demo DuckDB one, a PostgreSQL database of
this test) or, without a connection, say so."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pygit2
import pytest
from pygit2.enums import FileMode

from tests.support.client import Api, Rpc, RpcFailure
from tests.support.gateway import GatewayProcess
from tests.support.pg import temporary_database
from tests.support.pg_password import PasswordServer, password_server

NO_CONNECTION = (
    "this project has no warehouse connection; an admin sets it in the project's settings"
)
PASSWORD = "sentinel-pg-password-4b1d"
SHOP = {
    "dbt_project.yml": "name: shop\nversion: '1.0'\nconfig-version: 2\nprofile: shop\n",
    "models/sources.yml": (
        "version: 2\nsources:\n  - name: raw\n    schema: raw\n    tables:\n"
        "      - name: customers\n"
    ),
    "models/stg_customers.sql": "select id, name from {{ source('raw', 'customers') }}\n",
}


def _remote(path: Path, files: dict[str, str]) -> str:
    repo = pygit2.init_repository(path, bare=True, initial_head="main")
    index = pygit2.Index()
    for name, text in files.items():
        index.add(pygit2.IndexEntry(name, repo.create_blob(text.encode()), FileMode.BLOB))
    author = pygit2.Signature("Test", "test@localhost")
    repo.create_commit("refs/heads/main", author, author, "shop", index.write_tree(repo), [])
    return path.as_uri()


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database of this module with 1234 customers (the demo has 50000)."""
    with temporary_database(tmp_path_factory.mktemp("shop")) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA raw")
            conn.execute("CREATE TABLE raw.customers AS SELECT i AS id, 'c' || i AS name"
                         " FROM generate_series(1, 1234) AS i")  # fmt: skip
        yield url


@pytest.fixture(scope="module")
def shop(gateway: GatewayProcess, shop_db: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A second project, a dbt project whose connection is the PostgreSQL database."""
    name = f"shop{secrets.token_hex(3)}"
    url = _remote(tmp_path_factory.mktemp("remote") / "shop.git", SHOP)
    gateway.cli("project", "add", name, url)
    database = psycopg.conninfo.conninfo_to_dict(shop_db)["dbname"]
    out = gateway.cli("project", "connection", name, "--type", "postgres",
                      "--host", "127.0.0.1", "--database", str(database))  # fmt: skip
    assert '"type": "postgres"' in out
    for user in ("alice", "bob"):
        gateway.cli("member", "add", name, user, "developer")
    return name


@pytest.fixture(scope="module")
def bare(gateway: GatewayProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A dbt project nobody gave a connection."""
    name = f"bare{secrets.token_hex(3)}"
    gateway.cli("project", "add", name, _remote(tmp_path_factory.mktemp("bare") / "b.git", SHOP))
    gateway.cli("member", "add", name, "alice", "developer")
    return name


@pytest.fixture(scope="module")
def pw_server() -> Iterator[PasswordServer]:
    with password_server() as server:
        yield server


def _error(response: Any) -> str:
    return str(response.json()["error"]["message"])


# -- the connection: validation and RBAC ----------------------------------------------


def test_the_demo_project_has_the_demo_duckdb_connection(alice: Api, data_dir: Path) -> None:
    response = alice.http.get("/api/projects/demo/connection")
    assert response.status_code == 200
    assert response.json() == {
        "type": "duckdb",
        "attach": [{"path": str(data_dir / "demo.duckdb"), "alias": "demo", "read_only": True}],
    }


def test_only_project_admins_set_a_connection(alice: Api, dave: Api, admin: Api, shop: str) -> None:
    body = {"type": "postgres", "host": "db.example.com", "database": "analytics"}
    assert alice.http.put(f"/api/projects/{shop}/connection", json=body).status_code == 403
    assert alice.http.get(f"/api/projects/{shop}/connection").json()["type"] == "postgres"
    # A non-member learns nothing, not even that the project exists.
    for response in (
        dave.http.put(f"/api/projects/{shop}/connection", json=body),
        dave.http.get(f"/api/projects/{shop}/connection"),
        dave.http.get(f"/api/projects/{shop}/credentials"),
        dave.http.put(f"/api/projects/{shop}/credentials", json={"user": "x"}),
        dave.http.post(f"/api/projects/{shop}/credentials/test"),
        admin.http.get("/api/projects/no-such-project/connection"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "project_not_found"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"type": "snowflake"}, "'type' must be one of duckdb, postgres"),
        ({"type": "postgres", "database": "a"}, "'host'"),
        ({"type": "postgres", "host": "db"}, "'database'"),
        ({"type": "postgres", "host": "db", "database": "a", "port": 70000}, "'port'"),
        ({"type": "postgres", "host": "db", "database": "a", "port": "5432"}, "'port'"),
        ({"type": "postgres", "host": "db", "database": "a", "sslmode": "maybe"}, "'sslmode'"),
        ({"type": "postgres", "host": "db;rm", "database": "a"}, "'host'"),
        ({"type": "postgres", "host": "db", "database": "a", "password": "x"}, "'password'"),
        ({"type": "duckdb", "attach": "/x.duckdb"}, "'attach' must be a list"),
        ({"type": "duckdb", "attach": [{"path": "rel.duckdb"}]}, "attach[0].path"),
        ({"type": "duckdb", "attach": [{"path": "/a/../b.duckdb"}]}, "'..'"),
        ({"type": "duckdb", "attach": [{"path": "/x.duckdb", "read_only": False}]}, "read-only"),
        ({"type": "duckdb", "attach": [{"path": "/x.duckdb", "alias": "dev"}]}, "reserved"),
        ({"type": "duckdb", "attach": [{"path": "/x.duckdb", "alias": "a b"}]}, "alias"),
        (
            {"type": "duckdb", "attach": [{"path": "/x.duckdb"}, {"path": "/y/x.duckdb"}]},
            "used twice",
        ),
    ],
)
def test_a_bad_connection_is_refused_naming_the_field(
    admin: Api, shop: str, body: dict[str, Any], says: str
) -> None:
    response = admin.http.put(f"/api/projects/{shop}/connection", json=body)
    assert response.status_code == 400, response.text
    assert says in _error(response)
    # Nothing was changed.
    assert admin.http.get(f"/api/projects/{shop}/connection").json()["type"] == "postgres"


def test_a_shared_file_inside_the_data_dir_is_refused(
    admin: Api, shop: str, data_dir: Path
) -> None:
    body = {"type": "duckdb", "attach": [{"path": str(data_dir / "master.key")}]}
    response = admin.http.put(f"/api/projects/{shop}/connection", json=body)
    assert response.status_code == 400
    assert "data directory" in _error(response)


def test_setting_a_connection_is_audited(admin: Api, gateway: GatewayProcess, bare: str) -> None:
    body = {"type": "duckdb", "attach": [{"path": "/srv/shared/finance.duckdb"}]}
    other = f"{bare}x"
    gateway.cli("project", "add", other, "file:///nonexistent.git", "--skip-remote-check")
    response = admin.http.put(f"/api/projects/{other}/connection", json=body)
    assert response.status_code == 200
    assert response.json()["attach"] == [
        {"path": "/srv/shared/finance.duckdb", "alias": "finance", "read_only": True}
    ]
    with psycopg.connect(gateway.database_url) as conn:
        rows = conn.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'project.connection'"
            " AND detail->>'project' = %s",
            (other,),
        ).fetchall()
    assert rows == [("admin", {"project": other, "type": "duckdb"})]


def test_removing_a_connection(
    admin: Api, alice: Api, dave: Api, gateway: GatewayProcess, bare: str
) -> None:
    other = f"{bare}r"
    gateway.cli("project", "add", other, "file:///nonexistent.git", "--skip-remote-check")
    gateway.cli("member", "add", other, "alice", "developer")
    body = {"type": "postgres", "host": "db.example.com", "database": "analytics"}
    assert admin.http.put(f"/api/projects/{other}/connection", json=body).status_code == 200
    assert alice.http.delete(f"/api/projects/{other}/connection").status_code == 403
    assert dave.http.delete(f"/api/projects/{other}/connection").status_code == 404
    assert admin.http.get(f"/api/projects/{other}/connection").status_code == 200  # still set
    assert admin.http.delete(f"/api/projects/{other}/connection").status_code == 204
    gone = alice.http.get(f"/api/projects/{other}/connection")
    assert gone.status_code == 404 and _error(gone) == NO_CONNECTION
    again = admin.http.delete(f"/api/projects/{other}/connection")
    assert again.status_code == 404 and again.json()["error"]["code"] == "no_connection"
    # The command line removes one too, and says when there was none.
    gateway.cli("project", "connection", other, "--type", "duckdb")
    assert "removed" in gateway.cli("project", "connection", other, "--remove")
    assert NO_CONNECTION in gateway.cli("project", "connection", other, "--remove")
    with psycopg.connect(gateway.database_url) as conn:
        actors = conn.execute(
            "SELECT actor FROM audit_log WHERE action = 'project.connection_removed'"
            " AND detail->>'project' = %s ORDER BY id",
            (other,),
        ).fetchall()
    assert [a[0] for a in actors][0] == "admin" and len(actors) == 2
    assert actors[1][0].startswith("cli:")


# -- development credentials ----------------------------------------------------------


def test_credentials_are_the_callers_own_and_the_password_is_sealed(
    alice: Api, bob: Api, gateway: GatewayProcess, shop: str
) -> None:
    fresh = alice.http.get(f"/api/projects/{shop}/credentials").json()
    assert fresh["password_set"] is False and fresh["user"] is None
    assert fresh["defaults"]["schema"] == "dbt_alice"
    body = {"user": "alice_pg", "password": PASSWORD, "schema": "dbt_alice_x", "threads": 2}
    response = alice.http.put(f"/api/projects/{shop}/credentials", json=body)
    assert response.status_code == 200 and PASSWORD not in response.text
    mine = alice.http.get(f"/api/projects/{shop}/credentials")
    assert PASSWORD not in mine.text
    assert {k: mine.json()[k] for k in ("user", "schema", "threads", "password_set")} == {
        "user": "alice_pg", "schema": "dbt_alice_x", "threads": 2, "password_set": True,
    }  # fmt: skip
    # Another developer of the project sees only their own (none).
    theirs = bob.http.get(f"/api/projects/{shop}/credentials").json()
    assert theirs["user"] is None and theirs["password_set"] is False
    with psycopg.connect(gateway.database_url) as conn:
        dump = str(conn.execute("SELECT * FROM secrets").fetchall())
        dump += str(conn.execute("SELECT * FROM dev_credentials").fetchall())
        dump += str(conn.execute("SELECT * FROM audit_log").fetchall())
        sealed = conn.execute(
            "SELECT s.value FROM secrets s JOIN users u ON u.id = s.user_id"
            " JOIN projects p ON p.id = s.project_id"
            " WHERE s.kind = 'warehouse_password' AND u.username = 'alice' AND p.name = %s",
            (shop,),
        ).fetchone()
    assert PASSWORD not in dump
    assert sealed is not None and sealed[0].startswith("v1.")
    # An absent password keeps it; null removes it; DELETE removes everything.
    alice.http.put(f"/api/projects/{shop}/credentials", json={"user": "alice_pg"})
    assert alice.http.get(f"/api/projects/{shop}/credentials").json()["password_set"] is True
    alice.http.put(f"/api/projects/{shop}/credentials", json={"password": None})
    assert alice.http.get(f"/api/projects/{shop}/credentials").json()["password_set"] is False
    creds = {"user": "postgres", "password": PASSWORD}
    alice.http.put(f"/api/projects/{shop}/credentials", json=creds)
    assert alice.http.delete(f"/api/projects/{shop}/credentials").status_code == 204
    gone = alice.http.get(f"/api/projects/{shop}/credentials").json()
    assert gone["password_set"] is False and gone["user"] is None


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"threads": 0}, "'threads'"),
        ({"threads": "4"}, "'threads'"),
        ({"schema": "dbt alice"}, "'schema'"),
        ({"user": ""}, "'user'"),
        ({"password": 12}, "'password'"),
        ({"host": "elsewhere"}, "unknown field 'host'"),
    ],
)
def test_bad_credentials_are_refused(alice: Api, shop: str, body: dict, says: str) -> None:
    response = alice.http.put(f"/api/projects/{shop}/credentials", json=body)
    assert response.status_code == 400 and says in _error(response)


def test_the_old_per_user_endpoint_is_gone(alice: Api) -> None:
    response = alice.http.put("/api/me/warehouse-credentials", json={"user": "a", "password": "b"})
    assert response.status_code in (404, 405)
    assert "warehouse_credentials_set" not in alice.http.get("/api/me").json()


# -- Test connection ------------------------------------------------------------------


def test_test_connection_on_duckdb_needs_no_credentials(alice: Api) -> None:
    result = alice.http.post("/api/projects/demo/credentials/test").json()
    assert result["ok"] is True, result
    assert "no credentials" in result["message"] and "demo" in result["message"]


def test_test_connection_with_a_wrong_then_the_right_password(
    alice: Api, admin: Api, gateway: GatewayProcess, pw_server: PasswordServer
) -> None:
    name = f"pw{secrets.token_hex(3)}"
    gateway.cli("project", "add", name, "file:///nonexistent.git", "--skip-remote-check")
    gateway.cli("member", "add", name, "alice", "developer")
    connection = {"type": "postgres", "host": pw_server.host, "port": pw_server.port,
                  "database": pw_server.database, "sslmode": "disable"}  # fmt: skip
    assert admin.http.put(f"/api/projects/{name}/connection", json=connection).status_code == 200
    creds = f"/api/projects/{name}/credentials"
    alice.http.put(creds, json={"user": pw_server.user, "password": "wrong-password"})
    wrong = alice.http.post(f"{creds}/test").json()
    assert wrong["ok"] is False
    assert "password authentication failed" in wrong["message"]
    assert "wrong-password" not in wrong["message"]
    alice.http.put(creds, json={"user": pw_server.user, "password": pw_server.password})
    right = alice.http.post(f"{creds}/test").json()
    assert right == {
        "ok": True,
        "message": f"connected to {pw_server.host}:{pw_server.port}/postgres as owner;"
        " dbt builds into schema dbt_alice",
    }


def test_test_connection_without_a_connection_says_so(alice: Api, bare: str) -> None:
    result = alice.http.post(f"/api/projects/{bare}/credentials/test").json()
    assert result == {"ok": False, "message": NO_CONNECTION}
    response = alice.http.get(f"/api/projects/{bare}/connection")
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "no_connection", "message": NO_CONNECTION}


# -- real pods ------------------------------------------------------------------------


async def _preview(rpc: Rpc, sql: str, **extra: Any) -> tuple[str, dict[str, Any], list]:
    query_id = secrets.token_hex(4)
    await rpc.call("query/preview", {"query_id": query_id, "sql": sql, **extra})
    rows: list = []
    while True:
        message = await asyncio.wait_for(rpc.notifications.get(), 120)
        params = message.get("params", {})
        if params.get("query_id") != query_id:
            continue
        if message["method"] == "query/rows":
            rows += params["rows"]
        if message["method"] in ("query/done", "query/error"):
            return message["method"], params, rows


def _pod_warehouse(gateway: GatewayProcess, session_id: str) -> dict[str, Any]:
    pid = gateway.pod_pid(session_id)
    for line in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if line.startswith(b"IDE_POD_WAREHOUSE="):
            return dict(json.loads(line.split(b"=", 1)[1]))
    raise AssertionError("no IDE_POD_WAREHOUSE")


def test_two_projects_preview_against_their_own_warehouse(
    alice: Api, gateway: GatewayProcess, shop: str, shop_db: str
) -> None:
    creds = {"user": "postgres", "password": PASSWORD}
    alice.http.put(f"/api/projects/{shop}/credentials", json=creds)
    database = str(psycopg.conninfo.conninfo_to_dict(shop_db)["dbname"])
    shop_session = alice.open_session(shop)
    demo_session = alice.open_session("demo")
    try:
        shop_env = _pod_warehouse(gateway, shop_session["id"])
        assert shop_env["dbname"] == database and shop_env["password"] == PASSWORD
        assert "demo.duckdb" not in json.dumps(shop_env)
        assert "password" not in _pod_warehouse(gateway, demo_session["id"])

        async def check() -> None:
            async with await alice.rpc(shop_session["id"]) as rpc:
                status = await rpc.call("session/status")
                assert status["warehouse"] == {
                    "type": "postgres", "database": database, "schema": "dbt_alice",
                    "attached": [],
                }  # fmt: skip
                end, params, rows = await _preview(rpc, "select count(*) from raw.customers")
                assert end == "query/done", params
                assert rows == [[1234]]
                # dbt SQL, compiled with the project's profile, read from its own database.
                end, params, rows = await _preview(
                    rpc, "select count(*) from {{ source('raw', 'customers') }}",
                    path="models/stg_customers.sql",
                )  # fmt: skip
                assert end == "query/done", params
                assert rows == [[1234]] and '"raw"."customers"' in params["compiled_sql"]
            async with await alice.rpc(demo_session["id"]) as rpc:
                status = await rpc.call("session/status")
                assert status["warehouse"] == {
                    "type": "duckdb", "database": "dev", "schema": "analytics",
                    "attached": ["demo"],
                }  # fmt: skip
                end, params, rows = await _preview(rpc, "select count(*) from raw.customers")
                assert end == "query/done", params
                assert rows == [[50000]]

        asyncio.run(check())
    finally:
        alice.http.delete(f"/api/sessions/{shop_session['id']}")
        # alice's demo session is the suite's shared one (tests/conftest.py): it stays open.


def test_a_project_without_a_connection_says_so_in_the_pod(
    alice: Api, gateway: GatewayProcess, bare: str
) -> None:
    session = alice.open_session(bare)
    try:
        assert _pod_warehouse(gateway, session["id"]) == {}

        async def check() -> None:
            async with await alice.rpc(session["id"]) as rpc:
                assert (await rpc.call("session/status"))["warehouse"] is None
                for method, params in (
                    ("query/preview", {"query_id": "q1", "sql": "select 1"}),
                    ("query/preview", {"query_id": "q2", "sql": "select 1",
                                       "path": "models/stg_customers.sql"}),
                    ("dbt/run", {"invocation_id": "i1", "command": "build"}),
                    ("dbt/compile", {"path": "models/stg_customers.sql"}),
                ):  # fmt: skip
                    with pytest.raises(RpcFailure) as failure:
                        await rpc.call(method, params)
                    assert failure.value.error["code"] == -32043, method
                    assert failure.value.error["message"] == NO_CONNECTION
                # The session is unaffected.
                assert (await rpc.call("session/heartbeat")) == {"ok": True}

        asyncio.run(check())
    finally:
        alice.http.delete(f"/api/sessions/{session['id']}")


def test_the_cli_shows_and_refuses(gateway: GatewayProcess, shop: str, bare: str) -> None:
    assert json.loads(gateway.cli("project", "connection", shop))["type"] == "postgres"
    assert NO_CONNECTION in gateway.cli("project", "connection", bare)
    with pytest.raises(RuntimeError, match="'database'"):
        gateway.cli("project", "connection", shop, "--type", "postgres", "--host", "db")
    with pytest.raises(RuntimeError, match="no project"):
        gateway.cli("project", "connection", "nope", "--type", "duckdb")
