"""API failures: conflicts and server errors are retried with backoff; what persists, or
what no retry can fix, becomes an error a person can act on, and leaves nothing behind."""

from __future__ import annotations

import time

import pytest

from session_manager.backends.base import BackendError
from session_manager.backends.k8s_objects import claim_name

from .cluster import FakeCluster
from .test_kube_sessions import Progress


def _paths(namespace: str, spec) -> dict[str, str]:
    base = f"/api/v1/namespaces/{namespace}"
    return {
        "claim": f"{base}/persistentvolumeclaims/{claim_name(spec.user, spec.project)}",
        "secrets": f"{base}/secrets",
        "pods": f"{base}/pods",
    }


async def test_conflicts_and_server_errors_are_retried(
    make_backend, pod_spec, cluster: FakeCluster, namespace: str
) -> None:
    backend = make_backend()
    spec = pod_spec()
    paths = _paths(namespace, spec)
    cluster.script("GET", paths["claim"], 500, times=2)
    cluster.script("POST", paths["secrets"], 409, times=1, reason="Conflict")
    cluster.script("POST", paths["pods"], 503, times=1)
    started = time.monotonic()
    await backend.start(spec, Progress())
    assert cluster.requests("GET", paths["claim"]) == 3
    # The emulator applies a create even when it answers with an error, as a real server
    # may when its answer is lost. A 409 on create is checked against what exists: our own
    # object is adopted; the 503'd create is retried, meets its object and adopts it.
    secret_path = f"{paths['secrets']}/ide-{spec.session_id}"
    assert cluster.requests("POST", paths["secrets"]) == 1
    assert cluster.requests("GET", secret_path) >= 1  # ours, then the kubelet's
    assert cluster.requests("POST", paths["pods"]) == 2
    assert len(cluster.objects("pods", namespace)) == 1
    pod_path = f"{paths['pods']}/ide-{spec.session_id}"
    cluster.script("DELETE", pod_path, 500, times=2)
    cluster.script("DELETE", secret_path, 409, times=1, reason="Conflict")
    await backend.stop(spec.session_id)
    # At least one scripted 500 was answered and retried until the delete went through.
    # Not "== 3": now and then the emulator answers only the first of two scripted errors
    # (its slice of "the next requests" is counted while a request is in flight).
    assert cluster.requests("DELETE", pod_path) >= 2
    assert cluster.requests("DELETE", secret_path) == 2
    assert cluster.objects("pods", namespace) == {}
    assert time.monotonic() - started < 60


async def test_a_persistent_failure_is_a_clear_error(
    make_backend, pod_spec, cluster: FakeCluster, namespace: str
) -> None:
    backend = make_backend()
    spec = pod_spec()
    paths = _paths(namespace, spec)
    cluster.script("GET", paths["claim"], 503, times=10)
    started = time.monotonic()
    with pytest.raises(BackendError) as failure:
        await backend.start(spec, Progress())
    message = str(failure.value)
    assert f"could not read persistentvolumeclaims {claim_name(spec.user, spec.project)}" in message
    assert f"in namespace {namespace}: 503" in message and "after 4 attempts" in message
    assert "check that the Kubernetes API server is reachable" in message
    assert cluster.requests("GET", paths["claim"]) == 4
    assert 0.3 < time.monotonic() - started < 30  # backed off, within bounds
    assert cluster.objects("pods", namespace) == {}
    assert cluster.objects("secrets", namespace) == {}


async def test_forbidden_is_not_retried_and_names_the_role(
    make_backend, pod_spec, cluster: FakeCluster, namespace: str
) -> None:
    backend = make_backend()
    spec = pod_spec()
    paths = _paths(namespace, spec)
    cluster.script("GET", paths["claim"], 403, times=1, reason="Forbidden")
    with pytest.raises(BackendError, match="ServiceAccount the Role in deploy/"):
        await backend.start(spec, Progress())
    assert cluster.requests("GET", paths["claim"]) == 1


async def test_an_unreachable_api_server_is_a_clear_error(make_backend, pod_spec, tmp_path) -> None:
    kubeconfig = tmp_path / "kubeconfig.json"
    kubeconfig.write_text(
        '{"apiVersion": "v1", "kind": "Config", "current-context": "gone",'
        ' "clusters": [{"name": "gone", "cluster": {"server": "http://127.0.0.1:9"}}],'
        ' "users": [{"name": "u", "user": {"token": "t"}}],'
        ' "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}]}'
    )
    backend = make_backend(kube_config=str(kubeconfig), kube_api_attempts=2, kube_api_timeout=2)
    with pytest.raises(BackendError, match="no answer from the API server"):
        await backend.start(pod_spec(), Progress())


async def test_a_missing_kubeconfig_says_which_setting_to_fix(make_backend, tmp_path) -> None:
    backend = make_backend(kube_config=str(tmp_path / "absent"))
    with pytest.raises(BackendError, match="IDE_KUBE_CONFIG"):
        await backend.list_pods()
