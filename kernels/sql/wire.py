"""The Jupyter messaging protocol (version 5.3) as the SQL kernel speaks it: the connection
file, and signed messages on ZeroMQ sockets.

A message on the wire is a list of frames: the routing identities, the delimiter
``<IDS|MSG>``, the HMAC of the next four frames, the header, the parent header, the
metadata and the content (each JSON), then any binary buffers. A message whose signature
does not match the connection file's key, or that repeats one already seen, is dropped:
only the pod holds the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = "5.3"
DELIMITER = b"<IDS|MSG>"
_SCHEMES = {"hmac-sha256": hashlib.sha256}
_REPLAYS_KEPT = 4096  # signatures remembered against a replayed message


class WireError(Exception):
    """A message or connection file that does not follow the protocol."""


@dataclass(frozen=True)
class ConnectionInfo:
    ip: str
    transport: str
    key: bytes
    signature_scheme: str
    ports: dict[str, int]  # shell, control, iopub, stdin, hb

    @classmethod
    def read(cls, path: Path) -> ConnectionInfo:
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise WireError(f"cannot read the connection file {path}: {exc}") from None
        if not isinstance(raw, dict):
            raise WireError("the connection file is not a JSON object")
        ports: dict[str, int] = {}
        for channel in ("shell", "control", "iopub", "stdin", "hb"):
            port = raw.get(f"{channel}_port")
            if not isinstance(port, int) or not 0 < port < 65536:
                raise WireError(f"the connection file has no valid {channel}_port")
            ports[channel] = port
        scheme = raw.get("signature_scheme", "hmac-sha256")
        if scheme not in _SCHEMES:
            raise WireError(f"unsupported signature scheme {scheme!r}")
        key = raw.get("key", "")
        if not isinstance(key, str):
            raise WireError("the connection file's key is not a string")
        transport = raw.get("transport", "tcp")
        if transport not in ("tcp", "ipc"):
            raise WireError(f"unsupported transport {transport!r}")
        return cls(str(raw.get("ip", "127.0.0.1")), transport, key.encode(), scheme, ports)

    def url(self, channel: str) -> str:
        port = self.ports[channel]
        if self.transport == "ipc":
            return f"ipc://{self.ip}-{port}"
        return f"tcp://{self.ip}:{port}"


@dataclass(frozen=True)
class Message:
    """A received request; ``header_bytes`` is echoed as the parent of what answers it."""

    idents: list[bytes]
    header: dict[str, Any]
    header_bytes: bytes
    content: dict[str, Any]

    @property
    def msg_type(self) -> str:
        return str(self.header.get("msg_type", ""))


class Session:
    """Signs what the kernel sends and checks what it receives."""

    def __init__(self, key: bytes, scheme: str = "hmac-sha256") -> None:
        self._key = key
        self._digest = _SCHEMES[scheme]
        self._session_id = os.urandom(16).hex()
        self._seen: set[bytes] = set()
        self._seen_order: deque[bytes] = deque()

    def frames(
        self,
        msg_type: str,
        content: dict[str, Any],
        parent: bytes = b"{}",
        idents: list[bytes] | None = None,
        buffers: list[bytes] | None = None,
    ) -> list[bytes]:
        """The frames of one message; ``parent`` is the request's header, as received."""
        header = {
            "msg_id": os.urandom(16).hex(),
            "session": self._session_id,
            "username": "ide-sql",
            "date": datetime.now(UTC).isoformat(),
            "msg_type": msg_type,
            "version": PROTOCOL_VERSION,
        }
        parts = [json.dumps(header).encode(), parent, b"{}", json.dumps(content).encode()]
        return [*(idents or []), DELIMITER, self._sign(parts), *parts, *(buffers or [])]

    def parse(self, frames: list[bytes]) -> Message:
        """The message in ``frames``; :class:`WireError` if it is malformed, unsigned or a
        replay."""
        try:
            at = frames.index(DELIMITER)
        except ValueError:
            raise WireError("no message delimiter") from None
        if len(frames) < at + 6:
            raise WireError("too few frames")
        signature, parts = frames[at + 1], frames[at + 2 : at + 6]
        if self._key:
            if not hmac.compare_digest(signature, self._sign(parts)):
                raise WireError("bad signature")
            if signature in self._seen:
                raise WireError("a replayed message")
            self._remember(signature)
        try:
            header, content = json.loads(parts[0]), json.loads(parts[3])
        except ValueError:
            raise WireError("a frame is not JSON") from None
        if not isinstance(header, dict) or not isinstance(content, dict):
            raise WireError("the header and content must be JSON objects")
        return Message(list(frames[:at]), header, parts[0], content)

    def _sign(self, parts: list[bytes]) -> bytes:
        if not self._key:
            return b""
        mac = hmac.new(self._key, digestmod=self._digest)
        for part in parts:
            mac.update(part)
        return mac.hexdigest().encode()

    def _remember(self, signature: bytes) -> None:
        self._seen.add(signature)
        self._seen_order.append(signature)
        if len(self._seen_order) > _REPLAYS_KEPT:
            self._seen.discard(self._seen_order.popleft())
