"""Crashing a session pod the way a node failure does, and getting the next one."""

from __future__ import annotations

import os
import signal
import time

from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess, login_as


def developer(gateway: GatewayProcess, user: str) -> Api:
    """A new developer on the demo project, logged in (a volume no other test shares)."""
    gateway.cli("user", "add", user, "--password", PASSWORD, "--email", f"{user}@example.com")
    gateway.cli("member", "add", "demo", user, "developer")
    return login_as(gateway, user)


def kill_pod(gateway: GatewayProcess, session_id: str) -> None:
    """kill -9 of the pod and everything it started: no shutdown code runs."""
    try:
        os.killpg(gateway.pod_pid(session_id), signal.SIGKILL)
    except ProcessLookupError:
        pass


def next_session(api: Api, dead_id: str, timeout: float = 60) -> dict:
    """Once the gateway noticed the dead pod, a fresh session on the same volume."""
    deadline = time.monotonic() + timeout
    while api.http.get(f"/api/sessions/{dead_id}").json()["state"] not in ("stopped", "failed"):
        # A request the gateway proxies (as the browser's reconnect is) makes it notice a
        # dead pod at once; a path it does not proxy would wait for the reaper's pass.
        api.http.get(f"/sessions/{dead_id}/ide")
        assert time.monotonic() < deadline, "the gateway did not notice the dead pod"
        time.sleep(0.1)
    return api.open_session("demo")
