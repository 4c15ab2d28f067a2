"""Access changes reach sockets that are already open, on every replica, within 2 s.

Two gateway processes share one database and data dir, as two replicas behind a load
balancer would. Each test opens the user's IDE socket on both and a document room on the
second, then takes access away through one replica (or straight in SQL) and times how
long the sockets on both stay usable."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import websockets
from pycrdt import Text
from websockets.asyncio.client import ClientConnection

from tests.support.client import Api, RpcFailure
from tests.support.gateway import ADMIN_PASSWORD, PASSWORD, GatewayProcess, login_as, two_replicas
from tests.support.ydoc import room

DEADLINE = 2.0
CLOSE_REVOKED = 4401


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, ...]]:
    with two_replicas(tmp_path_factory.mktemp("replicas")) as gateways:
        yield gateways


def _user(gw: GatewayProcess, role: str = "developer") -> str:
    name = f"r{secrets.token_hex(4)}"
    gw.cli("user", "add", name, "--password", PASSWORD)
    gw.cli("member", "add", "demo", name, role)
    return name


def _same_login(api: Api, other: GatewayProcess) -> Api:
    """A client of the other replica holding the same login cookie."""
    twin = Api(other.url)
    twin.http.cookies.set("ide_session", api.cookie or "")
    return twin


async def _closed_within(ws: ClientConnection, seconds: float) -> tuple[int | None, str]:
    await asyncio.wait_for(ws.wait_closed(), seconds)
    return ws.close_code, ws.close_reason or ""


async def _all_closed(
    sockets: list[ClientConnection], started: float
) -> list[tuple[int | None, str]]:
    closes = await asyncio.gather(*(_closed_within(s, DEADLINE + 3) for s in sockets))
    elapsed = time.monotonic() - started
    assert elapsed < DEADLINE, f"sockets stayed open {elapsed:.2f}s"
    return list(closes)


class _Open:
    """The user's IDE socket on both replicas and a document room on the second."""

    def __init__(self, a: Api, b: Api, sid: str) -> None:
        self.a, self.b, self.sid = a, b, sid

    async def __aenter__(self) -> tuple[ClientConnection, ...]:
        self.ide_a = await self.a.rpc(self.sid)
        self.ide_b = await self.b.rpc(self.sid)
        await self.ide_a.call("session/status")
        await self.ide_b.call("session/status")
        self._room = room(self.b, self.sid, "README.md")
        _doc, channel = await self._room.__aenter__()
        return self.ide_a.ws, self.ide_b.ws, channel.ws

    async def __aexit__(self, *exc: object) -> None:
        for rpc in (self.ide_a, self.ide_b):
            await rpc.close()
        try:
            await self._room.__aexit__(None, None, None)
        except (websockets.ConnectionClosed, RuntimeError, OSError):
            pass


def _setup(
    replicas: tuple[GatewayProcess, ...], role: str = "developer"
) -> tuple[str, Api, Api, str]:
    a_gw, b_gw = replicas
    name = _user(a_gw, role)
    a = login_as(a_gw, name)
    sid = a.open_session("demo")["id"]
    return name, a, _same_login(a, b_gw), sid


async def test_logout_closes_the_users_sockets_on_both_replicas(replicas: tuple) -> None:
    _, a, b, sid = _setup(replicas)
    async with _Open(a, b, sid) as sockets:
        assert a.http.post("/api/auth/logout").status_code == 204
        closes = await _all_closed(list(sockets), time.monotonic())
    assert all(code == CLOSE_REVOKED for code, _ in closes), closes
    assert all("logged out" in reason for _, reason in closes)


async def test_an_expired_login_closes_its_sockets(replicas: tuple) -> None:
    a_gw, _ = replicas
    _, a, b, sid = _setup(replicas)
    async with _Open(a, b, sid) as sockets:
        digest = hashlib.sha256((a.cookie or "").encode()).digest()
        with psycopg.connect(a_gw.database_url, autocommit=True) as conn:
            conn.execute(
                "UPDATE login_sessions SET expires_at = now() WHERE token_hash = %s", (digest,)
            )
        closes = await _all_closed(list(sockets), time.monotonic())
    assert all(code == CLOSE_REVOKED for code, _ in closes), closes


