"""Pairing on a session: who may reach a shared session, and in which mode (REST, upgrades,
IDE socket frames, room frames, presence). One owner's session, shared with a guest in each
mode, a read-only member given ``edit``; a non-member; an admin; invite links."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import websockets
from pycrdt import Text

from tests.support.awareness import presence
from tests.support.client import Api, RpcFailure
from tests.support.gateway import ADMIN_PASSWORD, PASSWORD, GatewayProcess, login_as
from tests.support.ydoc import encode_save_request, eventually, room, room_text

FORBIDDEN = -32001


@dataclass
class Pair:
    gw: GatewayProcess
    sid: str
    owner: Api
    names: dict[str, str]  # key: username
    apis: dict[str, Api]

    def name(self, key: str) -> str:
        return self.names[key]


def _user(gw: GatewayProcess, role: str | None) -> str:
    name = f"p{secrets.token_hex(4)}"
    gw.cli("user", "add", name, "--password", PASSWORD)
    if role is not None:
        gw.cli("member", "add", "demo", name, role)
    return name


@pytest.fixture(scope="module")
def pair(gateway: GatewayProcess) -> Pair:
    roles = {
        "owner": "developer",
        "view": "developer",
        "edit": "developer",
        "full": "developer",
        "readonly": "read-only",
        "member": "developer",
        "outsider": None,
    }
    names = {key: _user(gateway, role) for key, role in roles.items()}
    apis = {key: login_as(gateway, name) for key, name in names.items()}
    owner = apis["owner"]
    sid = owner.open_session("demo")["id"]
    for key, mode in (("view", "view"), ("edit", "edit"), ("full", "full"), ("readonly", "edit")):
        answer = owner.http.post(
            f"/api/sessions/{sid}/shares", json={"user": names[key], "mode": mode}
        )
        assert answer.status_code == 201, answer.text
    return Pair(gateway, sid, owner, names, apis)


def _last_activity(gw: GatewayProcess, sid: str) -> Any:
    with psycopg.connect(gw.database_url, autocommit=True) as conn:
        row = conn.execute("SELECT last_activity FROM sessions WHERE id = %s", (sid,)).fetchone()
    assert row is not None
    return row[0]


async def test_a_guests_traffic_is_activity_of_the_owners_session(pair: Pair) -> None:
    with psycopg.connect(pair.gw.database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE sessions SET last_activity = now() - interval '2 hours' WHERE id = %s",
            (pair.sid,),
        )
    before = _last_activity(pair.gw, pair.sid)
    async with await pair.apis["view"].rpc(pair.sid) as guest:
        await guest.call("fs/list", {"path": ""})
        deadline = time.monotonic() + 40  # the buffer writes a session at most every 30 s
        while _last_activity(pair.gw, pair.sid) == before:
            assert time.monotonic() < deadline, "the guest's traffic was not recorded"
            await guest.call("fs/read", {"path": "README.md"})
            await asyncio.sleep(0.5)


def test_a_share_is_answered_and_listed_with_its_effective_mode(pair: Pair) -> None:
    shares = pair.owner.http.get(f"/api/sessions/{pair.sid}/shares")
    assert shares.status_code == 200
    by_user = {s["user"]: s for s in shares.json()["shares"]}
    assert set(by_user) == {pair.name(k) for k in ("view", "edit", "full", "readonly")}
    ro = by_user[pair.name("readonly")]
    assert ro["mode"] == "edit" and ro["effective_mode"] == "view"
    full = by_user[pair.name("full")]
    assert full["effective_mode"] == "full" and full["session_id"] == pair.sid
    assert set(full) == {"session_id", "user", "mode", "effective_mode", "expires_at", "created_at"}
    hours = (
        time.mktime(time.strptime(full["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
        - time.mktime(time.strptime(full["created_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    ) / 3600
    assert 7.9 < hours < 8.1  # IDE_SHARE_EXPIRY's default


def test_the_owner_sees_whom_the_session_could_be_shared_with(pair: Pair) -> None:
    members = pair.owner.http.get(f"/api/sessions/{pair.sid}/members")
    assert members.status_code == 200
    by_name = {m["username"]: m["role"] for m in members.json()["members"]}
    assert (
        by_name[pair.name("readonly")] == "read-only" and by_name[pair.name("view")] == "developer"
    )
    assert pair.name("owner") not in by_name and pair.name("outsider") not in by_name
    assert pair.apis["edit"].http.get(f"/api/sessions/{pair.sid}/members").status_code == 403
    assert pair.apis["outsider"].http.get(f"/api/sessions/{pair.sid}/members").status_code == 404


def test_shared_with_me_lists_the_owners_session(pair: Pair) -> None:
    listed = pair.apis["edit"].http.get("/api/shared-with-me").json()["sessions"]
    assert listed == [
        {
            "session_id": pair.sid,
            "owner": pair.name("owner"),
            "owner_display_name": pair.name("owner"),
            "project": "demo",
            "mode": "edit",
            "state": "ready",
            "expires_at": listed[0]["expires_at"],
        }
    ]
    assert pair.apis["readonly"].http.get("/api/shared-with-me").json()["sessions"][0]["mode"] == (
        "view"
    )
    assert pair.apis["outsider"].http.get("/api/shared-with-me").json() == {"sessions": []}
    assert pair.owner.http.get("/api/shared-with-me").json() == {"sessions": []}


def test_the_session_answer_says_who_the_caller_is_in_it(pair: Pair) -> None:
    own = pair.owner.http.get(f"/api/sessions/{pair.sid}").json()
    assert (own["role"], own["mode"], own["owner"]) == ("owner", "full", pair.name("owner"))
    for key, mode in (("view", "view"), ("edit", "edit"), ("full", "full"), ("readonly", "view")):
        seen = pair.apis[key].http.get(f"/api/sessions/{pair.sid}")
        assert seen.status_code == 200
        body = seen.json()
        assert (body["role"], body["mode"], body["owner"]) == ("guest", mode, pair.name("owner"))
        assert pair.apis[key].http.get(f"/api/sessions/{pair.sid}/events").status_code == 200


def test_guests_cannot_reshare_list_or_stop(pair: Pair) -> None:
    for key in ("view", "edit", "full"):
        api = pair.apis[key]
        base = f"/api/sessions/{pair.sid}"
        reshare = api.http.post(
            f"{base}/shares", json={"user": pair.name("member"), "mode": "view"}
        )
        assert reshare.status_code == 403, reshare.text
        assert api.http.post(f"{base}/invites", json={"mode": "view"}).status_code == 403
        assert api.http.get(f"{base}/shares").status_code == 403
        assert api.http.delete(f"{base}/shares/{pair.name('view')}").status_code == 403
        assert api.http.delete(base).status_code == 403
    assert pair.owner.http.get(f"/api/sessions/{pair.sid}").json()["state"] == "ready"


def test_anyone_else_gets_404(pair: Pair) -> None:
    base = f"/api/sessions/{pair.sid}"
    for key in ("outsider", "member"):
        api = pair.apis[key]
        assert api.http.get(base).status_code == 404
        assert api.http.get(f"{base}/shares").status_code == 404
        assert (
            api.http.post(f"{base}/shares", json={"user": key, "mode": "view"}).status_code == 404
        )
        assert api.http.post(f"{base}/invites", json={"mode": "view"}).status_code == 404
        put = api.http.put(
            f"/sessions/{pair.sid}/api/collaboration/session/README.md",
            json={"format": "text", "type": "file"},
        )
        assert put.status_code == 404


def test_only_members_can_be_shared_with_and_modes_are_checked(pair: Pair) -> None:
    base = f"/api/sessions/{pair.sid}/shares"
    outsider = pair.owner.http.post(base, json={"user": pair.name("outsider"), "mode": "view"})
    assert outsider.status_code == 404
    nobody = pair.owner.http.post(base, json={"user": "no-such-user", "mode": "view"})
    assert nobody.status_code == 404 and nobody.json() == {
        **outsider.json(),
        "error": {**outsider.json()["error"], "message": nobody.json()["error"]["message"]},
    }
    assert (
        pair.owner.http.post(base, json={"user": pair.name("member"), "mode": "root"}).status_code
        == 400
    )
    assert (
        pair.owner.http.post(base, json={"user": pair.name("owner"), "mode": "view"}).status_code
        == 400
    )


def test_an_admin_reaches_the_session_but_does_not_share_it(pair: Pair) -> None:
    admin = login_as(pair.gw, "admin", ADMIN_PASSWORD)
    base = f"/api/sessions/{pair.sid}"
    seen = admin.http.get(base)
    assert seen.status_code == 200 and (seen.json()["role"], seen.json()["mode"]) == (
        "guest",
        "full",
    )
    assert admin.http.get(f"{base}/shares").status_code == 200
    refused = admin.http.post(f"{base}/shares", json={"user": pair.name("member"), "mode": "full"})
    assert refused.status_code == 403


async def _upgrade(api: Api, sid: str) -> str:
    try:
        async with await api.rpc(sid) as rpc:
            await rpc.call("session/status", timeout=10)
            return "open"
    except websockets.InvalidStatus as exc:
        return f"refused {exc.response.status_code}"


async def test_upgrades_follow_the_shares(pair: Pair) -> None:
    for key in ("owner", "view", "edit", "full", "readonly"):
        assert await _upgrade(pair.apis[key], pair.sid) == "open", key
    for key in ("outsider", "member"):
        assert (await _upgrade(pair.apis[key], pair.sid)).startswith("refused"), key
    admin = login_as(pair.gw, "admin", ADMIN_PASSWORD)
    assert await _upgrade(admin, pair.sid) == "open"
    async with await admin.rpc(pair.sid) as rpc:
        assert (await rpc.call("session/status"))["role"] == "admin"


async def _outcome(api: Api, sid: str, method: str, params: dict[str, Any]) -> str:
    async with await api.rpc(sid) as rpc:
        try:
            await rpc.call(method, params)
        except RpcFailure as failure:
            return "forbidden" if failure.code == FORBIDDEN else "ok"  # refused by the pod
        return "ok"


# What each mode may call on the IDE socket: a read, a file write, git, a preview, dbt.
_CALLS: list[tuple[str, dict[str, Any], tuple[str, str, str]]] = [
    ("fs/read", {"path": "README.md"}, ("ok", "ok", "ok")),
    ("git/status", {}, ("ok", "ok", "ok")),
    ("fs/write", {"path": "guest.sql", "content": "select 1\n"}, ("forbidden", "ok", "ok")),
    ("fs/mkdir", {"path": f"d{uuid.uuid4().hex[:6]}"}, ("forbidden", "ok", "ok")),
    ("git/stage", {"paths": ["guest.sql"]}, ("forbidden", "forbidden", "ok")),
    ("git/fetch", {}, ("forbidden", "forbidden", "ok")),
    (
        "query/preview",
        {"sql": "select 1 as x", "limit": 5, "query_id": "q1"},
        ("forbidden", "forbidden", "ok"),
    ),
    (
        "dbt/compile",
        {"path": "models/x.sql", "content": "select 1"},
        ("forbidden", "forbidden", "ok"),
    ),
    (
        "dbt/run",
        {"command": "no-such-command", "invocation_id": "i1"},
        ("forbidden", "forbidden", "ok"),
    ),
]


@pytest.mark.parametrize(("method", "params", "expected"), _CALLS, ids=[c[0] for c in _CALLS])
async def test_each_mode_calls_what_it_may_on_the_ide_socket(
    pair: Pair, method: str, params: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    if method == "dbt/run":
        params = {**params, "invocation_id": uuid.uuid4().hex}
    if method == "query/preview":
        params = {**params, "query_id": uuid.uuid4().hex}
    got = tuple(
        [await _outcome(pair.apis[k], pair.sid, method, params) for k in ("view", "edit", "full")]
    )
    assert got == expected
    assert await _outcome(pair.apis["readonly"], pair.sid, method, params) == expected[0]


async def test_the_pod_learns_who_the_guest_is_and_in_which_role(pair: Pair) -> None:
    for key, role in (("view", "read-only"), ("edit", "developer"), ("readonly", "read-only")):
        async with await pair.apis[key].rpc(pair.sid) as rpc:
            status = await rpc.call("session/status")
        assert (status["user"], status["role"]) == (pair.name(key), role)


async def test_a_view_guests_room_frames_only_read(pair: Pair) -> None:
    path = "models/shared_view.sql"
    async with await pair.owner.rpc(pair.sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": "select 1\n"})
    async with room(pair.owner, pair.sid, path) as (owner_doc, _):
        async with room(pair.apis["view"], pair.sid, path) as (guest_doc, channel):
            assert room_text(guest_doc) == "select 1\n"  # reading works
            guest_doc.get("source", type=Text).insert(0, "-- from a viewer\n")
            await channel.send(encode_save_request(7))
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(channel.raw_replies.get(), 2)
            assert room_text(owner_doc) == "select 1\n"
        async with room(pair.apis["edit"], pair.sid, path) as (guest_doc, _):
            guest_doc.get("source", type=Text).insert(0, "-- from an editor\n")
            await eventually(lambda: room_text(owner_doc).startswith("-- from an editor\n"))


async def test_presence_carries_the_logins_name_whatever_the_client_claims(pair: Pair) -> None:
    owner_name = pair.name("owner")
    guest_name = pair.name("edit")
    forged = {"user": {"name": owner_name, "username": owner_name, "color": "#000000"}}
    async with presence(pair.owner, pair.sid, "README.md") as watcher:
        async with presence(pair.apis["edit"], pair.sid, "README.md") as guest:
            await guest.send((4242, 1, {**forged, "cursor": {"anchor": 3}}))
            state = await watcher.state_of(4242)
            assert state["user"]["username"] == guest_name
            assert state["user"]["name"] == guest_name
            assert state["user"]["color"] != "#000000"
            assert state["cursor"] == {"anchor": 3}  # the rest of the state is the client's
            # Speaking for another client (the owner's, say) is not relayed at all.
            await guest.send((777, 5, forged), (4242, 2, {"user": {"name": "x"}}))
            entries = await watcher.relayed(1.5)
            assert 777 not in [client for client, _, _ in entries]
            assert [s["user"]["username"] for c, _, s in entries if c == 4242] == [guest_name]
            # Malformed presence is dropped, not relayed.
            await guest.ws.send(b"\x01\x05\x01\x02")
            await guest.send((4242, 3, "not an object"))
            assert [c for c, _, _ in await watcher.relayed(1.5) if c == 4242] == []
        # A viewer has presence too, under their own name.
        async with presence(pair.apis["view"], pair.sid, "README.md") as viewer:
            await viewer.send((5151, 1, forged))
            assert (await watcher.state_of(5151))["user"]["username"] == pair.name("view")


async def test_a_participant_who_leaves_or_is_revoked_leaves_everyone_s_presence(
    pair: Pair,
) -> None:
    """However a socket ends (closed by its client, or by a revoked share), the room hears
    that its participant left, at once, instead of showing them until awareness times out."""
    async with presence(pair.owner, pair.sid, "README.md") as watcher:
        async with presence(pair.apis["edit"], pair.sid, "README.md") as guest:
            await guest.send((6161, 4, {"cursor": {"anchor": 1}}))
            assert (await watcher.state_of(6161))["user"]["username"] == pair.name("edit")
        assert await watcher.state_of(6161, timeout=5) is None
        name, api = _new_member(pair)
        base = f"/api/sessions/{pair.sid}"
        made = pair.owner.http.post(f"{base}/shares", json={"user": name, "mode": "edit"})
        assert made.status_code == 201, made.text
        async with presence(api, pair.sid, "README.md") as revoked:
            await revoked.send((6262, 1, {"cursor": {"anchor": 2}}))
            assert (await watcher.state_of(6262))["user"]["username"] == name
            assert pair.owner.http.delete(f"{base}/shares/{name}").status_code == 204
            assert await watcher.state_of(6262, timeout=5) is None


async def _accept(api: Api, code: str) -> Any:
    return api.http.post(f"/api/invites/{code}/accept")


def _new_member(pair: Pair, role: str = "developer") -> tuple[str, Api]:
    name = _user(pair.gw, role)
    return name, login_as(pair.gw, name)


async def test_an_invite_is_accepted_once_by_a_member(pair: Pair) -> None:
    made = pair.owner.http.post(f"/api/sessions/{pair.sid}/invites", json={"mode": "view"})
    assert made.status_code == 201, made.text
    body = made.json()
    code = body["code"]
    assert len(code) >= 43 and body["url"].endswith(f"#/invite/{code}")  # 256 random bits
    with psycopg.connect(pair.gw.database_url, autocommit=True) as conn:
        stored = conn.execute("SELECT code_hash FROM session_invites").fetchall()
    assert (hashlib.sha256(code.encode()).digest(),) in stored
    assert all(code.encode() not in bytes(row[0]) for row in stored)
    # A non-member cannot use it, and their attempt does not use it up.
    assert (await _accept(pair.apis["outsider"], code)).status_code == 404
    name, member = _new_member(pair)
    accepted = await _accept(member, code)
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["session_id"], accepted.json()["mode"]) == (pair.sid, "view")
    assert member.http.get(f"/api/sessions/{pair.sid}").json()["mode"] == "view"
    # Used: nobody else gets in with it, not even the same person again.
    _, another = _new_member(pair)
    assert (await _accept(another, code)).status_code == 404
    assert another.http.get(f"/api/sessions/{pair.sid}").status_code == 404
    assert (await _accept(member, code)).status_code == 404
    listed = pair.owner.http.get(f"/api/sessions/{pair.sid}/shares").json()["shares"]
    assert name in [s["user"] for s in listed]


async def test_guessed_and_expired_codes_are_refused(pair: Pair) -> None:
    _, member = _new_member(pair)
    for guess in (secrets.token_urlsafe(32), "x", "A" * 43):
        refused = await _accept(member, guess)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "invite_not_found"
    made = pair.owner.http.post(
        f"/api/sessions/{pair.sid}/invites", json={"mode": "edit", "expires_in": 60}
    ).json()
    with psycopg.connect(pair.gw.database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE session_invites SET expires_at = now() WHERE code_hash = %s",
            (hashlib.sha256(made["code"].encode()).digest(),),
        )
    assert (await _accept(member, made["code"])).status_code == 404
    too_long = pair.owner.http.post(
        f"/api/sessions/{pair.sid}/invites", json={"mode": "edit", "expires_in": 10**7}
    )
    assert too_long.status_code == 400


def test_an_expired_share_is_gone(pair: Pair) -> None:
    name, member = _new_member(pair)
    base = f"/api/sessions/{pair.sid}"
    assert (
        pair.owner.http.post(f"{base}/shares", json={"user": name, "mode": "edit"}).status_code
        == 201
    )
    assert member.http.get(base).status_code == 200
    with psycopg.connect(pair.gw.database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE session_shares s SET expires_at = now() FROM users u"
            " WHERE u.id = s.guest_id AND u.username = %s",
            (name,),
        )
    assert member.http.get(base).status_code == 404
    assert member.http.get("/api/shared-with-me").json() == {"sessions": []}
    assert name not in [s["user"] for s in pair.owner.http.get(f"{base}/shares").json()["shares"]]


def test_a_revoked_share_is_gone(pair: Pair) -> None:
    name, member = _new_member(pair)
    base = f"/api/sessions/{pair.sid}"
    assert (
        pair.owner.http.post(f"{base}/shares", json={"user": name, "mode": "view"}).status_code
        == 201
    )
    assert pair.owner.http.delete(f"{base}/shares/{name}").status_code == 204
    assert member.http.get(base).status_code == 404
    assert pair.owner.http.delete(f"{base}/shares/{name}").status_code == 404


def test_shares_outlive_the_pod(pair: Pair) -> None:
    """Last: it stops the owner's session. The next session of (owner, demo) is shared too."""
    assert pair.owner.http.delete(f"/api/sessions/{pair.sid}").status_code == 200
    guest = pair.apis["edit"]
    assert guest.http.get("/api/shared-with-me").json()["sessions"][0]["state"] in (
        "stopping",
        "stopped",
    )
    renewed = pair.owner.open_session("demo")["id"]
    assert renewed != pair.sid
    listed = guest.http.get("/api/shared-with-me").json()["sessions"]
    assert [(s["session_id"], s["mode"], s["state"]) for s in listed] == [
        (renewed, "edit", "ready")
    ]
    assert guest.http.get(f"/api/sessions/{renewed}").json()["role"] == "guest"
