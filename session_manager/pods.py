"""HTTP clients for session pods, one per endpoint (``unix:/path`` or ``http://host:port``)."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every pod client of this process.

    Each ``httpx`` client or transport otherwise builds its own, loading the CA bundle: about
    20 ms of CPU on the event loop per pod endpoint, which over a thousand sessions (the first
    reaper pass after a restart) stalled the gateway's loop for seconds.
    """
    return httpx.create_ssl_context()


def pod_transport(endpoint: str) -> httpx.AsyncHTTPTransport:
    """The transport to a pod endpoint: its Unix socket, or TCP (``http://host:port``)."""
    if endpoint.startswith("unix:"):
        return httpx.AsyncHTTPTransport(uds=endpoint[5:], verify=shared_ssl_context())
    return httpx.AsyncHTTPTransport(verify=shared_ssl_context())


def pod_client(endpoint: str, timeout: float) -> httpx.AsyncClient:
    base_url = "http://pod" if endpoint.startswith("unix:") else endpoint
    return httpx.AsyncClient(
        transport=pod_transport(endpoint),
        base_url=base_url,
        timeout=timeout,
        verify=shared_ssl_context(),
    )


class PodClients:
    def __init__(self, timeout: float = 60) -> None:
        self.timeout = timeout
        self._clients: dict[str, httpx.AsyncClient] = {}

    def get(self, endpoint: str) -> httpx.AsyncClient:
        client = self._clients.get(endpoint)
        if client is None:
            client = self._clients[endpoint] = pod_client(endpoint, self.timeout)
        return client

    async def forget(self, endpoint: str) -> None:
        client = self._clients.pop(endpoint, None)
        if client is not None:
            await client.aclose()

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()
