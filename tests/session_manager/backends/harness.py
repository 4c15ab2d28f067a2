"""One gateway-level suite, two backends: what a test needs to know about where pods run.

A test asks the harness for a gateway and, when it must look behind the API, for a pod's
process, its volume directory, whether the pod exists. ``LocalHarness`` answers for child
processes on this machine, ``KubeHarness`` for Pods on the fake cluster run by the test
kubelet. Use it through the ``harness`` fixture (tests/session_manager/backends/conftest.py),
parametrized over both.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from session_manager.backends.k8s_objects import claim_name, pod_name
from tests.support.gateway import GatewayProcess

from .cluster import FakeCluster
from .kubelet import TestKubelet


class KubeGateway(GatewayProcess):
    """``ide-server serve`` with IDE_SESSION_BACKEND=kubernetes against the fake cluster."""

    def __init__(
        self, data_dir: Path, database_url: str, kubeconfig: Path, **settings: str
    ) -> None:
        super().__init__(data_dir, database_url, session_backend="kubernetes", **settings)
        self.kubeconfig = kubeconfig

    def env(self) -> dict[str, str]:
        env = super().env()
        # The client's own variable, and the setting (once the settings table has it).
        env.update(KUBECONFIG=str(self.kubeconfig), IDE_KUBE_CONFIG=str(self.kubeconfig))
        return env


class LocalHarness:
    name = "local"

    def gateway(self, data_dir: Path, database_url: str, **settings: str) -> GatewayProcess:
        return GatewayProcess(data_dir, database_url, **settings)

    def pod_pid(self, gw: GatewayProcess, session_id: str) -> int:
        return gw.pod_pid(session_id)

    def volume(self, gw: GatewayProcess, user: str, project: str) -> Path:
        return gw.data_dir / "volumes" / user / project

    def pod_exists(self, gw: GatewayProcess, session_id: str) -> bool:
        try:
            record = json.loads((gw.runtime_dir(session_id) / "pod.json").read_text())
            stat = Path(f"/proc/{record['pid']}/stat").read_text()
        except (OSError, ValueError, KeyError):
            return False
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"

    def kill_pod(self, gw: GatewayProcess, session_id: str) -> None:
        # The whole process group: the recorded pid is the sandbox's bwrap, and the pod
        # inside (its own PID namespace) outlives bwrap alone.
        os.killpg(gw.pod_pid(session_id), signal.SIGKILL)

    def close(self, gw: GatewayProcess) -> None:
        gw.stop()
        gw.stop_pods()


class KubeHarness:
    name = "kubernetes"

    def __init__(self, cluster: FakeCluster, kubelet: TestKubelet, namespace: str) -> None:
        self.cluster = cluster
        self.kubelet = kubelet
        self.namespace = namespace

    def gateway(self, data_dir: Path, database_url: str, **settings: str) -> GatewayProcess:
        kubeconfig = self.cluster.kubeconfig(self.namespace)
        return KubeGateway(data_dir, database_url, kubeconfig, **settings)

    def pod_pid(self, gw: GatewayProcess, session_id: str) -> int:
        pod = self.kubelet.pod(self.namespace, pod_name(session_id))
        assert pod is not None, f"no pod runs for session {session_id}"
        return pod.process.pid

    def volume(self, gw: GatewayProcess, user: str, project: str) -> Path:
        claim = claim_name(user, project)
        return self.kubelet.root / "volumes" / self.namespace / claim / "project"

    def pod_exists(self, gw: GatewayProcess, session_id: str) -> bool:
        return pod_name(session_id) in self.cluster.objects("pods", self.namespace)

    def kill_pod(self, gw: GatewayProcess, session_id: str) -> None:
        os.killpg(self.pod_pid(gw, session_id), signal.SIGKILL)

    def close(self, gw: GatewayProcess) -> None:
        gw.stop()  # the namespace's pods die with the kubelet at the end of the run


Harness = LocalHarness | KubeHarness
