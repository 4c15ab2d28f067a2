"""Local session pods are confined: code running in a real pod reaches only its own volume.

Each attack runs inside a running pod's sandbox — its user, mount and PID namespaces, entered
with nsenter and switched to the pod's uid — as project code (a dbt macro, a crafted commit)
would run there. The gateway uses its embedded PostgreSQL, so the metadata database's files
and socket are in the data dir as in the one-command setup.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ide_server.config import load_config
from session_manager.backends import pod_guard
from tests.support.gateway import PASSWORD, GatewayProcess, login_as

GATEWAY_SECRET = "gateway-only-" + uuid.uuid4().hex

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("nsenter") is None,
    reason="entering a pod's namespaces from the test needs root and nsenter",
)

ATTACK = r"""
import json, os, socket, sys
targets = json.loads(sys.argv[1])
out = {}
def attempt(name, action):
    try:
        action()
        out[name] = "succeeded"
    except OSError as exc:
        out[name] = type(exc).__name__
def read(path):
    with open(path, "rb") as f:
        return f.read()
def connect(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
attempt("master key", lambda: read(targets["key"]))
attempt("another user's volume", lambda: os.listdir(targets["other_volume"]))
attempt("another user's file", lambda: read(targets["other_file"]))
attempt("gateway environ", lambda: read("/proc/%d/environ" % targets["gateway_pid"]))
attempt("metadata database files", lambda: read(targets["pg_version"]))
attempt("metadata database socket", lambda: connect(targets["pg_socket"]))
attempt("another pod's socket", lambda: connect(targets["other_sock"]))
out["data dir"] = sorted(os.listdir(targets["data_dir"]))
out["volumes"] = sorted(os.listdir(targets["data_dir"] + "/volumes"))
attempt("the machine's /tmp", lambda: read(targets["host_tmp_file"]))
attempt("/etc/shadow", lambda: read("/etc/shadow"))
attempt("own volume", lambda: open(targets["own_volume"] + "/written-inside", "w").write("x"))
attempt("network", lambda: socket.create_connection(("127.0.0.1", targets["port"]), 5).close())
me = os.getpid()
procs = {}
for pid in (p for p in os.listdir("/proc") if p.isdigit() and int(p) != me):
    try:
        status = dict(l.split(":", 1) for l in read("/proc/%s/status" % pid).decode().splitlines())
        environ = read("/proc/%s/environ" % pid)
    except OSError:
        continue
    procs[pid] = {
        "uid": status["Uid"].split()[0],
        "caps": status["CapEff"].strip(),
        "no_new_privs": status["NoNewPrivs"].strip(),
        "cmdline": read("/proc/%s/cmdline" % pid).decode(errors="replace")[:200],
        "gateway_secret": targets["secret"].encode() in environ,
    }
out["processes"] = procs
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("sandbox")
    gw = GatewayProcess(tmp / "data", "", demo="true", cull_interval="1")
    gw.extra_env = {"GATEWAY_ONLY_SECRET": GATEWAY_SECRET}
    gw.start()
    try:
        for user in ("erin", "finn"):
            gw.cli("user", "add", user, "--password", PASSWORD)
            gw.cli("member", "add", "demo", user, "developer")
        yield gw
    finally:
        gw.stop()
        gw.stop_pods()


def run_in_pod(gw: GatewayProcess, session_id: str, code: str, *args: str) -> str:
    """Run Python ``code`` inside the session's sandbox, as the pod's own processes run."""
    guard = json.loads((gw.runtime_dir(session_id) / "pod.json").read_text())["guard"]
    command = ["nsenter", "-t", str(guard), "-U", "-m", "-p", "-S", "1000", "-G", "1000", "-w"]
    result = subprocess.run(
        [*command, "--", sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_code_in_a_pod_reaches_only_its_own_volume(gateway: GatewayProcess, tmp_path: Path) -> None:
    data = gateway.data_dir
    erin, finn = login_as(gateway, "erin"), login_as(gateway, "finn")
    mine, theirs = erin.open_session(), finn.open_session()
    other_volume = data / "volumes" / "finn" / "demo"
    host_tmp_file = Path("/tmp") / f"host-{uuid.uuid4().hex}"  # noqa: S108
    host_tmp_file.write_text("on the machine's /tmp")
    targets = {
        "key": str(data / "secret.key"),
        "other_volume": str(other_volume),
        "other_file": str(other_volume / "dbt_project.yml"),
        "gateway_pid": gateway.proc.pid if gateway.proc else 0,
        "pg_version": str(data / "postgres" / "PG_VERSION"),
        "pg_socket": str(data / "postgres" / ".s.PGSQL.5432"),
        "other_sock": str(gateway.runtime_dir(theirs["id"]) / "pod.sock"),
        "data_dir": str(data),
        "host_tmp_file": str(host_tmp_file),
        "own_volume": str(data / "volumes" / "erin" / "demo"),
        "port": gateway.port,
        "secret": GATEWAY_SECRET,
    }
    for key in ("key", "other_file", "pg_version", "pg_socket", "other_sock"):
        assert Path(targets[key]).exists(), f"precondition: {key} exists outside the pod"
    try:
        out = json.loads(run_in_pod(gateway, mine["id"], ATTACK, json.dumps(targets)))
    finally:
        host_tmp_file.unlink()
    processes = out.pop("processes")
    # Inside, the data dir holds only the mount points of what this pod may use.
    assert out.pop("volumes") == ["erin"]
    assert set(out.pop("data dir")) <= {"volumes", "staging", "run", "remotes", "demo.duckdb"}
    assert out.pop("own volume") == "succeeded"
    assert out.pop("network") == "succeeded", "git remotes and warehouses must stay reachable"
    assert (data / "volumes" / "erin" / "demo" / "written-inside").exists()
    assert {k: v for k, v in out.items() if v == "succeeded"} == {}, out
    # The pod's own processes: only they are visible, none as root, none with a capability.
    assert any("ide_server.workspace.launch" in p["cmdline"] for p in processes.values())
    assert len(processes) < 10, processes
    for pid, proc in processes.items():
        assert proc["uid"] == "1000" and int(proc["caps"], 16) == 0, (pid, proc)
        assert proc["no_new_privs"] == "1" and not proc["gateway_secret"], (pid, proc)


async def test_previews_run_in_the_sandbox_over_private_ipc_sockets(
    gateway: GatewayProcess,
) -> None:
    api = login_as(gateway, "erin")
    session = api.open_session()
    async with await api.rpc(session["id"]) as rpc:
        query_id = uuid.uuid4().hex
        await rpc.call("query/preview", {"query_id": query_id, "sql": "select 42 as answer"})
        done = await rpc.notification("query/done", timeout=60)
        assert done["query_id"] == query_id and done["row_count"] == 1
    runtime = gateway.runtime_dir(session["id"])
    connections = [json.loads(p.read_text()) for p in runtime.glob("kernel-*.json")]
    assert connections and all(c["transport"] == "ipc" for c in connections), connections
    # the sockets live in the pod's private /tmp, which the machine's /tmp does not show
    assert all(not Path(f"{c['ip']}-{c['shell_port']}").exists() for c in connections)
    listing = run_in_pod(
        gateway, session["id"], "import os; print(' '.join(sorted(os.listdir('/tmp'))))"
    )
    assert f"{Path(connections[0]['ip']).name}-{connections[0]['shell_port']}" in listing


async def test_git_remotes_over_the_network_work_from_the_sandbox(
    gateway: GatewayProcess, tmp_path: Path
) -> None:
    from tests.workspace.git.conftest import make_remote, run_git
    from tests.workspace.git.remote_server import GitHttpServer

    bare = make_remote(tmp_path / "served", "web.git")
    server = GitHttpServer(tmp_path / "served").start()
    try:
        gateway.cli("project", "add", "web", server.url("web.git"), "--default-branch", "main")
        gateway.cli("member", "add", "web", "erin", "developer")
        api = login_as(gateway, "erin")
        session = api.open_session("web")  # cloned over HTTP, inside the sandbox
        async with await api.rpc(session["id"]) as rpc:
            read = await rpc.call("fs/read", {"path": "models/orders.sql"})
            assert "raw.orders" in read["content"]
            await rpc.call("git/create_branch", {"name": "feature"})
            await rpc.call("fs/write", {"path": "models/new.sql", "content": "select 2"})
            await rpc.call("git/commit", {"message": "From the sandbox"})
            pushed = await rpc.call("git/push", {}, timeout=60)
        assert pushed["branch"] == "feature"
        assert "From the sandbox" in run_git("log", "--format=%s", "feature", cwd=bare)
    finally:
        server.stop()


PYTHON_MODEL = """
import json, os

def model(dbt, session):
    dbt.config(materialized="table")
    outcome = {}
    for name, path in TARGETS.items():
        try:
            with open(path, "rb") as f:
                f.read(1)
            outcome[name] = "read"
        except OSError as exc:
            outcome[name] = type(exc).__name__
    with open(OUT, "w") as f:
        json.dump(outcome, f)
    return session.sql("select 1 as one")
"""


async def test_dbt_runs_project_python_inside_the_sandbox_only(gateway: GatewayProcess) -> None:
    """dbt runs the project's code by design: a Python model that reads secrets finds none."""
    data = gateway.data_dir
    api = login_as(gateway, "finn")
    session = api.open_session()
    volume = data / "volumes" / "finn" / "demo"
    targets = {
        "master key": str(data / "secret.key"),
        "metadata database": str(data / "postgres" / "PG_VERSION"),
        "another user's volume": str(data / "volumes" / "erin" / "demo" / "dbt_project.yml"),
        "own volume": str(volume / "dbt_project.yml"),
    }
    out = volume / "outcome.json"
    code = f"TARGETS = {targets!r}\nOUT = {str(out)!r}\n" + PYTHON_MODEL
    async with await api.rpc(session["id"]) as rpc:
        await rpc.call("fs/write", {"path": "models/probe.py", "content": code})
        invocation = uuid.uuid4().hex
        command = {"invocation_id": invocation, "command": "run", "args": ["--select", "probe"]}
        await rpc.call("dbt/run", command)
        lines: list[str] = []
        while True:
            message = await asyncio.wait_for(rpc.notifications.get(), 180)
            if message.get("method") == "dbt/log":
                lines.append(message["params"]["msg"])
            elif message.get("method") == "dbt/done":
                assert message["params"]["success"], lines[-10:]
                break
    outcome = json.loads(out.read_text())
    assert outcome.pop("own volume") == "read"
    assert outcome == {name: "FileNotFoundError" for name in outcome}, outcome


def test_a_pod_over_its_memory_limit_is_stopped_and_says_why(tmp_path: Path) -> None:
    gw = GatewayProcess(tmp_path / "data", "", cull_interval="1", local_memory_limit_mb="400")
    gw.start()
    try:
        gw.cli("user", "add", "gus", "--password", PASSWORD)
        gw.cli("member", "add", "demo", "gus", "developer")
        api = login_as(gw, "gus")
        session = api.open_session()
        hog = "import time; b = bytearray(600 * 1024 * 1024); time.sleep(30)"
        guard = json.loads((gw.runtime_dir(session["id"]) / "pod.json").read_text())["guard"]
        command = ["nsenter", "-t", str(guard), "-U", "-m", "-p", "-S", "1000", "-G", "1000"]
        hog_proc = subprocess.Popen([*command, "--", sys.executable, "-c", hog])
        deadline = time.monotonic() + 60
        while (row := api.http.get(f"/api/sessions/{session['id']}").json())["state"] == "ready":
            assert time.monotonic() < deadline, "the pod was not stopped"
            time.sleep(0.3)
        hog_proc.wait(timeout=30)
        assert row["state"] == "stopped"
        assert "memory limit of 400 MiB" in row["reason"], row
    finally:
        gw.stop()
        gw.stop_pods()


# -- the parts, without a gateway -------------------------------------------------------------

GUARDED = r"""
import os, resource, signal, sys, threading, time
print("nofile", *resource.getrlimit(resource.RLIMIT_NOFILE), flush=True)
for sig in (signal.SIGKILL, signal.SIGSTOP):
    os.kill(1, sig)  # the guard, PID 1 of the pod: both are ignored from inside
time.sleep(0.5)
print("guard survived", flush=True)
stop = threading.Event()
for _ in range(60):
    threading.Thread(target=stop.wait, daemon=True).start()
time.sleep(10)
print("not stopped", flush=True)
"""


def _guarded_sandbox(tmp_path: Path, tasks: int) -> tuple[list[str], Path]:
    from session_manager.backends.sandbox import Sandbox, find_bwrap, python_paths, system_paths

    volume, runtime = tmp_path / "volume", tmp_path / "run"
    volume.mkdir()
    runtime.mkdir()
    reason = runtime / "stop-reason"
    guard = [*pod_guard.command(sys.executable), "--tasks", str(tasks)]
    guard += ["--open-files", "512", "--reason-file", str(reason), "--"]
    sandbox = Sandbox(find_bwrap(), volume, runtime, system=(*system_paths(), *python_paths()))
    return sandbox.argv([*guard, sys.executable, "-c", GUARDED]), reason


def test_the_guard_holds_a_pod_to_its_task_limit_and_cannot_be_stopped(tmp_path: Path) -> None:
    argv, reason = _guarded_sandbox(tmp_path, tasks=40)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert "nofile 512 512" in result.stdout
    assert "guard survived" in result.stdout, result.stderr
    assert "not stopped" not in result.stdout
    assert result.returncode == 137, result.stderr
    assert "more than 40 processes and threads" in reason.read_text()


async def test_pods_are_refused_when_confinement_cannot_be_set_up(tmp_path: Path) -> None:
    from session_manager.backends.base import BackendError, PodSpec
    from session_manager.backends.local import LocalBackend

    config = load_config({"data_dir": str(tmp_path / "data"), "local_bwrap": "/bin/false"}, env={})
    backend = LocalBackend.from_config(config)
    spec = PodSpec("b" * 32, "erin", "demo", f"/sessions/{'b' * 32}/", "token")
    steps: list[str] = []

    async def progress(step: str) -> None:
        steps.append(step)

    with pytest.raises(BackendError) as refused:
        await backend.start(spec, progress)
    message = str(refused.value)
    assert "cannot be confined" in message and "IDE_LOCAL_UNCONFINED" in message
    assert "bubblewrap" in message
    assert steps == [] and not backend.log_path(spec.session_id).exists(), "a pod was started"


async def test_unconfined_pods_are_a_warning_at_every_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from session_manager.backends.base import BackendError, PodSpec
    from session_manager.backends.local import LocalBackend

    config = load_config({"data_dir": str(tmp_path / "data"), "local_unconfined": True}, env={})
    backend = LocalBackend.from_config(config)

    async def progress(step: str) -> None:
        pass

    for n in range(2):
        # no pod token: the pod refuses to run, which is all this test needs
        spec = PodSpec(f"{n}" * 32, "erin", "demo", f"/sessions/{n * 32}/", "")
        with pytest.raises(BackendError):
            await backend.start(spec, progress)
    warnings = [r for r in caplog.records if "UNCONFINED" in r.getMessage()]
    assert len(warnings) == 2 and all(r.levelname == "WARNING" for r in warnings)


def test_the_data_dir_is_hidden_even_inside_an_exposed_tree(tmp_path: Path) -> None:
    """The default data dir lives in the source tree; the tree is bound, the data dir not."""
    from session_manager.backends.sandbox import Sandbox

    tree = tmp_path / "project"
    data = tree / ".ide-data"
    volume, runtime = data / "volumes" / "erin" / "demo", data / "run" / "s1"
    for path in (volume, runtime):
        path.mkdir(parents=True)
    argv = Sandbox("bwrap", volume, runtime, system=(tree,), hidden=(data,)).argv(["true"])
    at = {tuple(argv[i : i + 2]): i for i in range(len(argv) - 1)}
    assert at[("--ro-bind", str(tree))] < at[("--tmpfs", str(data))] < at[("--bind", str(volume))]
    assert at[("--bind", str(runtime))] < at[("--remount-ro", str(data))]
    assert "--cap-drop" in argv and "--unshare-pid" in argv and "--unshare-user" in argv
    assert "--die-with-parent" not in argv, "pods must outlive a gateway restart"


def test_inherited_ca_bundles_are_readable_inside(tmp_path: Path) -> None:
    from session_manager.backends.sandbox import Sandbox, ca_paths, find_bwrap, system_paths

    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    volume, runtime = tmp_path / "volume", tmp_path / "run"
    volume.mkdir()
    runtime.mkdir()
    shown = ca_paths({"SSL_CERT_FILE": str(bundle), "PATH": "/usr/bin"})
    assert shown == [bundle]
    sandbox = Sandbox(
        find_bwrap(), volume, runtime, system=tuple(system_paths()), read_only=tuple(shown)
    )
    result = subprocess.run(sandbox.argv(["cat", str(bundle)]), capture_output=True, text=True)
    assert result.returncode == 0 and "BEGIN CERTIFICATE" in result.stdout, result.stderr


def test_every_shared_duckdb_file_of_the_connection_is_shown_read_only() -> None:
    from ide_server.podenv import PodEnv
    from session_manager.backends.sandbox import shared_paths

    warehouse = {
        "type": "duckdb",
        "path": "/srv/a.duckdb",
        "attach": [
            {"path": "/srv/a.duckdb", "alias": "a"},
            {"path": "/srv/b.duckdb", "alias": "b"},
        ],
    }
    writable, readable = shared_paths(PodEnv(warehouse=warehouse))
    assert writable == [] and readable == [Path("/srv/a.duckdb"), Path("/srv/b.duckdb")]
    # A PostgreSQL connection shows no file; no connection shows nothing.
    assert shared_paths(PodEnv(warehouse={"type": "postgres", "path": "/etc/shadow"})) == ([], [])
    assert shared_paths(PodEnv()) == ([], [])
