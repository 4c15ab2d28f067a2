"""The pod reflector: first sync before trust, follows the watch, resyncs, backs off."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import pytest
from kubernetes import client as kube_client

from session_manager.backends.k8s_objects import SELECTOR
from session_manager.backends.k8s_reflector import PodReflector

from .cluster import FakeCluster


@pytest.fixture
def core(cluster: FakeCluster) -> kube_client.CoreV1Api:
    configuration = kube_client.Configuration()
    configuration.host = cluster.url
    return kube_client.CoreV1Api(kube_client.ApiClient(configuration))


@pytest.fixture
async def reflector(
    core: kube_client.CoreV1Api, namespace: str
) -> AsyncIterator[Callable[..., PodReflector]]:
    made: list[PodReflector] = []

    def make(**options: float) -> PodReflector:
        made.append(PodReflector(core, namespace, SELECTOR, request_timeout=5, **options))
        made[-1].start()
        return made[-1]

    yield make
    for r in made:
        await r.stop()


def _pod(namespace: str, name: str, labelled: bool = True) -> dict:
    labels = {
        "app.kubernetes.io/managed-by": "ide-server",
        "app.kubernetes.io/component": "session",
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels if labelled else {}},
        "spec": {"containers": [{"name": "ide", "image": "none"}]},
        # A phase already set: the test kubelet leaves it alone.
        "status": {"phase": "Running"},
    }


async def _until(predicate: Callable[[], bool], reflector: PodReflector, within: float) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < within, "the reflector never caught up"
        await reflector.wait_changed(0.2)
    return time.monotonic() - started


async def test_first_sync_waits_out_errors_then_follows_the_watch(
    reflector, core, cluster: FakeCluster, namespace: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/pods"
    cluster.script("GET", path, 500, times=3)
    pods = reflector()
    assert not pods.synced
    assert await pods.wait_synced(15)
    assert cluster.requests("GET", path) >= 4
    assert pods.healthy and pods.pods() == []

    core.create_namespaced_pod(namespace, _pod(namespace, "a"), _preload_content=False)
    core.create_namespaced_pod(namespace, _pod(namespace, "foreign", False), _preload_content=False)
    await _until(lambda: pods.get("a") is not None, pods, 5)
    core.patch_namespaced_pod(
        "a", namespace, {"status": {"podIP": "10.0.0.7"}}, _preload_content=False
    )
    await _until(
        lambda: (pods.get("a") or {}).get("status", {}).get("podIP") == "10.0.0.7", pods, 5
    )
    core.delete_namespaced_pod("a", namespace, _preload_content=False)
    await _until(lambda: pods.get("a") is None, pods, 5)
    assert pods.get("foreign") is None, "pods outside the selector stay out of the copy"


async def test_a_resync_drops_what_a_lost_event_left_behind(
    reflector, core, cluster: FakeCluster, namespace: str
) -> None:
    pods = reflector(resync=2)
    assert await pods.wait_synced(5)
    core.create_namespaced_pod(namespace, _pod(namespace, "lost"), _preload_content=False)
    await _until(lambda: pods.get("lost") is not None, pods, 5)
    cluster.forget("pods", namespace, "lost")  # deleted, and no watch is told
    assert pods.get("lost") is not None
    waited = await _until(lambda: pods.get("lost") is None, pods, 10)
    assert waited < 6


async def test_stop_returns_promptly_during_a_quiet_watch(reflector, namespace: str) -> None:
    pods = reflector(resync=300)
    assert await pods.wait_synced(5)
    started = time.monotonic()
    await pods.stop()
    assert time.monotonic() - started < 3
