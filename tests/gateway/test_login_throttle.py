"""Login throttling holds under concurrency and cannot be used to lock the owner out.

Each test speaks from its own loopback address (127.0.0.0/8 all reach the gateway), so the
per-address limit of one test does not leak into others."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import psycopg

from tests.support.gateway import PASSWORD, GatewayProcess

PAIR_LIMIT, ADDRESS_LIMIT = 10, 50


def _client(gateway: GatewayProcess, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(
        base_url=gateway.url, transport=transport, timeout=120, headers={"Origin": gateway.url}
    )


async def _attempts(
    gateway: GatewayProcess, address: str, logins: list[tuple[str, str]]
) -> list[int]:
    async with _client(gateway, address) as client:

        async def one(user: str, password: str) -> int:
            body = {"username": user, "password": password}
            return (await client.post("/api/auth/login", json=body)).status_code

        return list(await asyncio.gather(*(one(u, p) for u, p in logins)))


def _failures_logged(gateway: GatewayProcess, user: str) -> int:
    with psycopg.connect(gateway.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM audit_log WHERE actor = %s AND action = 'login.failed'", (user,)
        ).fetchone()
    assert row is not None
    return int(row[0])


async def test_parallel_wrong_passwords_evaluate_at_most_the_limit(
    gateway: GatewayProcess,
) -> None:
    user = f"t{secrets.token_hex(4)}"
    gateway.cli("user", "add", user, "--password", PASSWORD)
    statuses = await _attempts(gateway, "127.0.0.11", [(user, f"guess-{i:04d}") for i in range(40)])
    assert statuses.count(401) <= PAIR_LIMIT, statuses
    assert statuses.count(429) >= 40 - PAIR_LIMIT
    assert set(statuses) <= {401, 429}
    assert _failures_logged(gateway, user) <= PAIR_LIMIT  # at most the limit evaluated
    # The guesser's address is locked for this user, even with the right password...
    assert await _attempts(gateway, "127.0.0.11", [(user, PASSWORD)]) == [429]
    # ...but the owner, elsewhere, is not locked out by them.
    assert await _attempts(gateway, "127.0.0.12", [(user, PASSWORD)]) == [200]


async def test_one_address_cannot_walk_through_the_user_list(gateway: GatewayProcess) -> None:
    names = [f"walk{secrets.token_hex(3)}-{i}" for i in range(ADDRESS_LIMIT + 8)]
    statuses = await _attempts(gateway, "127.0.0.13", [(n, "a-guess-123") for n in names])
    assert statuses.count(401) <= ADDRESS_LIMIT
    assert statuses.count(429) >= 8
    # Another address is not affected.
    assert await _attempts(gateway, "127.0.0.14", [("alice", PASSWORD)]) == [200]


async def test_successful_logins_do_not_use_up_the_address(gateway: GatewayProcess) -> None:
    """An office behind one address logs in all day; only failures count there."""
    async with _client(gateway, "127.0.0.15") as client:
        for _ in range(ADDRESS_LIMIT + 5):
            body = {"username": "bob", "password": PASSWORD}
            assert (await client.post("/api/auth/login", json=body)).status_code == 200
