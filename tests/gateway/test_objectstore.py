"""The object stores against real storage: a directory, and moto's S3 server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.config
import pytest
from moto.server import ThreadedMotoServer

from ide_server.config import load_config
from ide_server.gateway.objectstore import (
    DirectoryStore,
    ObjectMissing,
    StoreUnavailable,
    create_store,
    object_key,
)
from ide_server.gateway.objectstore_s3 import S3Settings, S3Store
from tests.support.gateway import free_port

BUCKET = "unit-artifacts"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    _client(url).create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


def _client(url: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id="k",
        aws_secret_access_key="s",
        region_name="us-east-1",
        config=botocore.config.Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def test_keys_name_project_user_and_invocation_and_refuse_climbing() -> None:
    assert object_key("/a/b/", "demo", "sam", "abc123", "dbt.log") == "a/b/demo/sam/abc123/dbt.log"
    assert object_key("", "demo", "sam", "abc", "manifest.json") == "demo/sam/abc/manifest.json"
    for bad in ("..", "a/b", "", "../x", ".hidden", "x..y"):
        with pytest.raises(ValueError):
            object_key("p", "demo", bad, "abc", "dbt.log")


def test_directory_store_round_trip(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "objects")
    store.put("p/demo/sam/i1/dbt.log", b"line\n", "text/plain")
    assert store.get("p/demo/sam/i1/dbt.log") == b"line\n"
    assert (tmp_path / "objects" / "p" / "demo" / "sam" / "i1" / "dbt.log").is_file()
    with pytest.raises(ObjectMissing):
        store.get("p/demo/sam/i2/dbt.log")
    with pytest.raises(ValueError):
        store.get("p/../../etc/passwd")


def test_the_default_store_is_a_directory_of_the_data_dir(tmp_path: Path) -> None:
    store = create_store(load_config({"data_dir": str(tmp_path)}, env={}))
    assert isinstance(store, DirectoryStore) and store.root == (tmp_path / "objects").resolve()


@pytest.mark.parametrize(
    ("sse", "kms", "expected"),
    [("AES256", "", ("AES256", None)), ("aws:kms", "key-1234", ("aws:kms", "key-1234"))],
)
def test_s3_objects_are_written_encrypted(
    moto_url: str, sse: str, kms: str, expected: tuple[str, str | None]
) -> None:
    store = S3Store(
        S3Settings(
            bucket=BUCKET,
            endpoint_url=moto_url,
            access_key_id="k",
            secret_access_key="s",
            sse=sse,
            kms_key_id=kms,
        )
    )
    key = f"p/demo/sam/{sse.replace(':', '-')}/run_results.json"
    store.put(key, b"{}", "application/json")
    head = _client(moto_url).head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == expected[0]
    assert head.get("SSEKMSKeyId") == expected[1]
    assert store.get(key) == b"{}"
    with pytest.raises(ObjectMissing):
        store.get("p/demo/sam/none/dbt.log")
    store.close()
    store.close()


def test_s3_down_is_unavailable_not_fatal() -> None:
    store = S3Store(
        S3Settings(bucket=BUCKET, endpoint_url=f"http://127.0.0.1:{free_port()}", timeout=2)
    )
    with pytest.raises(StoreUnavailable):
        store.put("p/demo/sam/i/dbt.log", b"x", "text/plain")


def test_s3_settings_refuse_what_would_store_unencrypted_or_nowhere() -> None:
    with pytest.raises(SystemExit, match="bucket"):
        S3Settings(bucket="")
    with pytest.raises(SystemExit, match="IDE_S3_SSE"):
        S3Settings(bucket="b", sse="none")
    with pytest.raises(SystemExit, match="key id"):
        S3Settings(bucket="b", sse="aws:kms")
    assert "secret" not in repr(S3Settings(bucket="b", secret_access_key="secret"))
