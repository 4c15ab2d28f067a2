"""Fixtures for the Kubernetes backend: a fake API server, a test kubelet, backends on them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ide_server.config import load_config
from ide_server.demo.remote import create_demo_remote
from ide_server.podenv import PodEnv
from session_manager.backends.base import PodSpec
from session_manager.backends.kubernetes import KubernetesBackend

from .cluster import FakeCluster
from .harness import Harness, KubeHarness, LocalHarness
from .kubelet import TestKubelet


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeCluster]:
    fake = FakeCluster(tmp_path_factory.mktemp("apiserver"))
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def kubelet(
    cluster: FakeCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestKubelet]:
    node = TestKubelet(cluster.url, tmp_path_factory.mktemp("node"))
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def demo_remote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_demo_remote(tmp_path_factory.mktemp("remote"))


@pytest.fixture
def namespace() -> str:
    """Each test has a namespace of its own on the shared fake cluster."""
    return f"t-{secrets.token_hex(4)}"


BackendFactory = Callable[..., KubernetesBackend]


@pytest.fixture
async def make_backend(
    cluster: FakeCluster, kubelet: TestKubelet, namespace: str
) -> AsyncIterator[BackendFactory]:
    made: list[KubernetesBackend] = []

    def make(**settings: Any) -> KubernetesBackend:
        values = {
            "kube_config": str(cluster.kubeconfig(namespace)),
            "kube_storage_class": "fast-ssd",
            "kube_volume_size": "2Gi",
            "kube_api_attempts": 4,
            "kube_api_timeout": 10,
            **settings,
        }
        backend = KubernetesBackend.from_config(load_config(values, env={}))
        made.append(backend)
        return backend

    yield make
    for backend in made:
        await backend.close()


@pytest.fixture
def pod_spec(demo_remote: Path) -> Callable[..., PodSpec]:
    def spec(user: str = "erin", project: str = "demo", **settings: Any) -> PodSpec:
        session_id = secrets.token_hex(16)
        pod_env = PodEnv(
            git_url=demo_remote.as_uri(),
            default_branch="main",
            git_token="git-token-" + secrets.token_hex(8),
            warehouse={"type": "duckdb", "password": "warehouse-password"},
            save_delay=0.3,
        ).replace(**settings)
        return PodSpec(
            session_id,
            user,
            project,
            f"/sessions/{session_id}/",
            secrets.token_urlsafe(24),
            pod_env,
        )

    return spec


@pytest.fixture(params=["local", "kubernetes"])
def harness(request: pytest.FixtureRequest) -> Harness:
    """The backend a gateway-level test runs on; the fake cluster starts only when needed."""
    if request.param == "local":
        return LocalHarness()
    return KubeHarness(
        request.getfixturevalue("cluster"),
        request.getfixturevalue("kubelet"),
        request.getfixturevalue("namespace"),
    )
