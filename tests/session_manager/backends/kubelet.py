"""A test "kubelet": runs each Pod of the fake cluster as a local process.

It watches Pods over the API like a node's kubelet, and for each new one: maps every
volume to a directory under its root (a PVC to ``volumes/<namespace>/<claim>``, kept; an
emptyDir to the pod's own directory), resolves the environment (``secretKeyRef`` values
from the Secret), rewrites paths under a mount to the mapped directory, and runs the
container's command, ``python`` being this interpreter (the "image" is this virtualenv).

All pods share 127.0.0.1, so each listens on a free port: the kubelet sets IDE_POD_IP and
IDE_POD_PORT for the process and writes that port into the container's ``ide`` port,
which is where the backend reads it. It then reports status like a kubelet: phase,
podIP, the Ready condition from the readiness probe, and on exit the terminated state
with the end of the log as message (FallbackToLogsOnError). Deletion is graceful: the pod
carries the kubelet's finalizer, so it disappears only after the process has ended.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client as kube_client
from kubernetes.client import ApiException

FINALIZER = "kubelet.test/process"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningPod:
    namespace: str
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    probe_path: str | None
    ready: bool = False
    finished: bool = False
    launched_at: float = field(default_factory=time.monotonic)
    ready_at: float | None = None
    env: dict[str, str] = field(default_factory=dict, repr=False)


class TestKubelet:
    __test__ = False  # not a test class, despite the name

    def __init__(self, api_url: str, root: Path) -> None:
        configuration = kube_client.Configuration()
        configuration.host = api_url
        self.core = kube_client.CoreV1Api(kube_client.ApiClient(configuration))
        self.root = root
        self.pods: dict[tuple[str, str], RunningPod] = {}
        self.started: list[tuple[str, str]] = []  # every pod ever run, in order
        self.paused = threading.Event()  # while set, new pods are left Pending
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- life ------------------------------------------------------------------------------
    def start(self) -> None:
        for target in (self._watch_loop, self._work_loop):
            thread = threading.Thread(target=target, name=f"kubelet-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for pod in list(self.pods.values()):
            self._kill(pod, grace=2)
        for thread in self._threads:
            thread.join(5)

    def pod(self, namespace: str, name: str) -> RunningPod | None:
        return self.pods.get((namespace, name))

    # -- watching --------------------------------------------------------------------------
    def _watch_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                response: Any = self.core.list_pod_for_all_namespaces(
                    watch=True, _preload_content=False, _request_timeout=(5, 5)
                )
                buffer = b""
                for chunk in response.stream(amt=None, decode_content=False):
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.strip():
                            self._events.put(json.loads(line))
                    if self._stopping.is_set():
                        break
                response.close()
            except Exception:  # noqa: BLE001 - a quiet or broken watch: watch again
                time.sleep(0.1)

    def _work_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                event = self._events.get(timeout=0.1)
            except queue.Empty:
                event = None
            try:
                if event is not None:
                    self._handle(event)
                self._tick()
            except Exception as exc:  # noqa: BLE001 - keep the node alive, say why
                print(f"test kubelet: {type(exc).__name__}: {exc}", file=sys.stderr)

    def _handle(self, event: dict[str, Any]) -> None:
        pod = event["object"]
        meta = pod.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        if event["type"] == "DELETED":
            self._forget(key)
        elif meta.get("deletionTimestamp"):
            self._forget(key)
            self._patch(key, {"metadata": {"finalizers": None}})
        elif key not in self.pods and not (pod.get("status") or {}).get("phase"):
            if not self.paused.is_set():
                self._launch(key, pod)

    def _forget(self, key: tuple[str, str]) -> None:
        running = self.pods.pop(key, None)
        if running is not None:
            self._kill(running, grace=10)

    # -- running a pod ---------------------------------------------------------------------
    def _launch(self, key: tuple[str, str], pod: dict[str, Any]) -> None:
        namespace, name = key
        container = pod["spec"]["containers"][0]
        mounts = self._mounts(namespace, name, pod)
        try:
            env = self._environment(namespace, container, mounts)
        except LookupError as exc:
            self._patch_status(key, _waiting("CreateContainerConfigError", str(exc)))
            return
        port = free_port()
        env.update(IDE_POD_IP="127.0.0.1", IDE_POD_PORT=str(port))
        command = [sys.executable if c == "python" else c for c in container["command"]]
        log = self.root / "logs" / f"{namespace}-{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=str(mounts.get("/tmp", self.root)),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        probe = ((container.get("readinessProbe") or {}).get("httpGet") or {}).get("path")
        self.pods[key] = RunningPod(namespace, name, process, port, log, probe, env=env)
        self.started.append(key)
        containers = [dict(c) for c in pod["spec"]["containers"]]
        containers[0]["ports"] = [
            {**p, "containerPort": port} if p.get("name") == "ide" else p
            for p in containers[0].get("ports") or []
        ]
        body = {"metadata": {"finalizers": [FINALIZER]}, "spec": {"containers": containers}}
        if not self._patch(key, body):
            self._forget(key)
            return
        self._patch_status(key, _running(ready=False))

    def _mounts(self, namespace: str, name: str, pod: dict[str, Any]) -> dict[str, Path]:
        """mountPath -> the directory standing in for the volume."""
        sources: dict[str, Path] = {}
        for volume in pod["spec"].get("volumes") or []:
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                sources[volume["name"]] = self.root / "volumes" / namespace / claim
            else:
                sources[volume["name"]] = self.root / "pods" / namespace / name / volume["name"]
        mounts = {}
        for mount in pod["spec"]["containers"][0].get("volumeMounts") or []:
            path = sources[mount["name"]]
            path.mkdir(parents=True, exist_ok=True)
            mounts[mount["mountPath"]] = path
        return mounts

    def _environment(
        self, namespace: str, container: dict[str, Any], mounts: dict[str, Path]
    ) -> dict[str, str]:
        # Like a container, the process sees only its own settings (plus what Python needs).
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = _map_path(item["value"], mounts)
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                env[item["name"]] = self._secret_value(namespace, ref["name"], ref["key"])
        return env

    def _secret_value(self, namespace: str, secret: str, key: str) -> str:
        try:
            body: Any = self.core.read_namespaced_secret(secret, namespace)
        except ApiException as exc:
            raise LookupError(f'secret "{secret}" not found') from exc
        data = body.data or {}
        if key not in data:
            raise LookupError(f"couldn't find key {key} in Secret {namespace}/{secret}")
        return base64.b64decode(data[key]).decode()

    # -- status ----------------------------------------------------------------------------
    def _tick(self) -> None:
        for key, pod in list(self.pods.items()):
            if pod.finished:
                continue
            code = pod.process.poll()
            if code is not None:
                pod.finished = True
                self._patch_status(key, _terminated(code, _tail(pod.log)))
            elif not pod.ready and self._probe(pod):
                pod.ready = True
                pod.ready_at = time.monotonic()
                self._patch_status(key, _running(ready=True, ip="127.0.0.1"))

    def _probe(self, pod: RunningPod) -> bool:
        if pod.probe_path is None:
            return True
        try:
            url = f"http://127.0.0.1:{pod.port}{pod.probe_path}"
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def _patch(self, key: tuple[str, str], body: dict[str, Any]) -> bool:
        try:
            self.core.patch_namespaced_pod(key[1], key[0], body, _preload_content=False)
        except ApiException:
            return False  # deleted meanwhile
        return True

    def _patch_status(self, key: tuple[str, str], status: dict[str, Any]) -> None:
        try:
            self.core.patch_namespaced_pod_status(
                key[1], key[0], {"status": status}, _preload_content=False
            )
        except ApiException:
            pass

    def _kill(self, pod: RunningPod, grace: float) -> None:
        try:
            os.killpg(pod.process.pid, signal.SIGTERM)
            pod.process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(pod.process.pid, signal.SIGKILL)
            pod.process.wait()
        except ProcessLookupError:
            pass


def _map_path(value: str, mounts: dict[str, Path]) -> str:
    for mount_path, directory in mounts.items():
        if value == mount_path or value.startswith(mount_path.rstrip("/") + "/"):
            return str(directory) + value[len(mount_path) :]
    return value


def _tail(log: Path, lines: int = 10) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def _conditions(scheduled: bool, ready: bool) -> list[dict[str, str]]:
    return [
        {"type": "PodScheduled", "status": "True" if scheduled else "False"},
        {"type": "Ready", "status": "True" if ready else "False"},
    ]


def _running(ready: bool, ip: str = "127.0.0.1") -> dict[str, Any]:
    return {
        "phase": "Running",
        "podIP": ip,
        "conditions": _conditions(True, ready),
        "containerStatuses": [_container_status(ready, {"running": {}})],
    }


def _waiting(reason: str, message: str) -> dict[str, Any]:
    return {
        "phase": "Pending",
        "conditions": _conditions(True, False),
        "containerStatuses": [
            {
                "name": "ide",
                "ready": False,
                "state": {"waiting": {"reason": reason, "message": message}},
            }
        ],
    }


def _terminated(code: int, message: str) -> dict[str, Any]:
    reason = "Completed" if code == 0 else "Error"
    return {
        "phase": "Succeeded" if code == 0 else "Failed",
        "conditions": _conditions(True, False),
        "containerStatuses": [
            _container_status(
                False, {"terminated": {"exitCode": code, "reason": reason, "message": message}}
            )
        ],
    }


def _container_status(ready: bool, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "ide",
        "ready": ready,
        "restartCount": 0,
        "image": "ide-server-pod:test",
        "imageID": "local://this-virtualenv",
        "state": state,
    }
