"""The gateway on the Kubernetes backend: the local backend's end-to-end checks, over the
fake API server and the test kubelet (pods outlive the gateway, as on a cluster)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from session_manager.backends.k8s_objects import claim_name, pod_name
from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess
from tests.support.pg import temporary_database

from .cluster import FakeCluster
from .kubelet import TestKubelet


class KubeGateway(GatewayProcess):
    """``ide-server serve`` with IDE_SESSION_BACKEND=kubernetes against the fake cluster."""

    def __init__(self, data_dir: Path, database_url: str, kubeconfig: Path) -> None:
        super().__init__(data_dir, database_url, demo="true", session_backend="kubernetes")
        self.kubeconfig = kubeconfig

    def env(self) -> dict[str, str]:
        env = super().env()
        # The client's own variable, and the setting (once the settings table has it).
        env.update(KUBECONFIG=str(self.kubeconfig), IDE_KUBE_CONFIG=str(self.kubeconfig))
        return env


@pytest.fixture
def kube_gateway(
    tmp_path: Path, cluster: FakeCluster, kubelet: TestKubelet, namespace: str
) -> Iterator[KubeGateway]:
    with temporary_database(tmp_path) as url:
        gw = KubeGateway(tmp_path / "data", url, cluster.kubeconfig(namespace))
        gw.start()
        gw.cli("user", "add", "erin", "--password", PASSWORD)
        gw.cli("member", "add", "demo", "erin", "developer")
        yield gw
        gw.stop()


def _login(gw: GatewayProcess) -> Api:
    api = Api(gw.url)
    assert api.login("erin", PASSWORD).status_code == 200
    return api


async def test_stop_keeps_the_volume_and_the_next_pod_sees_the_files(
    kube_gateway: KubeGateway, cluster: FakeCluster, namespace: str
) -> None:
    api = _login(kube_gateway)
    first = api.open_session()
    async with await api.rpc(first["id"]) as rpc:
        await rpc.call("fs/write", {"path": "models/kept.sql", "content": "select 'kept'"})
    stopped = api.http.delete(f"/api/sessions/{first['id']}").json()
    assert stopped["state"] == "stopped"
    assert cluster.objects("pods", namespace) == {}
    assert cluster.objects("secrets", namespace) == {}
    assert claim_name("erin", "demo") in cluster.objects("persistentvolumeclaims", namespace)
    second = api.open_session()
    async with await api.rpc(second["id"]) as rpc:
        read = await rpc.call("fs/read", {"path": "models/kept.sql"})
        assert read["content"] == "select 'kept'"


async def test_gateway_killed_and_restarted_adopts_the_running_pod(
    kube_gateway: KubeGateway, kubelet: TestKubelet, namespace: str
) -> None:
    api = _login(kube_gateway)
    session = api.open_session()
    pod = kubelet.pod(namespace, pod_name(session["id"]))
    assert pod is not None
    async with await api.rpc(session["id"]) as rpc:
        await rpc.call("fs/write", {"path": "models/adopt.sql", "content": "select 1"})
    kube_gateway.kill()
    kube_gateway.start()
    again = api.http.get(f"/api/sessions/{session['id']}")
    assert again.status_code == 200 and again.json()["state"] == "ready"
    assert kubelet.pod(namespace, pod_name(session["id"])) is pod, "the same pod, not a new one"
    async with await api.rpc(session["id"]) as rpc:
        assert (await rpc.call("fs/read", {"path": "models/adopt.sql"}))["content"] == "select 1"


async def test_orphan_pods_are_removed_at_start(
    kube_gateway: KubeGateway, cluster: FakeCluster, namespace: str
) -> None:
    api = _login(kube_gateway)
    session = api.open_session()
    kube_gateway.kill()
    with psycopg.connect(kube_gateway.database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM sessions WHERE id = %s", (session["id"],))
    kube_gateway.start()
    deadline = time.monotonic() + 30
    while cluster.objects("pods", namespace):
        assert time.monotonic() < deadline, "orphan pod still there"
        time.sleep(0.2)
    assert cluster.objects("secrets", namespace) == {}


async def test_a_pod_that_dies_is_noticed_and_replaced_on_the_same_volume(
    kube_gateway: KubeGateway, kubelet: TestKubelet, namespace: str
) -> None:
    api = _login(kube_gateway)
    session = api.open_session()
    async with await api.rpc(session["id"]) as rpc:
        await rpc.call("fs/write", {"path": "models/survives.sql", "content": "select 2"})
    pod = kubelet.pod(namespace, pod_name(session["id"]))
    assert pod is not None
    os.killpg(pod.process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while api.http.get(f"/api/sessions/{session['id']}").json()["state"] != "stopped":
        api.http.put(f"/sessions/{session['id']}/api/collaboration/session/x", json={})
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert api.http.get(f"/api/sessions/{session['id']}").json()["reason"] == "pod exited"
    fresh = api.open_session()
    async with await api.rpc(fresh["id"]) as rpc:
        assert (await rpc.call("fs/read", {"path": "models/survives.sql"}))["content"] == "select 2"
