"""HTTP clients for session pods, one per endpoint (``unix:/path`` or ``http://host:port``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx


class PodClients:
    def __init__(self, timeout: float = 60) -> None:
        self.timeout = timeout
        self._clients: dict[str, httpx.AsyncClient] = {}

    def get(self, endpoint: str) -> httpx.AsyncClient:
        client = self._clients.get(endpoint)
        if client is None:
            if endpoint.startswith("unix:"):
                transport = httpx.AsyncHTTPTransport(uds=endpoint[5:])
                client = httpx.AsyncClient(
                    transport=transport, base_url="http://pod", timeout=self.timeout
                )
            else:
                client = httpx.AsyncClient(base_url=endpoint, timeout=self.timeout)
            self._clients[endpoint] = client
        return client

    async def forget(self, endpoint: str) -> None:
        client = self._clients.pop(endpoint, None)
        if client is not None:
            await client.aclose()

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()


async def pod_activity(
    clients: PodClients, endpoint: str, base_url: str, token: str
) -> dict[str, Any] | None:
    """The pod's own view of its activity (last activity, busy), or None if unreachable."""
    try:
        response = await clients.get(endpoint).get(
            f"{base_url}ide/activity", headers={"Authorization": f"token {token}"}, timeout=5
        )
    except httpx.TransportError:
        return None
    if response.status_code != 200:
        return None
    try:
        data = response.json()
        data["last_activity_at"] = datetime.fromtimestamp(float(data["last_activity"]), UTC)
        data["busy"] = bool(data.get("busy"))
    except (ValueError, TypeError, KeyError, OverflowError):
        return None  # not the pod we expect: judged by poll() instead
    return data
