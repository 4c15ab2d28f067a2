"""What the session proxy lets through, rule by rule (the HTTP-level attacks are in
test_rbac.py and test_proxy.py)."""

from __future__ import annotations

import json

import pytest

from ide_server.gateway.proxy import read_body
from ide_server.gateway.proxy_filters import (
    allowed_route,
    counts_as_activity,
    pod_path,
    refuse_frame,
    refuse_http_for_read_only,
    request_headers,
    response_headers,
)
from tests.gateway.asgi import http_scope

WRITES = frozenset({"fs/write", "git/commit"})
ROOM = "/api/collaboration/room/json:file:abc"
SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, AWARENESS = (
    b"\x00\x00\x01",
    b"\x00\x01\x01",
    b"\x00\x02\x01",
    b"\x01\x05",
)


# -- routes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("rest", ["/ide", "/api/collaboration/session/models%2Fa.sql", f"{ROOM}"])
def test_the_ide_socket_and_the_rooms_are_reachable(rest: str) -> None:
    assert allowed_route(rest)


@pytest.mark.parametrize(
    "rest",
    [
        "/",
        "/api/contents/models/a.sql",
        "/api/kernels",
        "/api/terminals",
        "/ide/../api/kernels",
        "/api/collaboration/room/../../contents/x",
        "/api/collaboration/room/./x",
        "/idex",
        "/api/collaboration/room/",
    ],
)
def test_the_rest_of_the_jupyter_server_is_not(rest: str) -> None:
    assert not allowed_route(rest)


def test_the_pod_gets_the_raw_path_and_query_unchanged() -> None:
    scope = http_scope("/sessions/s/api/collaboration/session/a%2Fb.sql")
    scope["query_string"] = b"x=1&y=%20"
    assert pod_path(scope) == "/sessions/s/api/collaboration/session/a%2Fb.sql?x=1&y=%20"


# -- headers --------------------------------------------------------------------------------
def test_credentials_and_claimed_identities_never_reach_the_pod() -> None:
    incoming = [
        ("Cookie", "ide_session=secret"),
        ("Authorization", "token stolen"),
        ("X-IDE-User", "admin"),
        ("x-ide-role", "admin"),
        ("X-Forwarded-For", "10.0.0.1"),
        ("Forwarded", "for=10.0.0.1"),
        ("Host", "ide.example"),
        ("Origin", "http://ide.example"),
        ("Sec-WebSocket-Key", "abc"),
        ("Accept", "application/json"),
    ]
    out = request_headers(incoming, token="pod-token", user="carol", role="read-only")
    assert out == {
        "Accept": "application/json",
        "authorization": "token pod-token",
        "x-ide-user": "carol",
        "x-ide-role": "read-only",
    }


def test_the_pod_cannot_set_cookies_on_the_gateway() -> None:
    pod = [
        ("Set-Cookie", "ide_session=planted"),
        ("Content-Type", "application/json"),
        ("Content-Encoding", "gzip"),  # httpx has decoded the body already
        ("Content-Length", "999"),
        ("Connection", "keep-alive"),
    ]
    assert response_headers(pod, 12) == [
        (b"Content-Type", b"application/json"),
        (b"content-length", b"12"),
    ]


# -- read-only members over HTTP ------------------------------------------------------------
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_read_only_member_cannot_write_over_http(method: str) -> None:
    assert refuse_http_for_read_only(ROOM, "read-only", method)
    assert refuse_http_for_read_only("/ide", "read-only", method)
    assert not refuse_http_for_read_only("/ide", "developer", method)


def test_a_read_only_member_may_read_and_join_a_room() -> None:
    for method in ("GET", "HEAD", "OPTIONS"):
        assert not refuse_http_for_read_only("/ide", "read-only", method)
    assert not refuse_http_for_read_only("/api/collaboration/session/a.sql", "read-only", "PUT")


# -- read-only members on the sockets -------------------------------------------------------
@pytest.mark.parametrize("frame", [SYNC_STEP2, SYNC_UPDATE])
def test_document_changes_of_a_read_only_member_are_dropped(frame: bytes) -> None:
    assert refuse_frame(ROOM, "read-only", frame, WRITES) == ""
    assert refuse_frame(ROOM, "developer", frame, WRITES) is None


@pytest.mark.parametrize("frame", [SYNC_STEP1, AWARENESS])
def test_a_read_only_member_still_syncs_and_shows_presence(frame: bytes) -> None:
    assert refuse_frame(ROOM, "read-only", frame, WRITES) is None


