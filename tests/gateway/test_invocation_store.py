"""dbt invocations through a real gateway into a real S3 endpoint (moto's server).

One gateway with the ``s3`` store on moto on loopback; real pods on the demo project. The
tests run in file order: artifacts arrive encrypted, only their owner (and admins) see
them, the store going down loses nothing, the history outlives the session (a command
running when it stops is kept as cancelled, with its log), and the pod never sees the
store's secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import psycopg
import pytest
from moto.server import ThreadedMotoServer

from tests.support.client import Api
from tests.support.gateway import ADMIN_PASSWORD, GatewayProcess, free_port, login_as
from tests.support.pg import temporary_database
from tests.support.pods import developer

BUCKET = "ide-artifacts"
ACCESS_KEY = "AKIDEXAMPLESTORE"
SECRET_KEY = f"s3-secret-{secrets.token_hex(16)}"
PREFIX = "team/invocations"
LONG_MODEL = (
    "{{ config(materialized='table') }}\n"
    "select sum(a.range * b.range) as s from range(2000000000) as a, range(1000) as b\n"
)


@dataclass
class Moto:
    server: ThreadedMotoServer
    url: str
    client: Any


@pytest.fixture(scope="module")
def s3() -> Iterator[Moto]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        config=botocore.config.Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    client.create_bucket(Bucket=BUCKET)
    yield Moto(server, url, client)
    server.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, s3: Moto) -> Iterator[GatewayProcess]:
    tmp = tmp_path_factory.mktemp("store")
    with temporary_database(tmp) as url:
        gw = GatewayProcess(
            tmp / "data",
            url,
            object_store="s3",
            object_store_prefix=PREFIX,
            s3_endpoint_url=s3.url,
            s3_bucket=BUCKET,
            s3_access_key_id=ACCESS_KEY,
            s3_secret_access_key=SECRET_KEY,
            collect_interval="0.5",
        )
        gw.start()
        yield gw
        gw.stop()
        gw.stop_pods()


@pytest.fixture(scope="module")
def sam(gateway: GatewayProcess) -> Api:
    return developer(gateway, "sam")


@pytest.fixture(scope="module")
def sam_session(sam: Api) -> dict[str, Any]:
    return sam.open_session("demo")


@dataclass
class Shared:
    seeded: str = ""  # the invocation id of the first seed


SHARED = Shared()


async def run_dbt(api: Api, session_id: str, command: str, args: list[str] | None = None) -> dict:
    invocation_id = uuid.uuid4().hex
    async with await api.rpc(session_id) as rpc:
        params = {"invocation_id": invocation_id, "command": command, "args": args or []}
        await rpc.call("dbt/run", params)
        while True:
            done = await rpc.notification("dbt/done", timeout=300)
            if done["invocation_id"] == invocation_id:
                return done


def wait_for(check: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def stored(api: Api, invocation_id: str, files: set[str]) -> Callable[[], dict | None]:
    def check() -> dict | None:
        r = api.http.get(f"/api/invocations/{invocation_id}")
        if r.status_code != 200:
            return None
        row = r.json()
        return row if files <= set(row["files"]) else None

    return check


def key(invocation_id: str, name: str, user: str = "sam") -> str:
    return f"{PREFIX}/demo/{user}/{invocation_id}/{name}"


def spool_of(gateway: GatewayProcess, user: str, invocation_id: str) -> Path:
    return gateway.data_dir / "volumes" / user / "demo" / ".ide" / "dbt" / "spool" / invocation_id


ARTIFACTS = {"dbt.log", "run_results.json", "manifest.json"}


async def test_artifacts_arrive_server_side_encrypted(
    gateway: GatewayProcess, s3: Moto, sam: Api, sam_session: dict
) -> None:
    done = await run_dbt(sam, sam_session["id"], "seed")
    assert done["success"] is True
    invocation_id = SHARED.seeded = done["invocation_id"]
    row = wait_for(stored(sam, invocation_id, ARTIFACTS), what="the objects")
    assert row["status"] == "success" and row["command"] == "seed"
    assert row["user"] == "sam" and row["counts"]["pass"] >= 1
    assert row["branch"] == "main" and len(row["commit"]) == 40
    for name in ARTIFACTS:
        head = s3.client.head_object(Bucket=BUCKET, Key=key(invocation_id, name))
        assert head["ServerSideEncryption"] == "AES256", name
    run_results = json.loads(
        s3.client.get_object(Bucket=BUCKET, Key=key(invocation_id, "run_results.json"))[
            "Body"
        ].read()
    )
    assert run_results["results"][0]["unique_id"].startswith("seed.")
    log = sam.http.get(f"/api/invocations/{invocation_id}/log")
    assert log.status_code == 200 and "country_codes" in log.text
    artifact = sam.http.get(f"/api/invocations/{invocation_id}/artifacts/run_results.json")
    assert artifact.status_code == 200 and artifact.json() == run_results
    listed = sam.http.get("/api/projects/demo/invocations").json()["invocations"]
    assert [i["invocation_id"] for i in listed][:1] == [invocation_id]
    # Stored, so the pod forgot it.
    wait_for(lambda: not spool_of(gateway, "sam", invocation_id).exists(), what="spool")


def test_only_the_owner_and_admins_see_an_invocation(
    gateway: GatewayProcess, sam: Api, sam_session: dict
) -> None:
    invocation_id = SHARED.seeded
    assert invocation_id
    # The pod's spool endpoints are the gateway's: its proxy never opens them, even to the
    # session's owner.
    base = f"/sessions/{sam_session['id']}/ide/invocations"
    for method, path in (("GET", ""), ("POST", "/cancel"), ("DELETE", f"/{invocation_id}")):
        answer = sam.http.request(method, base + path)
        assert answer.status_code in (403, 404), (method, path, answer.status_code)
    tess = developer(gateway, "tess")
    for path in ("", "/log", "/artifacts/run_results.json", "/artifacts/manifest.json"):
        r = tess.http.get(f"/api/invocations/{invocation_id}{path}")
        assert r.status_code == 404, (path, r.text)
        assert invocation_id not in r.text
    theirs = tess.http.get("/api/projects/demo/invocations")
    assert theirs.status_code == 200 and theirs.json()["invocations"] == []
    assert tess.http.get("/api/projects/nope/invocations").status_code == 404
    # A name that is not an artifact, or a path that climbs, is not a way out.
    assert sam.http.get(f"/api/invocations/{invocation_id}/artifacts/dbt.log").status_code == 404
    climbed = sam.http.get(f"/api/invocations/{invocation_id}/artifacts/..%2f..%2fx")
    assert "dbt_schema_version" not in climbed.text  # no route: the frontend's index page
    admin = login_as(gateway, "admin", ADMIN_PASSWORD)
    seen = admin.http.get("/api/projects/demo/invocations").json()["invocations"]
    assert invocation_id in [i["invocation_id"] for i in seen]
    assert admin.http.get(f"/api/invocations/{invocation_id}/log").status_code == 200
    anonymous = Api(gateway.url)
    assert anonymous.http.get(f"/api/invocations/{invocation_id}").status_code == 401


async def test_store_down_loses_nothing(
    gateway: GatewayProcess, s3: Moto, sam: Api, sam_session: dict
) -> None:
    s3.server.stop()
    try:
        done = await run_dbt(sam, sam_session["id"], "build")
        invocation_id = done["invocation_id"]
        # The store being down fails no invocation.
        assert done["success"] is True
        # The history shows it meanwhile; its files wait on the pod's volume.
        row = wait_for(lambda: _final_row(sam, invocation_id), what="the index row")
        assert row["status"] == "success" and row["files"] == []
        time.sleep(2)  # several collection passes fail meanwhile
        assert (spool_of(gateway, "sam", invocation_id) / "dbt.log").is_file()
    finally:
        s3.server.start()
    wait_for(stored(sam, invocation_id, ARTIFACTS), timeout=90, what="the retried upload")
    head = s3.client.head_object(Bucket=BUCKET, Key=key(invocation_id, "dbt.log"))
    assert head["ServerSideEncryption"] == "AES256"
    assert "customers" in sam.http.get(f"/api/invocations/{invocation_id}/log").text


async def test_rows_of_dbt_show_reach_no_object_nor_the_index(
    gateway: GatewayProcess, s3: Moto, sam: Api, sam_session: dict
) -> None:
    """The value exists only in the warehouse's answer: the SQL names its seed, not it."""
    seed = f"seed-{secrets.token_hex(8)}"
    sentinel = hashlib.md5(seed.encode()).hexdigest()
    invocation_id = uuid.uuid4().hex
    async with await sam.rpc(session_id := sam_session["id"]) as rpc:
        args = ["--inline", f"select md5('{seed}') as v", "--output", "json"]
        params = {"invocation_id": invocation_id, "command": "show", "args": args}
        await rpc.call("dbt/run", params)
        seen = []
        while True:
            message = await rpc.notifications.get()
            seen.append(message)
            if message.get("method") == "dbt/done":
                assert message["params"]["success"] is True
                break
    # The test means something only if the value did travel to the client.
    assert sentinel in json.dumps(seen)
    wait_for(stored(sam, invocation_id, {"dbt.log"}), what="the show's log")
    log = sam.http.get(f"/api/invocations/{invocation_id}/log").text
    assert "the rows shown are not logged" in log
    for obj in s3.client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        body = s3.client.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        assert sentinel.encode() not in body, obj["Key"]
    with psycopg.connect(gateway.database_url) as conn:
        dump = conn.execute("SELECT to_jsonb(i)::text FROM dbt_invocations i").fetchall()
    assert seed in str(dump)  # the command line is history; its result is not
    assert sentinel not in str(dump)
    for root in (gateway.data_dir / "volumes" / "sam", gateway.runtime_dir(session_id)):
        for path in root.rglob("*"):
            if path.is_file() and not path.name.startswith("dev.duckdb"):
                assert sentinel.encode() not in path.read_bytes(), path


