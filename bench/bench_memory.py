"""Memory of one session: its pod's whole process tree, idle and after a preview, beside a
bare ``jupyter server`` with a plain ipykernel started the same way, in one run.

    flock /tmp/heavy.lock uv run python bench/bench_memory.py [--settle 3]

A real gateway starts real session pods (the local backend: bwrap, the pod's guard, the pod
server and, once a preview ran, the SQL kernel and anything else the pod started). For the
demo project (DuckDB) and a project whose connection is a PostgreSQL database of this run,
it measures the pod's tree idle before any preview, then after one preview of 500 rows.
The baseline is a bare ``jupyter server`` on a Unix socket with the stock ``python3``
kernel, idle and after one ``execute_request``, the same interpreter and environment.

Figures come from ``/proc/PID/smaps_rollup``: RSS, PSS (shared pages divided among the
processes that map them: what a machine full of sessions pays per session) and USS (pages
of this process alone). One session alone maps its libraries by itself, so its PSS counts
them whole; ``--crowd N`` (4 by default) then runs N demo sessions of N users at once, and N
bare servers with a kernel each, and divides their PSS by N: what each pays on a machine
full of them, where the interpreter, jupyter_server and the DuckDB library are shared.
Beside each kernel, the driver alone: a bare Python that imports the warehouse's driver,
connects and runs the preview's query, the least any kernel on that warehouse can weigh.

Each configuration runs alone (the previous one stopped), while the gateway runs, so they
share pages with the same processes. Needs the PostgreSQL at 127.0.0.1:5432 (user
postgres, trust).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pygit2
import websockets
from pygit2.enums import FileMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.client import Api, Rpc  # noqa: E402
from tests.support.gateway import PASSWORD, GatewayProcess  # noqa: E402
from tests.support.pg import temporary_database  # noqa: E402
from tests.support.probe import run_probe  # noqa: E402

GIB_24_MB = 24 * 1024
PREVIEW = "select * from raw.customers"  # 50,000 rows in the demo; 500 reach the client
KERNEL_GOAL_MB = 70  # issue 15: the SQL kernel at most this RSS
SESSION_GOAL_MB = 150  # issue 15: an idle session with its kernel at most this RSS
SHOP = {
    "dbt_project.yml": "name: shop\nversion: '1.0'\nconfig-version: 2\nprofile: shop\n",
    "models/stg_customers.sql": "select id, name from raw.customers\n",
}


@dataclass(frozen=True)
class Proc:
    pid: int
    role: str
    rss: float  # MB
    pss: float
    uss: float


def _rollup(pid: int) -> tuple[float, float, float]:
    """(RSS, PSS, USS) in MB; a process whose smaps we may not read counts its RSS for all."""
    try:
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value, *_ = line.split()
            fields[name.rstrip(":")] = int(value) / 1024
        uss = fields["Private_Clean"] + fields["Private_Dirty"]
        return fields["Rss"], fields["Pss"], uss
    except (OSError, KeyError):
        kb = next(
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmRSS")
        )
        return kb / 1024, kb / 1024, kb / 1024


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _role(pid: int) -> str:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    if Path(argv[0]).name == "bwrap":
        return "bwrap"
    if any(Path(arg).name == "pod_guard.py" for arg in argv[:4]):  # run by its file
        return "pod guard"
    module = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else ""
    for prefix, role in (
        ("ide_server.workspace.launch", "pod server"),
        ("ide_server.workspace.dbt", "dbt worker"),
        ("kernels.sql", "SQL kernel"),
        ("ipykernel_launcher", "ipykernel"),
        ("jupyter_server", "jupyter server"),
    ):
        if module.startswith(prefix):
            return role
    return " ".join(argv)[:40] or "?"


def tree(root: int) -> list[Proc]:
    """Every live process from ``root`` down (threads are not processes: they share)."""
    children, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop(0)
        try:
            found.append(Proc(pid, _role(pid), *_rollup(pid)))
        except (OSError, StopIteration):
            continue  # exited meanwhile
        todo += sorted(children.get(pid, []))
    return found


@dataclass(frozen=True)
class Measure:
    label: str
    procs: list[Proc]

    def total(self, field: str, roles: tuple[str, ...] | None = None) -> float:
        return sum(getattr(p, field) for p in self.procs if roles is None or p.role in roles)

    def role(self, role: str, field: str = "rss") -> float:
        return self.total(field, (role,))


def progress(text: str) -> None:
    print(f"... {text}", file=sys.stderr, flush=True)


def print_measure(m: Measure) -> None:
    print(f"  {m.label}")
    for p in m.procs:
        print(
            f"    {p.role:<16} pid {p.pid:>7}  RSS {p.rss:7.1f}  PSS {p.pss:7.1f}  USS {p.uss:7.1f}"
        )
    rss, pss, uss = m.total("rss"), m.total("pss"), m.total("uss")
    print(f"    {'total':<28} RSS {rss:7.1f}  PSS {pss:7.1f}  USS {uss:7.1f}  MB", flush=True)


async def settle(seconds: float) -> None:
    await asyncio.sleep(seconds)  # startup garbage, lazy imports and threads come to rest


async def preview(rpc: Rpc, sql: str) -> int:
    query_id = secrets.token_hex(4)
    await rpc.call("query/preview", {"query_id": query_id, "sql": sql})
    rows = 0
    while True:
        message = await asyncio.wait_for(rpc.notifications.get(), 120)
        params = message.get("params", {})
        if params.get("query_id") != query_id:
            continue
        if message["method"] == "query/rows":
            rows += len(params["rows"])
        if message["method"] == "query/error":
            raise RuntimeError(f"the preview failed: {params}")
        if message["method"] == "query/done":
            return rows


async def session_figures(
    api: Api, gw: GatewayProcess, project: str, settle_s: float
) -> tuple[Measure, Measure]:
    progress(f"starting a {project} session")
    session = api.open_session(project)
    try:
        root = gw.pod_pid(session["id"])
        async with await api.rpc(session["id"]) as rpc:
            await rpc.call("session/status")
            await settle(settle_s)
            idle = Measure(f"{project}: idle, before any preview", tree(root))
            progress(f"previewing in the {project} session")
            rows = await preview(rpc, PREVIEW)
            assert rows == 500, rows
            await settle(settle_s)
            after = Measure(f"{project}: idle after one {rows}-row preview", tree(root))
        print_measure(idle)
        print_measure(after)
        return idle, after
    finally:
        api.http.delete(f"/api/sessions/{session['id']}")


def _remote(path: Path) -> str:
    repo = pygit2.init_repository(path, bare=True, initial_head="main")
    index = pygit2.Index()
    for name, text in SHOP.items():
        index.add(pygit2.IndexEntry(name, repo.create_blob(text.encode()), FileMode.BLOB))
    author = pygit2.Signature("Bench", "bench@localhost")
    repo.create_commit("refs/heads/main", author, author, "shop", index.write_tree(repo), [])
    return path.as_uri()


def postgres_project(gw: GatewayProcess, api: Api, tmp: Path, warehouse_url: str) -> str:
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA raw")
        conn.execute(
            "CREATE TABLE raw.customers AS SELECT i AS id, 'customer ' || i AS name, "
            "md5(i::text) || '@example.com' AS email, DATE '2020-01-01' + i % 1000 AS since "
            "FROM generate_series(1, 50000) AS i"
        )
    database = str(psycopg.conninfo.conninfo_to_dict(warehouse_url)["dbname"])
    gw.cli("project", "add", "shop", _remote(tmp / "shop.git"))
    gw.cli("project", "connection", "shop", "--type", "postgres", "--host", "127.0.0.1",
           "--database", database)  # fmt: skip
    gw.cli("member", "add", "shop", "bench", "developer")
    response = api.http.put("/api/projects/shop/credentials", json={"user": "postgres"})
    assert response.status_code == 200, response.text
    return "shop"


# -- the baseline ------------------------------------------------------------------------


class BareServer:
    """A bare jupyter server on a Unix socket, started the same way as a pod's."""

    def __init__(self, tmp: Path, name: str) -> None:
        self.tmp, self.name = tmp, name
        self.sock = tmp / f"{name}.sock"
        self.headers = {"Authorization": "token bench"}
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> BareServer:
        tmp, name = self.tmp, self.name
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IDE_", "JUPYTER"))}
        # A plain server: none of the extensions this environment installs (collaboration,
        # file ids, terminals) that a stock Jupyter Server does not load.
        config = tmp / f"{name}-config"
        config.mkdir(exist_ok=True)
        extensions = {"jupyter_server_ydoc": False, "jupyter_server_fileid": False,
                      "jupyter_server_terminals": False}  # fmt: skip
        server = {"jpserver_extensions": extensions, "allow_remote_access": True}
        (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": server}))
        env.update(JUPYTER_TOKEN="bench", JUPYTER_RUNTIME_DIR=str(tmp / f"{name}-rt"),
                   JUPYTER_CONFIG_DIR=str(config))  # fmt: skip
        argv = [sys.executable, "-m", "jupyter_server", f"--ServerApp.sock={self.sock}",
                f"--ServerApp.root_dir={tmp}", "--ServerApp.open_browser=False",
                "--ServerApp.allow_root=True"]  # fmt: skip
        log = tmp / f"{name}.log"
        self.proc = subprocess.Popen(argv, env=env, stdout=open(log, "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        transport = httpx.AsyncHTTPTransport(uds=str(self.sock))
        self.client = httpx.AsyncClient(
            transport=transport, base_url="http://bare", headers=self.headers, timeout=60
        )
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                await self.__aexit__()
                tail = log.read_text(errors="replace")[-2000:]
                raise SystemExit(f"the bare jupyter server did not answer: {tail}")
            try:
                if (await self.client.get("/api/status")).is_success:
                    return self
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.aclose()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)

    def kernel_socket(self, kernel_id: str) -> Any:
        return websockets.unix_connect(
            str(self.sock),
            uri=f"ws://bare/api/kernels/{kernel_id}/channels",
            additional_headers=self.headers,
            max_size=None,
        )

    async def start_kernel(self) -> str:
        assert self.client is not None
        return str((await self.client.post("/api/kernels", json={"name": "python3"})).json()["id"])


async def bare_figures(tmp: Path, settle_s: float) -> tuple[Measure, Measure, Measure]:
    """A bare jupyter server (idle), with a python3 kernel (ready), after one execute."""
    progress("starting a bare jupyter server")
    async with BareServer(tmp, "bare") as bare:
        assert bare.proc is not None
        await settle(settle_s)
        idle = Measure("bare jupyter server: idle", tree(bare.proc.pid))
        progress("starting the bare server's python3 kernel")
        async with bare.kernel_socket(await bare.start_kernel()) as ws:
            await execute(ws, "kernel_info_request", {})
            await settle(settle_s)
            ready = Measure("bare jupyter server + python3 kernel: ready", tree(bare.proc.pid))
            await execute(ws, "execute_request", {"code": "1 + 1", "silent": False})
            await settle(settle_s)
            after = Measure("bare jupyter server + python3 kernel: after one execute",
                            tree(bare.proc.pid))  # fmt: skip
        return idle, ready, after


async def bare_crowd(tmp: Path, count: int, settle_s: float) -> Measure:
    """``count`` bare servers at once, each with a python3 kernel after one execute."""
    progress(f"starting {count} bare jupyter servers with a kernel each")
    async with contextlib.AsyncExitStack() as stack:
        pids = []
        for index in range(count):
            bare = await stack.enter_async_context(BareServer(tmp, f"crowd{index}"))
            ws = await stack.enter_async_context(bare.kernel_socket(await bare.start_kernel()))
            await execute(ws, "execute_request", {"code": "1 + 1", "silent": False})
            assert bare.proc is not None
            pids.append(bare.proc.pid)
        await settle(settle_s)
        procs = [p for pid in pids for p in tree(pid)]
        return Measure(f"{count} bare servers + kernels at once, after one execute", procs)


async def crowd_figures(gw: GatewayProcess, project: str, count: int, settle_s: float) -> Measure:
    """``count`` users' sessions of ``project`` at once, each after one preview: shared pages
    (the interpreter, jupyter_server, the DuckDB library) divide among them, as on a
    machine full of sessions."""
    progress(f"starting {count} {project} sessions at once")
    apis, sessions = [], []
    try:
        for index in range(count):
            user = f"crowd{index}"
            gw.cli("user", "add", user, "--password", PASSWORD)
            gw.cli("member", "add", project, user, "developer")
            api = Api(gw.url)
            api.login(user, PASSWORD)
            apis.append(api)
            sessions.append(api.open_session(project))
            async with await api.rpc(sessions[-1]["id"]) as rpc:
                assert await preview(rpc, PREVIEW) == 500
        await settle(settle_s)
        procs = [p for s in sessions for p in tree(gw.pod_pid(s["id"]))]
        return Measure(f"{project}: {count} sessions at once, after one preview each", procs)
    finally:
        for api, session in zip(apis, sessions, strict=False):
            api.http.delete(f"/api/sessions/{session['id']}")


async def execute(ws: Any, msg_type: str, content: dict[str, Any]) -> None:
    """Send one shell request over the kernel's WebSocket; wait for its reply."""
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": msg_type, "session": "bench", "username": "bench",
              "version": "5.3", "date": "2024-01-01T00:00:00Z"}  # fmt: skip
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": content,
               "channel": "shell", "buffers": []}  # fmt: skip
    await ws.send(json.dumps(message))
    reply = msg_type.replace("_request", "_reply")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if answer.get("parent_header", {}).get("msg_id") == msg_id and (
            answer["header"]["msg_type"] == reply
        ):
            return
    raise RuntimeError(f"no {reply}")


