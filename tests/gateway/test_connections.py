"""Unauthenticated load against a real gateway process: slow heads, huge heads, many
connections from one address; the gateway answers, refuses, and its memory stays bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.gateway import GatewayProcess
from tests.support.pg import temporary_database

HEADER_TIMEOUT = 2.0
PER_ADDRESS = 20


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    tmp = tmp_path_factory.mktemp("guarded")
    with temporary_database(tmp) as url:
        gw = GatewayProcess(
            tmp / "data",
            url,
            demo="false",
            header_timeout=str(HEADER_TIMEOUT),
            max_connections_per_address=str(PER_ADDRESS),
        )
        gw.start()
        yield gw
        gw.stop()


async def _open(
    gw: GatewayProcess, source: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", gw.port, local_addr=(source, 0))


async def _status(reader: asyncio.StreamReader, timeout: float = 10) -> int | None:
    """The status of the answer, or None if the server closed without one."""
    line = await asyncio.wait_for(reader.readline(), timeout)
    return int(line.split()[1]) if line.startswith(b"HTTP/1.1") else None


def _healthy(gw: GatewayProcess, source: str) -> bool:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.get(f"{gw.url}/healthz").status_code == 200


def _rss_kib(gw: GatewayProcess) -> int:
    assert gw.proc is not None
    for line in Path(f"/proc/{gw.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_a_trickled_head_is_cut_off_at_the_deadline(guarded: GatewayProcess) -> None:
    reader, writer = await _open(guarded, "127.0.0.31")
    started = time.monotonic()
    writer.write(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n")
    status = None
    for _ in range(40):  # one header byte every 0.25 s would last 10 s
        try:
            writer.write(b"x")
            await writer.drain()
        except ConnectionError:
            break
        try:
            status = await _status(reader, 0.25)
            break
        except TimeoutError:
            continue
    elapsed = time.monotonic() - started
    assert status == 408
    assert HEADER_TIMEOUT - 0.5 < elapsed < HEADER_TIMEOUT + 2
    writer.close()


async def test_the_deadline_applies_to_every_request_of_a_kept_alive_connection(
    guarded: GatewayProcess,
) -> None:
    reader, writer = await _open(guarded, "127.0.0.32")
    writer.write(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
    assert await _status(reader) == 200
    await reader.readuntil(b'{"status":"ok"}')
    writer.write(b"GET /healthz HTTP/1.1\r\n")
    started = time.monotonic()
    status = None
    while time.monotonic() - started < HEADER_TIMEOUT + 3:
        writer.write(b"x")  # each byte would restart uvicorn's keep-alive timer
        try:
            status = await _status(reader, 0.5)
            break
        except TimeoutError:
            continue
    assert status == 408
    writer.close()


@pytest.mark.parametrize("pieces", [1, 40])
async def test_a_huge_head_gets_431(guarded: GatewayProcess, pieces: int) -> None:
    reader, writer = await _open(guarded, "127.0.0.33")
    # Just over the limit: all of it is read before the refusal, so the 431 is not lost to
    # a reset of unread bytes.
    head = b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: " + b"a" * 34_000 + b"\r\n\r\n"
    step = len(head) // pieces + 1
    try:
        for start in range(0, len(head), step):
            writer.write(head[start : start + step])
            await writer.drain()
    except ConnectionError:
        pass
    assert await _status(reader) == 431
    writer.close()


def test_too_many_headers_get_431(guarded: GatewayProcess) -> None:
    headers = {f"x-h{i}": "1" for i in range(150)}
    response = httpx.get(f"{guarded.url}/healthz", headers=headers)
    assert response.status_code == 431
    assert (
        httpx.get(f"{guarded.url}/healthz", headers=dict(list(headers.items())[:50])).status_code
        == 200
    )


async def test_one_address_holds_a_bounded_number_of_connections(guarded: GatewayProcess) -> None:
    held = [await _open(guarded, "127.0.0.34") for _ in range(PER_ADDRESS)]
    extra_reader, extra_writer = await _open(guarded, "127.0.0.34")
    assert await _status(extra_reader) == 503
    assert _healthy(guarded, "127.0.0.35")  # others are served meanwhile
    for _, writer in held:
        writer.close()
    await asyncio.sleep(0.3)
    assert _healthy(guarded, "127.0.0.34")  # and the address is served again once it let go


async def _attack_round(gw: GatewayProcess, sources: list[str]) -> list[int | None]:
    """100 connections that never finish their head: half send 30 KB of it slowly, half
    try to send 1 MB of it."""
    conns = [await _open(gw, sources[i % len(sources)]) for i in range(100)]
    for _, writer in conns:
        writer.write(b"GET /api/me HTTP/1.1\r\nhost: 127.0.0.1\r\nx-pad: ")
    for chunk in range(16):
        for i, (_, writer) in enumerate(conns):
            huge = i % 2 == 1
            if (huge or chunk < 6) and not writer.is_closing():
                writer.write(b"p" * (64_000 if huge else 5000))
        await asyncio.gather(*(w.drain() for _, w in conns), return_exceptions=True)
        await asyncio.sleep(0.05)
    statuses = await asyncio.gather(
        *(_status(r, HEADER_TIMEOUT + 5) for r, _ in conns), return_exceptions=True
    )
    for _, writer in conns:
        writer.close()
    # A refused connection that still had unread bytes ends in a reset (0); a timeout
    # (-1) would be a connection the gateway kept.
    return [
        s if isinstance(s, int) or s is None else 0 if isinstance(s, ConnectionError) else -1
        for s in statuses
    ]


async def test_memory_stays_bounded_under_slow_and_huge_heads(guarded: GatewayProcess) -> None:
    sources = [f"127.0.0.{40 + i}" for i in range(5)]  # 20 per address: all admitted
    assert _healthy(guarded, "127.0.0.39")
    baseline = _rss_kib(guarded)
    peaks = []
    for _ in range(3):
        statuses = await _attack_round(guarded, sources)
        peaks.append(_rss_kib(guarded))
        assert set(statuses) <= {408, 431, 0, None}, statuses  # each one refused, none kept
        assert statuses.count(408) >= 45
        assert _healthy(guarded, "127.0.0.39")
    growth_mib = (max(peaks) - baseline) / 1024
    print(f"gateway RSS: baseline {baseline // 1024} MiB, peaks {[p // 1024 for p in peaks]} MiB")
    assert growth_mib < 40, (baseline, peaks)
    assert peaks[-1] - peaks[0] < 10 * 1024  # no growth from round to round