@pytest.mark.parametrize("frame", [b"\x00", b"", "text", b"\x02save", b"\x09"])
def test_anything_else_of_a_read_only_member_in_a_room_is_dropped(frame: bytes | str) -> None:
    # Truncated or unknown messages and raw saves: only what is known to read passes.
    assert refuse_frame(ROOM, "read-only", frame, WRITES) == ""
    assert refuse_frame(ROOM, "developer", frame, WRITES) is None


def test_a_write_method_of_a_read_only_member_gets_a_json_rpc_error() -> None:
    frame = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "fs/write", "params": {}})
    answer = refuse_frame("/ide", "read-only", frame, WRITES)
    assert answer is not None
    error = json.loads(answer)
    assert error["id"] == 7 and error["error"]["code"] == -32001
    assert "fs/write" in error["error"]["message"]
    # Bytes frames are read the same way: the encoding is no way around the check.
    assert refuse_frame("/ide", "read-only", frame.encode(), WRITES) == answer


def test_a_write_notification_of_a_read_only_member_is_dropped_silently() -> None:
    frame = json.dumps({"jsonrpc": "2.0", "method": "git/commit", "params": {}})
    assert refuse_frame("/ide", "read-only", frame, WRITES) == ""


@pytest.mark.parametrize(
    "frame",
    [
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "fs/read"}),
        "not json",
        "[1, 2]",
        json.dumps({"id": 1, "method": 5}),
        "[" * 100_000,  # deep nesting: no crash, the pod judges it
    ],
)
def test_anything_else_goes_to_the_pod_which_checks_every_method_again(frame: str) -> None:
    assert refuse_frame("/ide", "read-only", frame, WRITES) is None


# -- activity -------------------------------------------------------------------------------
def test_heartbeats_and_awareness_are_no_activity() -> None:
    assert not counts_as_activity("/ide", json.dumps({"method": "session/heartbeat"}))
    assert not counts_as_activity(ROOM, AWARENESS)


def test_edits_and_requests_are_activity() -> None:
    assert counts_as_activity(ROOM, SYNC_UPDATE)
    assert counts_as_activity("/ide", json.dumps({"id": 1, "method": "fs/read"}))
    # A large frame is work whatever it says (and is not parsed for the answer).
    assert counts_as_activity("/ide", json.dumps({"method": "session/heartbeat", "x": "y" * 600}))


# -- the request body -----------------------------------------------------------------------
async def _body(chunks: list[bytes], limit: int) -> tuple[bytes | None, int]:
    """The body read, and how many chunks were left unread."""
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> dict:
        return messages.pop(0)

    return await read_body(receive, limit), len(messages)


async def test_a_body_in_chunks_is_read_whole() -> None:
    assert await _body([b"ab", b"", b"cd"], 4) == (b"abcd", 0)


async def test_a_body_over_the_limit_is_refused_as_soon_as_it_passes_it() -> None:
    # The third chunk is never asked for: the limit stops the reading, not the memory.
    assert await _body([b"abc", b"de", b"never read"], 4) == (None, 1)


GUEST_MODES = {"fs/read": "view", "fs/write": "edit", "git/commit": "full"}


def _call(method: str) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": 3, "method": method, "params": {}})


@pytest.mark.parametrize(
    ("mode", "allowed"),
    [("edit", {"fs/read", "fs/write"}), ("full", {"fs/read", "fs/write", "git/commit", "x/new"})],
)
def test_a_guest_calls_only_what_their_mode_allows(mode: str, allowed: set[str]) -> None:
    for method in ("fs/read", "fs/write", "git/commit", "x/new"):
        answer = refuse_frame("/ide", "developer", _call(method), WRITES, mode, GUEST_MODES)
        if method in allowed:
            assert answer is None, method
        else:
            assert answer is not None and json.loads(answer)["error"]["code"] == -32001
            assert json.loads(answer)["id"] == 3 and mode in json.loads(answer)["error"]["message"]


def test_a_view_guest_reads_only_and_a_guests_room_edits_follow_the_role() -> None:
    answer = refuse_frame("/ide", "read-only", _call("fs/write"), WRITES, "view", GUEST_MODES)
    assert answer is not None and json.loads(answer)["error"]["code"] == -32001
    assert refuse_frame("/ide", "read-only", _call("fs/read"), WRITES, "view", GUEST_MODES) is None
    assert refuse_frame(ROOM, "read-only", SYNC_UPDATE, WRITES, "view", GUEST_MODES) == ""
    assert refuse_frame(ROOM, "developer", SYNC_UPDATE, WRITES, "edit", GUEST_MODES) is None
    notification = json.dumps({"jsonrpc": "2.0", "method": "git/commit"})
    assert refuse_frame("/ide", "developer", notification, WRITES, "edit", GUEST_MODES) == ""
