"""The presence guard, rule by rule: the login's identity is stamped on every state, a socket
speaks for one awareness client, malformed updates are dropped (end to end: test_shares.py)."""

from __future__ import annotations

from ide_server.gateway.awareness import AwarenessGuard, identity, user_color
from tests.support.awareness import decode_awareness, encode_awareness

ME = identity("ana", "Ana Lyst")


def test_the_identity_is_the_logins_and_its_colour_is_stable() -> None:
    assert ME["name"] == "Ana Lyst" and ME["username"] == "ana"
    assert ME["color"] == user_color("ana") == identity("ana", "")["color"]
    assert ME["colorLight"] == ME["color"] + "33"
    assert identity("bo", "")["name"] == "bo"


def test_a_claimed_name_is_overwritten_and_the_rest_kept() -> None:
    guard = AwarenessGuard(ME)
    forged = {"user": {"name": "Boss", "username": "boss", "color": "#fff", "x": 1}, "c": [1, 2]}
    out = guard.rewrite(encode_awareness((9, 1, forged)))
    assert out is not None
    [(client, clock, state)] = decode_awareness(out)
    assert (client, clock) == (9, 1)
    assert state == {"user": {**ME, "x": 1}, "c": [1, 2]}


def test_a_state_without_user_gets_one_and_leaving_passes() -> None:
    guard = AwarenessGuard(ME)
    out = guard.rewrite(encode_awareness((9, 1, {})))
    assert out is not None and decode_awareness(out)[0][2] == {"user": ME}
    left = guard.rewrite(encode_awareness((9, 2, None)))
    assert left is not None and decode_awareness(left) == [(9, 2, None)]


def test_a_socket_speaks_for_its_first_client_only() -> None:
    guard = AwarenessGuard(ME)
    assert guard.rewrite(encode_awareness((9, 1, {}))) is not None
    assert guard.rewrite(encode_awareness((10, 1, {}))) is None  # someone else's client
    assert guard.rewrite(encode_awareness((10, 4, None))) is None  # nor remove it
    mixed = guard.rewrite(encode_awareness((10, 2, {}), (9, 3, {"a": 1})))
    assert mixed is not None and [c for c, _, _ in decode_awareness(mixed)] == [9]


def test_malformed_updates_are_dropped() -> None:
    guard = AwarenessGuard(ME)
    good = encode_awareness((9, 1, {}))
    for frame in (
        b"\x01",
        b"\x01\x05\x01\x02",  # length beyond the frame
        good + b"\x00",  # trailing bytes
        good[:-1],
        b"\x01\x03\x01\x09\x01",  # entry cut short
        b"\x01" + b"\xff" * 12,  # an endless varint
        encode_awareness((9, 1, "a string")),
        encode_awareness((9, 1, [1])),
        b"\x00\x00\x01",  # not awareness at all
    ):
        assert guard.rewrite(frame) is None, frame
    invalid_json = b"\x01\x06\x01\x09\x01\x02{x"
    assert AwarenessGuard(ME).rewrite(invalid_json) is None
