"""The Kubernetes backend end to end: the real client, a fake API server, a test kubelet."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import pytest
import websockets

from session_manager.backends.base import BackendError, PodSpec
from session_manager.backends.k8s_objects import claim_name, pod_name, secret_name

from .cluster import FakeCluster
from .kubelet import TestKubelet


class Progress:
    def __init__(self) -> None:
        self.lines: list[str] = []

    async def __call__(self, line: str) -> None:
        self.lines.append(line)


async def rpc(endpoint: str, spec: PodSpec, method: str, params: dict[str, Any]) -> Any:
    """One IDE call straight to the pod, authenticated with the pod's own token."""
    url = endpoint.replace("http://", "ws://") + f"{spec.base_url}ide"
    # As the gateway does: the pod treats a caller with no role as read-only.
    headers = {"Authorization": f"token {spec.token}", "X-IDE-Role": "developer"}
    async with websockets.connect(url, additional_headers=headers) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("id") == 1:
                assert "result" in reply, reply
                return reply["result"]


async def test_start_edit_stop_start_keeps_the_volume(
    make_backend, pod_spec, cluster: FakeCluster, kubelet: TestKubelet, namespace: str
) -> None:
    backend = make_backend()
    first = pod_spec()
    progress = Progress()
    endpoint = await backend.start(first, progress)
    assert endpoint == f"http://127.0.0.1:{kubelet.pod(namespace, pod_name(first.session_id)).port}"
    assert progress.lines[:2] == ["creating your volume", "creating the pod"]
    assert "cloning the project into your volume" in progress.lines
    await rpc(endpoint, first, "fs/write", {"path": "models/kept.sql", "content": "select 'kept'"})

    await backend.stop(first.session_id)
    assert pod_name(first.session_id) not in cluster.objects("pods", namespace)
    assert secret_name(first.session_id) not in cluster.objects("secrets", namespace)
    assert claim_name("erin", "demo") in cluster.objects("persistentvolumeclaims", namespace)
    assert kubelet.pod(namespace, pod_name(first.session_id)) is None, "process still running"

    second = pod_spec()
    progress = Progress()
    endpoint = await backend.start(second, progress)
    assert progress.lines[:2] == ["attaching your volume", "creating the pod"]
    read = await rpc(endpoint, second, "fs/read", {"path": "models/kept.sql"})
    assert read["content"] == "select 'kept'"
    await backend.stop(second.session_id)
    await backend.stop(second.session_id)  # idempotent


async def test_credentials_reach_the_pod_only_through_its_secret(
    make_backend, pod_spec, cluster: FakeCluster, kubelet: TestKubelet, namespace: str
) -> None:
    backend = make_backend()
    spec = pod_spec(user="Ana María", project="Sales Models")
    await backend.start(spec, Progress())
    name = pod_name(spec.session_id)
    pod = cluster.objects("pods", namespace)[name]

    dumped = json.dumps(pod)
    for secret in (spec.token, spec.env.git_token, "warehouse-password"):
        assert secret not in dumped
    secret = cluster.objects("secrets", namespace)[secret_name(spec.session_id)]
    values = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert values["JUPYTER_TOKEN"] == spec.token
    assert values["IDE_POD_GIT_TOKEN"] == spec.env.git_token
    assert "warehouse-password" in values["IDE_POD_WAREHOUSE"]
    running = kubelet.pod(namespace, name)
    assert running is not None and running.env["JUPYTER_TOKEN"] == spec.token

    labels = pod["metadata"]["labels"]
    assert labels["ide-server/session"] == spec.session_id
    assert labels["ide-server/user"].startswith("Ana-Mar")
    assert pod["metadata"]["annotations"]["ide-server/user"] == "Ana María"
    container = pod["spec"]["containers"][0]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["limits"]["memory"] == "2Gi"
    assert container["readinessProbe"]["httpGet"]["path"] == f"{spec.base_url}ide/health"
    claim = cluster.objects("persistentvolumeclaims", namespace)[
        claim_name("Ana María", "Sales Models")
    ]
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    await backend.stop(spec.session_id)


async def test_a_restarted_gateway_lists_polls_and_stops_the_running_pods(
    make_backend, pod_spec, cluster: FakeCluster, namespace: str
) -> None:
    before = make_backend()
    erin, finn = pod_spec(user="erin"), pod_spec(user="finn")
    endpoints = await asyncio.gather(before.start(erin, Progress()), before.start(finn, Progress()))
    await before.close()

    after = make_backend()  # a new gateway process: nothing in memory
    pods = {p.session_id: p for p in await after.list_pods()}
    assert set(pods) == {erin.session_id, finn.session_id}
    assert pods[erin.session_id].running and pods[erin.session_id].user == "erin"
    assert {pods[erin.session_id].endpoint, pods[finn.session_id].endpoint} == set(endpoints)
    assert await after.poll(finn.session_id)
    # What reconcile does with a pod no row owns:
    await after.stop(finn.session_id)
    assert not await after.poll(finn.session_id)
    assert [p.session_id for p in await after.list_pods()] == [erin.session_id]
    await rpc(pods[erin.session_id].endpoint, erin, "fs/list", {"path": ""})
    await after.stop(erin.session_id)
    assert await after.list_pods() == []

    await after.delete_volume("finn", "demo")
    claims = cluster.objects("persistentvolumeclaims", namespace)
    assert claim_name("finn", "demo") not in claims and claim_name("erin", "demo") in claims


async def test_a_pod_that_exits_during_start_fails_with_its_log(
    make_backend, pod_spec, cluster: FakeCluster, namespace: str, tmp_path
) -> None:
    backend = make_backend()
    spec = pod_spec(git_url=(tmp_path / "no-such-remote.git").as_uri())
    started = time.monotonic()
    with pytest.raises(BackendError, match="exited during start") as failure:
        await backend.start(spec, Progress())
    assert time.monotonic() - started < 30
    assert "no-such-remote" in str(failure.value) or "clone" in str(failure.value).lower()
    assert cluster.objects("pods", namespace) == {}
    assert cluster.objects("secrets", namespace) == {}


async def test_a_cancelled_start_leaves_nothing_behind(
    make_backend, pod_spec, cluster: FakeCluster, kubelet: TestKubelet, namespace: str
) -> None:
    backend = make_backend()
    spec = pod_spec()
    kubelet.paused.set()  # the pod stays Pending, as on a full cluster
    try:
        progress = Progress()
        start = asyncio.ensure_future(backend.start(spec, progress))
        deadline = time.monotonic() + 10
        while pod_name(spec.session_id) not in cluster.objects("pods", namespace):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        start.cancel()
        with pytest.raises(asyncio.CancelledError):
            await start
        deadline = time.monotonic() + 10
        while cluster.objects("pods", namespace) or cluster.objects("secrets", namespace):
            assert time.monotonic() < deadline, "the cancelled start left objects behind"
            await asyncio.sleep(0.1)
        assert "waiting for the pod to be scheduled" in progress.lines
    finally:
        kubelet.paused.clear()
