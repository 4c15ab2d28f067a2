"""The history of dbt invocations is kept for the retention period, then goes with its
objects: on a real PostgreSQL, with the directory store and with S3 (moto's server)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from ide_server.db import Database
from ide_server.gateway.accounts import Accounts
from ide_server.gateway.invocations import InvocationIndex
from ide_server.gateway.objectstore import DirectoryStore, ObjectMissing, ObjectStore, object_key
from ide_server.gateway.objectstore_s3 import S3Settings, S3Store
from ide_server.gateway.retention import BATCH, Retention
from tests.support.gateway import free_port
from tests.support.pg import migrated_database

DAY = 86400.0


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with migrated_database(tmp_path) as database:
        yield database


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client(
        "s3", endpoint_url=url, aws_access_key_id="k", aws_secret_access_key="s",
        region_name="us-east-1",
    ).create_bucket(Bucket="history")  # fmt: skip
    yield url
    server.stop()


def _s3(url: str) -> S3Store:
    return S3Store(
        S3Settings(bucket="history", endpoint_url=url, access_key_id="k", secret_access_key="s")
    )


async def _invocation(
    db: Database, store: ObjectStore, ids: tuple[int, int], *, age_days: float, status: str
) -> tuple[str, list[str]]:
    invocation_id = uuid.uuid4().hex
    keys = {}
    for name in ("dbt.log", "run_results.json"):
        key = object_key("inv", "demo", "ann", invocation_id, name)
        store.put(key, b"{}", "application/json")
        keys[name] = key
    await InvocationIndex(db).record(
        user_id=ids[0],
        project_id=ids[1],
        session_id="s",
        spooled={
            "invocation_id": invocation_id,
            "command": "build",
            "status": status,
            "started_at": time.time() - age_days * DAY,
        },
        object_keys=keys,
    )
    return invocation_id, list(keys.values())


async def _owner(db: Database) -> tuple[int, int]:
    accounts = Accounts(db)
    user = await accounts.create_user("ann", "password-123")
    project = await accounts.create_project("demo", "file:///nowhere")
    return user.id, project.id


async def _left(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT invocation_id FROM dbt_invocations")
    return {r["invocation_id"] for r in rows}


def _exists(store: ObjectStore, key: str) -> bool:
    try:
        store.get(key)
        return True
    except ObjectMissing:
        return False


@pytest.mark.parametrize("kind", ["directory", "s3"])
async def test_old_invocations_go_with_their_objects(
    db: Database, tmp_path: Path, moto_url: str, kind: str
) -> None:
    store: ObjectStore = (
        DirectoryStore(tmp_path / "objects") if kind == "directory" else _s3(moto_url)
    )
    ids = await _owner(db)
    old, old_keys = await _invocation(db, store, ids, age_days=91, status="success")
    recent, recent_keys = await _invocation(db, store, ids, age_days=89, status="error")
    # Left running (its pod died) long ago: its files may still arrive; kept.
    running, _ = await _invocation(db, store, ids, age_days=200, status="running")
    assert await Retention(db, store, days=90).expire_batch() == 1
    assert await _left(db) == {recent, running}
    assert not any(_exists(store, k) for k in old_keys)
    assert all(_exists(store, k) for k in recent_keys)
    if kind == "directory":  # the old invocation's directory went with its files
        assert not (tmp_path / "objects" / "inv" / "demo" / "ann" / old).exists()
    assert await Retention(db, store, days=90).expire_batch() == 0  # nothing more to do


async def test_a_store_that_is_down_keeps_the_rows_until_it_answers(
    db: Database, moto_url: str
) -> None:
    ids = await _owner(db)
    store = _s3(moto_url)
    old, keys = await _invocation(db, store, ids, age_days=120, status="success")
    down = S3Store(S3Settings(bucket="history", endpoint_url=f"http://127.0.0.1:{free_port()}",
                              access_key_id="k", secret_access_key="s", timeout=1))  # fmt: skip
    assert await Retention(db, down, days=90).expire_batch() == 0
    assert await _left(db) == {old}  # nothing points at objects that are still there
    assert _exists(store, keys[0])
    assert await Retention(db, store, days=90).expire_batch() == 1
    assert await _left(db) == set()


async def test_a_backlog_goes_in_batches_and_zero_days_keeps_everything(
    db: Database, tmp_path: Path
) -> None:
    ids = await _owner(db)
    store = DirectoryStore(tmp_path / "objects")
    for _ in range(BATCH + 5):
        await _invocation(db, store, ids, age_days=400, status="success")
    forever = Retention(db, store, days=0)
    forever.start()
    await asyncio.sleep(0.5)  # a first round would have run at once
    await forever.stop()
    assert len(await _left(db)) == BATCH + 5
    retention = Retention(db, store, days=30)
    retention.start()
    try:
        for _ in range(200):
            if not await _left(db):
                break
            await asyncio.sleep(0.05)
        assert await _left(db) == set()
    finally:
        await retention.stop()
    assert not any((tmp_path / "objects").rglob("*.json"))
