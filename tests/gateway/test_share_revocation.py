"""A guest's access ends at once: revoking the share, its expiry, the guest's removal from
the project, their demotion, their logout or disablement close the guest's sockets to the
session (or, for a lower mode, close them with 4403 so that they reconnect in it) within
1 s on both of two gateway replicas, while the owner's sockets stay open."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.support.client import Api, Rpc, RpcFailure
from tests.support.gateway import ADMIN_PASSWORD, PASSWORD, GatewayProcess, login_as, two_replicas
from tests.support.ydoc import room

DEADLINE = 1.0
CLOSE_REVOKED, CLOSE_CHANGED = 4401, 4403


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, ...]]:
    with two_replicas(tmp_path_factory.mktemp("share-replicas")) as gateways:
        yield gateways


@dataclass
class Owner:
    name: str
    api: Api
    sid: str


@pytest.fixture(scope="module")
def owner(replicas: tuple[GatewayProcess, ...]) -> Owner:
    name = _user(replicas[0])
    api = login_as(replicas[0], name)
    return Owner(name, api, api.open_session("demo")["id"])


def _user(gw: GatewayProcess, role: str = "developer") -> str:
    name = f"s{secrets.token_hex(4)}"
    gw.cli("user", "add", name, "--password", PASSWORD)
    gw.cli("member", "add", "demo", name, role)
    return name


def _twin(api: Api, other: GatewayProcess) -> Api:
    twin = Api(other.url)
    twin.http.cookies.set("ide_session", api.cookie or "")
    return twin


def _guest(replicas: tuple[GatewayProcess, ...], owner: Owner, mode: str) -> tuple[str, Api, Api]:
    """A new member the owner shares with; their client on each replica (one login)."""
    name = _user(replicas[0])
    shared = owner.api.http.post(
        f"/api/sessions/{owner.sid}/shares", json={"user": name, "mode": mode}
    )
    assert shared.status_code == 201, shared.text
    api = login_as(replicas[0], name)
    return name, api, _twin(api, replicas[1])


class _GuestSockets:
    """The guest's IDE socket on both replicas and a room on the second, and the owner's
    IDE socket on the second, which must outlive every change to the guest."""

    def __init__(self, a: Api, b: Api, owner: Owner, owner_b: Api) -> None:
        self.a, self.b, self.owner, self.owner_b = a, b, owner, owner_b

    async def __aenter__(self) -> list[ClientConnection]:
        sid = self.owner.sid
        self.rpcs: list[Rpc] = [await self.a.rpc(sid), await self.b.rpc(sid)]
        self.owner_rpc = await self.owner_b.rpc(sid)
        for rpc in (*self.rpcs, self.owner_rpc):
            await rpc.call("session/status")
        self._room = room(self.b, sid, "README.md")
        _doc, channel = await self._room.__aenter__()
        return [rpc.ws for rpc in self.rpcs] + [channel.ws]

    async def owner_still_works(self) -> None:
        assert (await self.owner_rpc.call("session/status"))["user"] == self.owner.name

    async def __aexit__(self, *exc: object) -> None:
        for rpc in (*self.rpcs, self.owner_rpc):
            await rpc.close()
        try:
            await self._room.__aexit__(None, None, None)
        except (websockets.ConnectionClosed, RuntimeError, OSError):
            pass


async def _closed(sockets: list[ClientConnection], started: float) -> list[tuple[int, str]]:
    async def one(ws: ClientConnection) -> tuple[int, str]:
        await asyncio.wait_for(ws.wait_closed(), DEADLINE + 5)
        return ws.close_code or 0, ws.close_reason or ""

    closes = await asyncio.gather(*(one(s) for s in sockets))
    elapsed = time.monotonic() - started
    assert elapsed < DEADLINE, f"the guest's sockets stayed open {elapsed:.2f}s"
    return list(closes)


async def _refused(api: Api, sid: str) -> bool:
    try:
        async with await api.rpc(sid) as rpc:
            await rpc.call("session/status", timeout=5)
    except websockets.InvalidStatus:
        return True
    except (ConnectionError, TimeoutError):
        return True
    return False


def _sql(gw: GatewayProcess, statement: str, *params: object) -> None:
    with psycopg.connect(gw.database_url, autocommit=True) as conn:
        conn.execute(statement, params)


TakeAway = Callable[[str, Api, Api], Awaitable[object] | object]


async def _ends(
    replicas: tuple[GatewayProcess, ...], owner: Owner, mode: str, take_away: TakeAway
) -> tuple[str, Api, list[tuple[int, str]]]:
    """Open the guest's sockets, take their access away, and return how they closed."""
    name, a, b = _guest(replicas, owner, mode)
    opened = _GuestSockets(a, b, owner, _twin(owner.api, replicas[1]))
    async with opened as sockets:
        started = time.monotonic()
        result = take_away(name, a, b)
        if asyncio.iscoroutine(result):
            await result
        closes = await _closed(sockets, started)
        await asyncio.sleep(0.3)
        await opened.owner_still_works()
    return name, a, closes


