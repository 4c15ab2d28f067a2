"""The reaper's activity probe against small servers answering as pods do, or not."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from session_manager.activity_probe import ProbeFailed, get_json, pod_activity

Answer = Callable[[bytes], bytes]  # the request's head → the raw answer


def http(status: str, body: bytes, extra: bytes = b"") -> bytes:
    return f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\n".encode() + extra + b"\r\n" + body


@asynccontextmanager
async def server(answer: Answer, unix: Path | None = None) -> AsyncIterator[str]:
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        heads.append(head)
        writer.write(answer(head))
        await writer.drain()
        writer.close()

    if unix is not None:
        srv = await asyncio.start_unix_server(handle, str(unix))
        endpoint = f"unix:{unix}"
    else:
        srv = await asyncio.start_server(handle, "127.0.0.1", 0)
        endpoint = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}"
    try:
        yield endpoint
    finally:
        srv.close()


def activity(head: bytes) -> bytes:
    assert head.startswith(b"GET /sessions/s1/ide/activity HTTP/1.1\r\n")
    assert b"\r\nAuthorization: token secret\r\n" in head
    return http("200 OK", json.dumps({"last_activity": time.time() - 60, "busy": True}).encode())


@pytest.mark.parametrize("kind", ["unix", "tcp"])
async def test_a_pod_answers_its_activity(kind: str, tmp_path: Path) -> None:
    unix = tmp_path / "pod.sock" if kind == "unix" else None
    async with server(activity, unix) as endpoint:
        seen = await pod_activity(endpoint, "/sessions/s1/", "secret")
    assert seen is not None and seen["busy"] is True
    assert 50 < time.time() - seen["last_activity_at"].timestamp() < 70


@pytest.mark.parametrize(
    "answer",
    [
        http("403 Forbidden", b'{"last_activity": 1}'),  # not our token
        http("200 OK", b"<html>a proxy's page</html>"),
        http("200 OK", b'{"no": "activity"}'),
        http("200 OK", b"x" * (70 * 1024)),  # far too large for an activity report
        b"SSH-2.0-OpenSSH_9.6\r\n",  # not HTTP at all
        b"",  # closed without a word
    ],
)
async def test_anything_but_a_pods_answer_is_no_activity(answer: bytes) -> None:
    async with server(lambda _head: answer) as endpoint:
        assert await pod_activity(endpoint, "/sessions/s1/", "secret") is None


async def test_nobody_listening_and_bad_endpoints_are_no_activity(tmp_path: Path) -> None:
    assert await pod_activity(f"unix:{tmp_path / 'gone.sock'}", "/s/", "t") is None
    assert await pod_activity("https://10.0.0.1:8888", "/s/", "t") is None
    assert await pod_activity("http://127.0.0.1", "/s/", "t") is None  # no port


async def test_a_pod_that_never_answers_is_given_up_on(tmp_path: Path) -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    srv = await asyncio.start_unix_server(mute, str(tmp_path / "mute.sock"))
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await get_json(f"unix:{tmp_path / 'mute.sock'}", "/s/ide/activity", "t")
        assert time.monotonic() - started < 2
    finally:
        srv.close()


async def test_failures_say_what_went_wrong(tmp_path: Path) -> None:
    async with server(lambda _head: http("502 Bad Gateway", b"")) as endpoint:
        with pytest.raises(ProbeFailed, match="answered 502"):
            await get_json(endpoint, "/s/ide/activity", "t")
