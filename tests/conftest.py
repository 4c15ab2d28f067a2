"""Fixtures shared by the whole suite: a real PostgreSQL database and a real gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.gateway import ADMIN_PASSWORD, PASSWORD, GatewayProcess, login_as
from tests.support.pg import temporary_database


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with temporary_database(tmp_path_factory.mktemp("pg")) as url:
        yield url


@pytest.fixture(scope="session")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[GatewayProcess]:
    """One gateway for the run, with users: alice and bob (developers on demo), carol
    (read-only on demo), dave (no role on demo), admin."""
    data = tmp_path_factory.mktemp("gateway") / "data"
    gw = GatewayProcess(data, database_url)
    gw.start()
    for user in ("alice", "bob", "carol", "dave"):
        gw.cli("user", "add", user, "--password", PASSWORD, "--email", f"{user}@example.com")
    gw.cli("member", "add", "demo", "alice", "developer")
    gw.cli("member", "add", "demo", "bob", "developer")
    gw.cli("member", "add", "demo", "carol", "read-only")
    yield gw
    gw.stop()
    gw.stop_pods()


@pytest.fixture(scope="session")
def alice(gateway: GatewayProcess) -> Api:
    return login_as(gateway, "alice")


@pytest.fixture(scope="session")
def bob(gateway: GatewayProcess) -> Api:
    return login_as(gateway, "bob")


@pytest.fixture(scope="session")
def carol(gateway: GatewayProcess) -> Api:
    return login_as(gateway, "carol")


@pytest.fixture(scope="session")
def dave(gateway: GatewayProcess) -> Api:
    return login_as(gateway, "dave")


@pytest.fixture(scope="session")
def admin(gateway: GatewayProcess) -> Api:
    return login_as(gateway, "admin", ADMIN_PASSWORD)


@pytest.fixture(scope="session")
def alice_session(alice: Api) -> dict:
    return alice.open_session("demo")


@pytest.fixture(scope="session")
def data_dir(gateway: GatewayProcess) -> Path:
    return gateway.data_dir