async def test_revoking_the_share_closes_the_guests_sockets(replicas: tuple, owner: Owner) -> None:
    def revoke(name: str, a: Api, b: Api) -> None:
        path = f"/api/sessions/{owner.sid}/shares/{name}"
        assert owner.api.http.delete(path).status_code == 204

    _, guest, closes = await _ends(replicas, owner, "edit", revoke)
    assert all(code == CLOSE_REVOKED for code, _ in closes), closes
    assert all("removed" in reason for _, reason in closes), closes
    assert await _refused(guest, owner.sid)


async def test_the_shares_expiry_closes_the_guests_sockets(replicas: tuple, owner: Owner) -> None:
    """No request announces an expiry: the revalidation alone must see it."""

    def expire(name: str, a: Api, b: Api) -> None:
        _sql(
            replicas[0],
            "UPDATE session_shares s SET expires_at = now() FROM users u"
            " WHERE u.id = s.guest_id AND u.username = %s",
            name,
        )

    _, guest, closes = await _ends(replicas, owner, "view", expire)
    assert all(code == CLOSE_REVOKED for code, _ in closes), closes
    assert await _refused(guest, owner.sid)


async def test_removal_from_the_project_closes_the_guests_sockets(
    replicas: tuple, owner: Owner
) -> None:
    def remove(name: str, a: Api, b: Api) -> None:
        _sql(
            replicas[0],
            "DELETE FROM project_members m USING users u WHERE u.id = m.user_id"
            " AND u.username = %s",
            name,
        )

    name, guest, closes = await _ends(replicas, owner, "full", remove)
    assert all(code == CLOSE_REVOKED for code, _ in closes), closes
    assert await _refused(guest, owner.sid)
    # Leaving ended the share: coming back to the project does not revive it.
    replicas[0].cli("member", "add", "demo", name, "developer")
    assert guest.http.get(f"/api/sessions/{owner.sid}").status_code == 404
    assert guest.http.get("/api/shared-with-me").json() == {"sessions": []}


async def test_the_guests_logout_closes_their_sockets(replicas: tuple, owner: Owner) -> None:
    def logout(name: str, a: Api, b: Api) -> None:
        assert b.http.post("/api/auth/logout").status_code == 204  # on the other replica

    _, guest, closes = await _ends(replicas, owner, "edit", logout)
    assert all(code == CLOSE_REVOKED and "logged out" in r for code, r in closes), closes


async def test_disabling_the_guest_closes_their_sockets(replicas: tuple, owner: Owner) -> None:
    def disable(name: str, a: Api, b: Api) -> None:
        _sql(replicas[0], "UPDATE users SET disabled = true WHERE username = %s", name)

    _, guest, closes = await _ends(replicas, owner, "edit", disable)
    assert all(code == CLOSE_REVOKED for code, _ in closes), closes


async def test_demotion_closes_with_4403_and_the_guest_comes_back_in_view(
    replicas: tuple, owner: Owner
) -> None:
    admin = login_as(replicas[1], "admin", ADMIN_PASSWORD)

    def demote(name: str, a: Api, b: Api) -> None:
        lowered = admin.http.put(
            f"/api/admin/projects/demo/members/{name}", json={"role": "read-only"}
        )
        assert lowered.status_code == 200, lowered.text

    _, guest, closes = await _ends(replicas, owner, "edit", demote)
    assert all(code == CLOSE_CHANGED and "view" in r for code, r in closes), closes
    assert guest.http.get(f"/api/sessions/{owner.sid}").json()["mode"] == "view"
    async with await guest.rpc(owner.sid) as rpc:
        assert (await rpc.call("session/status"))["role"] == "read-only"
        with pytest.raises(RpcFailure) as refused:
            await rpc.call("fs/write", {"path": "demoted.sql", "content": "x"})
        assert refused.value.code == -32001


async def test_a_lower_share_mode_closes_with_4403(replicas: tuple, owner: Owner) -> None:
    def lower(name: str, a: Api, b: Api) -> None:
        again = owner.api.http.post(
            f"/api/sessions/{owner.sid}/shares", json={"user": name, "mode": "view"}
        )
        assert again.status_code == 201 and again.json()["mode"] == "view"

    _, guest, closes = await _ends(replicas, owner, "full", lower)
    assert all(code == CLOSE_CHANGED for code, _ in closes), closes
    assert guest.http.get(f"/api/sessions/{owner.sid}").json()["mode"] == "view"


async def test_a_raised_share_mode_closes_with_4403_and_the_guest_comes_back_able_to_edit(
    replicas: tuple, owner: Owner
) -> None:
    def raise_(name: str, a: Api, b: Api) -> None:
        again = owner.api.http.post(
            f"/api/sessions/{owner.sid}/shares", json={"user": name, "mode": "edit"}
        )
        assert again.status_code == 201 and again.json()["mode"] == "edit"

    _, guest, closes = await _ends(replicas, owner, "view", raise_)
    assert all(code == CLOSE_CHANGED and "edit" in r for code, r in closes), closes
    assert guest.http.get(f"/api/sessions/{owner.sid}").json()["mode"] == "edit"
