"""Presence that cannot lie: each Yjs awareness update a client sends is rewritten so that
its ``user`` field is the login's, before the pod (and every other participant) sees it.

An awareness message (y-protocols) is ``varUint(1) varUint8Array(update)``; the update is
``varUint(n)`` then, per client, ``varUint(clientID) varUint(clock) varString(JSON state)``
(``null`` when the client leaves). A socket speaks for one awareness client: the first it
names. Entries for any other client (y-websocket re-broadcasts what it hears; a forger
would name someone else's) are dropped, and so is anything malformed. In each remaining
state, ``user.name``, ``user.username``, ``user.color`` and ``user.colorLight`` are set from
the login (docs/protocol.md, "Presence"); the client's other fields stay.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

AWARENESS = 1
# Distinct on a light and a dark editor background; a user keeps theirs everywhere.
_PALETTE = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#9a6324",
    "#469990",
    "#808000",
    "#000075",
    "#e6a800",
)


def user_color(username: str) -> str:
    digest = hashlib.sha256(username.encode()).digest()
    return _PALETTE[int.from_bytes(digest[:4], "big") % len(_PALETTE)]


def identity(username: str, display_name: str) -> dict[str, str]:
    """The ``user`` fields of a login's awareness state."""
    color = user_color(username)
    return {
        "name": display_name or username,
        "username": username,
        "color": color,
        "colorLight": color + "33",
    }


class _Malformed(Exception):
    pass


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def uint(self) -> int:
        value, shift = 0, 0
        while True:
            if self.pos >= len(self.data) or shift > 63:
                raise _Malformed
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    def bytes(self) -> bytes:
        length = self.uint()
        end = self.pos + length
        if end > len(self.data):
            raise _Malformed
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    @property
    def done(self) -> bool:
        return self.pos == len(self.data)


def _uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def _chunk(data: bytes) -> bytes:
    return _uint(len(data)) + data


def _stamped(state_json: bytes, user: dict[str, str]) -> bytes | None:
    try:
        state: Any = json.loads(state_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if state is None:
        return b"null"
    if not isinstance(state, dict):
        return None
    claimed = state.get("user")
    state["user"] = {**(claimed if isinstance(claimed, dict) else {}), **user}
    return json.dumps(state, separators=(",", ":")).encode()


class AwarenessGuard:
    """One socket's guard: ``rewrite`` each awareness frame it sends."""

    def __init__(self, user: dict[str, str]) -> None:
        self.user = user
        self.client_id: int | None = None  # the awareness client this socket speaks for
        self.clock = 0  # the newest clock it sent for that client

    def rewrite(self, frame: bytes) -> bytes | None:
        """The frame to forward, or None to drop it."""
        try:
            outer = _Reader(frame)
            if outer.uint() != AWARENESS:
                return None
            update = _Reader(outer.bytes())
            if not outer.done:
                return None
            entries = []
            for _ in range(update.uint()):
                client, clock, state = update.uint(), update.uint(), update.bytes()
                if self.client_id is None:
                    self.client_id = client
                if client != self.client_id:
                    continue
                stamped = _stamped(state, self.user)
                if stamped is not None:
                    self.clock = max(self.clock, clock)
                    entries.append(_uint(client) + _uint(clock) + _chunk(stamped))
            if not update.done:
                return None
        except _Malformed:
            return None
        if not entries:
            return None
        body = _uint(len(entries)) + b"".join(entries)
        return _uint(AWARENESS) + _chunk(body)

    def farewell(self) -> bytes | None:
        """The "left" update (state ``null``, a newer clock) for this socket's client, which
        the gateway sends the room when the socket ends however it ends (closed, dropped,
        revoked), so no one keeps seeing a participant who is gone; None if it never spoke."""
        if self.client_id is None:
            return None
        entry = _uint(self.client_id) + _uint(self.clock + 1) + _chunk(b"null")
        return _uint(AWARENESS) + _chunk(_uint(1) + entry)
