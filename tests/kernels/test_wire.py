"""The kernel's own side of the Jupyter protocol: signed messages that jupyter_client reads
and writes, forged and replayed ones dropped, bad connection files refused, and a kernel
that does not outlive the process that started it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import zmq
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.session import Session as ClientSession

from kernels.sql.kernelspec import WAREHOUSE_ENV, kernelspec_json
from kernels.sql.wire import DELIMITER, ConnectionInfo, Session, WireError

KEY = b"a-test-key-of-some-length"


def test_jupyter_client_reads_what_the_kernel_signs_and_the_reverse() -> None:
    ours, theirs = Session(KEY), ClientSession(key=KEY)
    request = theirs.msg("execute_request", {"code": "x"})
    frames = [b"ident", *theirs.serialize(request)]
    parsed = ours.parse([bytes(f) for f in frames])
    assert parsed.idents == [b"ident"] and parsed.msg_type == "execute_request"
    assert parsed.content == {"code": "x"}
    reply = ours.frames("execute_reply", {"status": "ok"}, parsed.header_bytes, parsed.idents)
    idents, rest = theirs.feed_identities(reply)
    message = theirs.deserialize(rest)
    assert idents == [b"ident"] and message["content"] == {"status": "ok"}
    assert message["parent_header"]["msg_id"] == request["header"]["msg_id"]


def test_forged_tampered_replayed_and_malformed_messages_are_refused() -> None:
    ours, theirs = Session(KEY), ClientSession(key=KEY)
    forger = ClientSession(key=b"not-the-key")
    with pytest.raises(WireError, match="signature"):
        ours.parse(forger.serialize(forger.msg("execute_request", {"code": "x"})))
    frames = [bytes(f) for f in theirs.serialize(theirs.msg("execute_request", {"code": "x"}))]
    tampered = [*frames[:5], json.dumps({"code": "drop table t"}).encode(), *frames[6:]]
    with pytest.raises(WireError, match="signature"):
        ours.parse(tampered)
    unsigned = [frames[0], b"", *frames[2:]]
    with pytest.raises(WireError, match="signature"):
        ours.parse(unsigned)
    ours.parse(frames)
    with pytest.raises(WireError, match="replayed"):
        ours.parse(frames)
    with pytest.raises(WireError, match="delimiter"):
        ours.parse([b"no", b"delimiter"])
    with pytest.raises(WireError, match="too few"):
        ours.parse([DELIMITER, b"sig", b"{}"])


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"shell_port": 0}, "shell_port"),
        ({"hb_port": "x"}, "hb_port"),
        ({"signature_scheme": "hmac-md5"}, "signature scheme"),
        ({"transport": "udp"}, "transport"),
        ({"key": 5}, "key"),
    ],
)
def test_a_bad_connection_file_is_refused(
    tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    path, _ = write_connection_file(str(tmp_path / "kernel.json"), key=KEY)
    raw = {**json.loads(Path(path).read_text()), **change}
    Path(path).write_text(json.dumps(raw))
    with pytest.raises(WireError, match=reason):
        ConnectionInfo.read(Path(path))
    Path(path).write_text("not json")
    with pytest.raises(WireError, match="cannot read"):
        ConnectionInfo.read(Path(path))


def _kernel_env(duckdb_settings: dict[str, Any]) -> dict[str, str]:
    return {**os.environ, WAREHOUSE_ENV: json.dumps(duckdb_settings)}


def _kernel_command(tmp_path: Path) -> tuple[list[str], dict[str, Any]]:
    """The pod's own kernel command line for a fresh connection file, and that file's info."""
    path, info = write_connection_file(str(tmp_path / "kernel.json"), key=KEY)
    argv = [path if arg == "{connection_file}" else arg for arg in kernelspec_json()["argv"]]
    return argv, {**info, "path": path}


def _start_kernel(
    tmp_path: Path, duckdb_settings: dict[str, Any]
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    argv, info = _kernel_command(tmp_path)
    return subprocess.Popen(argv, env=_kernel_env(duckdb_settings)), info


def _request(
    socket: zmq.Socket[bytes], session: ClientSession, msg_type: str, **content: Any
) -> str:
    message = session.msg(msg_type, content)
    socket.send_multipart(session.serialize(message))
    return str(message["header"]["msg_id"])


def _answer(socket: zmq.Socket[bytes], session: ClientSession, timeout: float) -> Any:
    if not socket.poll(int(timeout * 1000)):
        return None
    _, rest = session.feed_identities(socket.recv_multipart())
    return session.deserialize(rest)


def test_the_kernel_ignores_forged_requests_and_answers_signed_ones(
    tmp_path: Path, duckdb_settings: dict[str, Any]
) -> None:
    kernel, info = _start_kernel(tmp_path, duckdb_settings)
    context = zmq.Context()
    shell = context.socket(zmq.DEALER)
    shell.linger = 0
    shell.connect(f"tcp://127.0.0.1:{info['shell_port']}")
    try:
        forger, client = ClientSession(key=b"guessed"), ClientSession(key=KEY)
        code = json.dumps({"query_id": "q", "sql": "select 1"})
        _request(shell, forger, "execute_request", code=code, silent=True)
        shell.send_multipart([DELIMITER, b"junk"])  # malformed: too few frames
        shell.send_multipart([b"no delimiter at all"])
        assert _answer(shell, client, 1.0) is None  # none of them is answered
        msg_id = _request(shell, client, "execute_request", code=code, silent=True)
        reply = _answer(shell, client, 30)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "ok"
        _request(shell, client, "no_such_request")
        unknown = _answer(shell, client, 30)
        assert unknown["msg_type"] == "no_such_reply"
        assert unknown["content"]["status"] == "error"
        assert kernel.poll() is None
    finally:
        shell.close()
        context.term()
        kernel.kill()
        kernel.wait()


PARENT = textwrap.dedent(
    """
    import subprocess, sys
    kernel = subprocess.Popen(sys.argv[1:])
    print(kernel.pid, flush=True)
    sys.stdin.readline()  # until the test lets go
    """
)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return any(line.split() == ["State:", "Z", "(zombie)"] for line in status)
    except FileNotFoundError:
        return True


def test_a_kernel_whose_parent_died_stops_itself(
    tmp_path: Path, duckdb_settings: dict[str, Any]
) -> None:
    argv, _ = _kernel_command(tmp_path)
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=_kernel_env(duckdb_settings),
        text=True,
    )
    assert parent.stdout is not None
    kernel_pid = int(parent.stdout.readline())
    time.sleep(1.5)  # up and serving
    assert not _gone(kernel_pid)
    parent.send_signal(signal.SIGKILL)  # the pod, killed: nobody will shut the kernel down
    parent.wait()
    deadline = time.monotonic() + 10
    while not _gone(kernel_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert _gone(kernel_pid), "the orphaned kernel is still running"
    finally:
        if not _gone(kernel_pid):
            os.kill(kernel_pid, signal.SIGKILL)


def test_a_shutdown_request_ends_the_kernel_cleanly(
    tmp_path: Path, duckdb_settings: dict[str, Any]
) -> None:
    # What jupyter-server does for every kernel when the pod stops (now=False): ask first.
    kernel, info = _start_kernel(tmp_path, duckdb_settings)
    client = BlockingKernelClient(connection_file=info["path"])
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=30)
        client.execute(json.dumps({"query_id": "q", "sql": "select 1"}), silent=True)
        assert client.get_shell_msg(timeout=30)["content"]["status"] == "ok"
        msg_id = client.shutdown()
        reply = client.get_control_msg(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"] == {"status": "ok", "restart": False}
        assert kernel.wait(timeout=5) == 0  # it exited by itself, and cleanly
    finally:
        client.stop_channels()
        if kernel.poll() is None:
            kernel.kill()
            kernel.wait()