def _final_row(api: Api, invocation_id: str) -> dict | None:
    r = api.http.get(f"/api/invocations/{invocation_id}")
    return r.json() if r.status_code == 200 and r.json()["status"] != "running" else None


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [root], [root]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


async def test_the_pod_holds_no_store_secret(
    gateway: GatewayProcess, sam: Api, sam_session: dict
) -> None:
    assert gateway.proc is not None
    gateway_env = Path(f"/proc/{gateway.proc.pid}/environ").read_bytes()
    assert SECRET_KEY.encode() in gateway_env  # the gateway has it: the check can fail
    session_id = sam_session["id"]
    async with await sam.rpc(session_id) as rpc:
        await rpc.call("fs/write", {"path": "models/long_probe.sql", "content": LONG_MODEL})
        invocation_id = uuid.uuid4().hex
        await rpc.call(
            "dbt/run",
            {"invocation_id": invocation_id, "command": "run", "args": ["-s", "long_probe"]},
        )
        await asyncio.sleep(3)  # the command's dbt process runs
        pids = _descendants(gateway.pod_pid(session_id))
        assert len(pids) >= 3  # the sandbox, the pod, its dbt process (and more)
        for pid in pids:
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            assert SECRET_KEY.encode() not in environ, pid
            assert b"IDE_S3_" not in environ, pid
        await rpc.call("dbt/cancel", {"invocation_id": invocation_id})
        await rpc.call("fs/delete", {"path": "models/long_probe.sql"})
    roots = [gateway.data_dir / "volumes" / "sam", gateway.runtime_dir(session_id)]
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    assert SECRET_KEY.encode() not in path.read_bytes(), path
                except PermissionError:
                    continue