async def test_a_password_change_closes_the_other_logins_sockets_only(replicas: tuple) -> None:
    a_gw, b_gw = replicas
    name, a, b, sid = _setup(replicas)
    keeper = login_as(b_gw, name)  # the login that changes the password, on the other replica
    async with _Open(a, b, sid) as sockets, await keeper.rpc(sid) as kept:
        changed = keeper.http.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": "changed-pass-1"},
        )
        assert changed.status_code == 204
        closes = await _all_closed(list(sockets), time.monotonic())
        assert all(code == CLOSE_REVOKED for code, _ in closes), closes
        await asyncio.sleep(0.5)
        assert (await kept.call("session/status"))["role"] == "developer"  # still open


async def test_disabling_the_user_closes_their_sockets(replicas: tuple) -> None:
    a_gw, b_gw = replicas
    name, a, b, sid = _setup(replicas)
    admin = login_as(b_gw, "admin", ADMIN_PASSWORD)
    async with _Open(a, b, sid) as sockets:
        started = time.monotonic()
        # The request also stops the user's pod, which takes a while: watch the sockets
        # meanwhile.
        request = asyncio.ensure_future(
            asyncio.to_thread(admin.http.post, f"/api/admin/users/{name}/disable")
        )
        await _all_closed(list(sockets), started)
        assert (await request).status_code == 200
    assert "refused" in await _try_upgrade(a, sid)


async def test_disabling_in_sql_alone_closes_the_sockets(replicas: tuple) -> None:
    """No request announces this change: the sockets' own revalidation must see it."""
    a_gw, _ = replicas
    name, a, b, sid = _setup(replicas)
    async with _Open(a, b, sid) as sockets:
        with psycopg.connect(a_gw.database_url, autocommit=True) as conn:
            conn.execute("UPDATE users SET disabled = true WHERE username = %s", (name,))
        closes = await _all_closed(list(sockets), time.monotonic())
    assert all(code == CLOSE_REVOKED for code, _ in closes), closes


async def test_removal_from_the_project_closes_the_sockets(replicas: tuple) -> None:
    a_gw, _ = replicas
    name, a, b, sid = _setup(replicas)
    async with _Open(a, b, sid) as sockets:
        with psycopg.connect(a_gw.database_url, autocommit=True) as conn:
            conn.execute(  # as `member remove` does, without its pod stop
                "DELETE FROM project_members m USING users u"
                " WHERE u.id = m.user_id AND u.username = %s",
                (name,),
            )
        closes = await _all_closed(list(sockets), time.monotonic())
    assert all(code == CLOSE_REVOKED for code, _ in closes), closes
    assert all("removed" in reason for _, reason in closes)
    assert "refused" in await _try_upgrade(a, sid)


async def test_a_lowered_role_downgrades_open_sockets_on_both_replicas(
    replicas: tuple,
) -> None:
    a_gw, b_gw = replicas
    name, a, b, sid = _setup(replicas)
    admin = login_as(a_gw, "admin", ADMIN_PASSWORD)
    async with await a.rpc(sid) as ide_a, await b.rpc(sid) as ide_b:
        await ide_a.call("fs/write", {"path": "before.sql", "content": "select 1\n"})
        async with room(b, sid, "README.md") as (doc, _):
            original = (await ide_a.call("fs/read", {"path": "README.md"}))["content"]
            lowered = admin.http.put(
                f"/api/admin/projects/demo/members/{name}", json={"role": "read-only"}
            )
            assert lowered.status_code == 200
            started = time.monotonic()
            for rpc in (ide_a, ide_b):
                while True:
                    try:
                        await rpc.call("fs/write", {"path": "after.sql", "content": "x"})
                    except RpcFailure as failure:
                        assert failure.code == -32001
                        break
                    assert time.monotonic() - started < DEADLINE, "writes still accepted"
                    await asyncio.sleep(0.1)
            doc.get("source", type=Text).insert(0, "typed after the demotion\n")
            await asyncio.sleep(1.5)  # several save delays
            assert (await ide_b.call("fs/read", {"path": "README.md"}))["content"] == original
    volume = Path(a_gw.data_dir) / "volumes" / name / "demo"
    assert (volume / "README.md").read_text() == original


async def _try_upgrade(api: Api, sid: str) -> str:
    try:
        rpc = await api.rpc(sid)
    except websockets.InvalidStatus as exc:
        return f"refused {exc.response.status_code}"
    try:
        await rpc.call("session/status", timeout=5)
        return "open"
    except (ConnectionError, TimeoutError):
        return "refused after open"
    finally:
        await rpc.close()