DRIVER_ALONE = """
import sys, time
kind, target, sql = sys.argv[1:4]
if kind == "duckdb":
    import duckdb
    conn = duckdb.connect(target, read_only=True)
    conn.execute(sql).fetchmany(501)
else:
    import psycopg
    conn = psycopg.connect(target)
    conn.execute(sql).fetchmany(501)
time.sleep(float(sys.argv[4]))
status = open("/proc/self/status").read()
print(int(status.split("VmRSS:")[1].split()[0]) / 1024)  # MB, as JSON
"""


def driver_alone(kind: str, target: str, settle_s: float) -> float:
    """RSS of a bare Python holding the driver, connected, after the preview's query: what
    any kernel on that warehouse weighs at least."""
    return float(run_probe(DRIVER_ALONE, kind, target, PREVIEW, str(settle_s)))


# -- the report --------------------------------------------------------------------------


def ratio(value: float, base: float) -> str:
    return f"{value / base:5.2f}x" if base else "  n/a"


def summary(
    pod_idle: Measure, pod_after: Measure, bare_idle: Measure, bare_after: Measure, alone: float
) -> None:
    name = pod_after.label.split(":")[0]
    server = pod_idle.role("pod server")
    kernel = pod_after.role("SQL kernel")
    session = pod_after.total("rss", ("pod server", "SQL kernel", "dbt worker"))
    bare_server = bare_idle.role("jupyter server")
    bare_kernel = bare_after.role("ipykernel")
    bare_session = bare_after.total("rss")
    print(f"  {name}")
    print(f"    pod server idle     RSS {server:7.1f} MB   bare server  {bare_server:7.1f} MB"
          f"   {ratio(server, bare_server)}")  # fmt: skip
    print(f"    kernel after query  RSS {kernel:7.1f} MB   bare kernel  {bare_kernel:7.1f} MB"
          f"   {ratio(kernel, bare_kernel)}   goal ≤ {KERNEL_GOAL_MB} MB: "
          f"{'met' if kernel <= KERNEL_GOAL_MB else 'missed'}")  # fmt: skip
    print(f"      the driver alone  RSS {alone:7.1f} MB   (Python, the driver, connected, the"
          f" query run)   kernel/driver {ratio(kernel, alone)}")  # fmt: skip
    print(f"    server + kernel     RSS {session:7.1f} MB   bare         {bare_session:7.1f} MB"
          f"   {ratio(session, bare_session)}   goal ≤ {SESSION_GOAL_MB} MB: "
          f"{'met' if session <= SESSION_GOAL_MB else 'missed'}")  # fmt: skip
    for label, m in (("idle, no preview yet", pod_idle), ("after one preview", pod_after)):
        pss = m.total("pss")
        print(f"    whole tree {label:<22} RSS {m.total('rss'):7.1f}  PSS {pss:7.1f} MB"
              f"   sessions per 24 GiB by PSS: {GIB_24_MB / pss:6.0f}")  # fmt: skip
    bare_pss = bare_after.total("pss")
    pss = pod_after.total("pss")
    print(f"    bare server + kernel after one execute     PSS {bare_pss:7.1f} MB"
          f"   per 24 GiB: {GIB_24_MB / bare_pss:6.0f}   session/bare by PSS "
          f"{ratio(pss, bare_pss)}")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before each measure")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--crowd", type=int, default=4, help="sessions (and bare servers) measured at once"
    )
    args = parser.parse_args()
    # A SIGTERM (a timeout, a Ctrl-C in a wrapper) still stops the gateway and its pods.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with (
        tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp_name,
        temporary_database(Path(tmp_name)) as meta_url,
        temporary_database(Path(tmp_name)) as warehouse_url,
    ):
        tmp = Path(tmp_name)
        gw = GatewayProcess(tmp / "data", meta_url)
        gw.start()
        try:
            gw.cli("user", "add", "bench", "--password", PASSWORD)
            gw.cli("member", "add", "demo", "bench", "developer")
            api = Api(gw.url)
            api.login("bench", PASSWORD)
            print("per process (MB):", flush=True)
            results = {"demo (DuckDB)": await session_figures(api, gw, "demo", args.settle)}
            demo_warehouse = str(gw.data_dir / "demo.duckdb")
            alone = {"demo (DuckDB)": driver_alone("duckdb", demo_warehouse, args.settle)}
            if not args.skip_postgres:
                shop = postgres_project(gw, api, tmp, warehouse_url)
                results["shop (PostgreSQL)"] = await session_figures(api, gw, shop, args.settle)
                alone["shop (PostgreSQL)"] = driver_alone("postgres", warehouse_url, args.settle)
            bare_idle, bare_ready, bare_after = await bare_figures(tmp, args.settle)
            for m in (bare_idle, bare_ready, bare_after):
                print_measure(m)
            crowd = crowd_figures(gw, "demo", args.crowd, args.settle) if args.crowd else None
            crowds = (
                (await crowd, await bare_crowd(tmp, args.crowd, args.settle)) if crowd else None
            )
        finally:
            gw.stop()
            gw.stop_pods()
    print("\nsummary (the pod's tree also holds bwrap and the pod's guard; the bare one neither):")
    for name, (idle, after) in results.items():
        summary(idle, after, bare_idle, bare_after, alone[name])
    if crowds:
        ours, bare = (m.total("pss") / args.crowd for m in crowds)
        print(f"  {args.crowd} at once (pages shared among them, as on a full machine)")
        print(f"    demo session      PSS per session {ours:7.1f} MB   sessions per 24 GiB:"
              f" {GIB_24_MB / ours:6.0f}")  # fmt: skip
        print(f"    bare server + kernel  PSS per pair {bare:7.1f} MB   per 24 GiB:"
              f" {GIB_24_MB / bare:6.0f}   session/bare {ratio(ours, bare)}")  # fmt: skip
    figures = {
        name: {
            "server_idle_rss": round(idle.role("pod server"), 1),
            "kernel_rss": round(after.role("SQL kernel"), 1),
            "driver_alone_rss": round(alone[name], 1),
            "tree_pss": round(after.total("pss"), 1),
            "sessions_per_24gib": round(GIB_24_MB / after.total("pss")),
        }
        for name, (idle, after) in results.items()
    }
    figures["bare"] = {
        "server_idle_rss": round(bare_idle.role("jupyter server"), 1),
        "kernel_rss": round(bare_after.role("ipykernel"), 1),
        "tree_pss": round(bare_after.total("pss"), 1),
        "sessions_per_24gib": round(GIB_24_MB / bare_after.total("pss")),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