async def test_history_outlives_the_session_and_a_running_command_is_cancelled(
    gateway: GatewayProcess, sam: Api, sam_session: dict
) -> None:
    session_id = sam_session["id"]
    async with await sam.rpc(session_id) as rpc:
        await rpc.call("fs/write", {"path": "models/long_one.sql", "content": LONG_MODEL})
        invocation_id = uuid.uuid4().hex
        await rpc.call(
            "dbt/run",
            {"invocation_id": invocation_id, "command": "run", "args": ["-s", "long_one"]},
        )
        wait_for(
            lambda: sam.http.get(f"/api/invocations/{invocation_id}").status_code == 200,
            what="the running row",
        )
        row = sam.http.get(f"/api/invocations/{invocation_id}").json()
        assert row["status"] == "running"
        # The log of a running invocation streams through the pod.
        with sam.http.stream("GET", f"/api/invocations/{invocation_id}/log") as streamed:
            assert streamed.status_code == 200
            seen = b""
            for chunk in streamed.iter_bytes():
                seen += chunk
                if b"START sql table model" in seen:  # the long model runs
                    break
    stopped = sam.http.delete(f"/api/sessions/{session_id}")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    row = sam.http.get(f"/api/invocations/{invocation_id}").json()
    assert row["status"] == "cancelled" and "dbt.log" in row["files"]
    log = sam.http.get(f"/api/invocations/{invocation_id}/log").text
    assert "long_one" in log and "the session stopped while this invocation ran" in log
    # Everything before it is still there, from the store, with no pod running.
    listed = sam.http.get("/api/projects/demo/invocations").json()["invocations"]
    assert SHARED.seeded in [i["invocation_id"] for i in listed]
    assert sam.http.get(f"/api/invocations/{SHARED.seeded}/artifacts/manifest.json").json()[
        "metadata"
    ]["dbt_schema_version"]
