"""A Kubernetes API for tests: kmock's KubernetesEmulator over HTTP on loopback.

The emulator runs in a thread with its own event loop, so that blocking clients (the real
``kubernetes`` client in the backend, the test kubelet, a gateway in another process) all
reach it over HTTP like a real API server. Scripted answers (a 409, a 500) are added with
``script``, which runs in the emulator's loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import kmock

T = TypeVar("T")

RESOURCES = ("v1/pods", "v1/secrets", "v1/persistentvolumeclaims")


class FakeCluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._emulator: kmock.KubernetesEmulator | None = None
        self._ready = threading.Event()
        self._done: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fake-apiserver", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None or not self.url:
            raise RuntimeError(f"the fake API server did not start: {self._error}")

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator) as server:
            for resource in RESOURCES:
                # Declared, so that listing a kind with no objects yet answers [] and not 404.
                emulator.resources[resource] = {"namespaced": True}
            self._emulator = emulator
            self._loop = asyncio.get_running_loop()
            self._done = asyncio.Event()
            self.url = str(server.url).rstrip("/")
            self._ready.set()
            await self._done.wait()

    def stop(self) -> None:
        if self._loop is not None and self._done is not None:
            self._loop.call_soon_threadsafe(self._done.set)
        if self._thread is not None:
            self._thread.join(10)

    # -- reaching into the emulator --------------------------------------------------------
    def run(self, fn: Callable[[kmock.KubernetesEmulator], T]) -> T:
        """Call ``fn(emulator)`` in the emulator's own loop and return its result."""
        assert self._loop is not None and self._emulator is not None
        emulator = self._emulator

        async def call() -> T:
            return fn(emulator)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(10)

    def script(self, method: str, path: str, status: int, times: int, reason: str = "") -> None:
        """Answer the next ``times`` requests ``method path`` with ``status`` (a Status body)."""
        body = {
            "apiVersion": "v1",
            "kind": "Status",
            "status": "Failure",
            "code": status,
            "reason": reason or "Scripted",
            "message": f"scripted {status} from the test",
        }

        def add(k: kmock.KubernetesEmulator) -> None:
            view = k[f"{method.lower()} {path}"]
            start = len(view)  # the slice counts matching requests since the server started
            view[start : start + times] << status << body

        self.run(add)

    def requests(self, method: str, path: str) -> int:
        """How many ``method path`` requests the server has answered."""
        return self.run(lambda k: len(k[f"{method.lower()} {path}"]))

    def objects(self, plural: str, namespace: str) -> dict[str, dict[str, Any]]:
        """The live objects of a kind in a namespace, by name."""

        def read(k: kmock.KubernetesEmulator) -> dict[str, dict[str, Any]]:
            found = {}
            for (resource, ns, name), obj in k.objects.items():
                if resource.plural == plural and ns == namespace and not obj.deleted:
                    found[name] = json.loads(json.dumps(obj.raw))
            return found

        return self.run(read)

    def forget(self, plural: str, namespace: str, name: str) -> None:
        """Remove an object without telling any watch: what a lost event looks like."""

        def drop(k: kmock.KubernetesEmulator) -> None:
            for key in list(k.objects.keys()):
                resource, ns, obj_name = key
                if resource.plural == plural and ns == namespace and obj_name == name:
                    k.objects[key].delete()

        self.run(drop)

    def kubeconfig(self, namespace: str) -> Path:
        """A kubeconfig whose current context points at this server and ``namespace``."""
        path = self.root / f"kubeconfig-{namespace}.json"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "fake-token"}}],
            "contexts": [
                {
                    "name": "fake",
                    "context": {"cluster": "fake", "user": "tester", "namespace": namespace},
                }
            ],
            "current-context": "fake",
        }
        path.write_text(json.dumps(config))
        return path
