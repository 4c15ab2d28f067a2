"""The Kubernetes backend end to end: the real client, a fake API server, a test kubelet."""

from __future__ import annotations

import json
import time

import websockets

from session_manager.backends.k8s_objects import claim_name, pod_name, secret_name

from .cluster import FakeCluster
from .kubelet import TestKubelet


class Progress:
    def __init__(self) -> None:
        self.lines: list[str] = []

    async def __call__(self, line: str) -> None:
        self.lines.append(line)


async def rpc(endpoint: str, spec, method: str, params: dict) -> dict:
    url = endpoint.replace("http://", "ws://") + f"{spec.base_url}ide"
    headers = {"Authorization": f"token {spec.token}"}
    async with websockets.connect(url, additional_headers=headers) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("id") == 1:
                return reply


async def test_start_edit_stop_start_keeps_the_volume(
    make_backend, pod_spec, cluster: FakeCluster, kubelet: TestKubelet, namespace: str
) -> None:
    backend = make_backend()
    first = pod_spec()
    progress = Progress()
    started = time.monotonic()
    endpoint = await backend.start(first, progress)
    print("start took", time.monotonic() - started, progress.lines)
    assert endpoint.startswith("http://127.0.0.1:")
    written = await rpc(
        endpoint, first, "fs/write", {"path": "models/kept.sql", "content": "select 'kept'"}
    )
    assert "result" in written, written
    await backend.stop(first.session_id)
    assert pod_name(first.session_id) not in cluster.objects("pods", namespace)
    assert secret_name(first.session_id) not in cluster.objects("secrets", namespace)
    assert claim_name("erin", "demo") in cluster.objects("persistentvolumeclaims", namespace)

    second = pod_spec()
    endpoint = await backend.start(second, Progress())
    read = await rpc(endpoint, second, "fs/read", {"path": "models/kept.sql"})
    assert read["result"]["content"] == "select 'kept'"
    await backend.stop(second.session_id)
