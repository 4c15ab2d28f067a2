"""A session start's event stream follows the login: once it ends, so does the stream."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess


@pytest.fixture
def silent_remote() -> Iterator[str]:
    """A git remote that accepts connections and never answers: a clone of it hangs, so a
    session of its project stays `starting`."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/slow.git"
    server.close()
    for conn in held:
        conn.close()


def test_the_stream_ends_when_the_login_does(
    gateway: GatewayProcess, admin: Api, silent_remote: str
) -> None:
    name = f"ev{secrets.token_hex(3)}"
    project = f"slow{secrets.token_hex(3)}"
    gateway.cli("user", "add", name, "--password", PASSWORD)
    gateway.cli("project", "add", project, silent_remote, "--skip-remote-check")
    gateway.cli("member", "add", project, name, "developer")
    user = Api(gateway.url)
    assert user.login(name, PASSWORD).status_code == 200
    session = user.http.post("/api/sessions", json={"project": project}).json()
    try:
        events: list[str] = []
        with user.http.stream("GET", f"/api/sessions/{session['id']}/events") as stream:
            lines = stream.iter_lines()
            for line in lines:
                if line.startswith("data:") and json.loads(line[5:])["state"] == "starting":
                    break
            ended_at = time.monotonic()
            assert Api(gateway.url).login(name, PASSWORD).status_code == 200  # another login
            logged_out = user.http.post("/api/auth/logout")
            assert logged_out.status_code in (200, 204)
            for line in lines:
                events.append(line)
        assert "event: ended" in events and any('"reason": "access"' in e for e in events)
        assert time.monotonic() - ended_at < 30  # it did not run on until the start timed out
    finally:
        admin.http.delete(f"/api/sessions/{session['id']}")
        gateway.cli("project", "remove", project, "--delete-volumes")
