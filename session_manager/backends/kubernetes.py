"""Session pods on Kubernetes: one Pod and one Secret per session, one PVC per (user, project).

The PVC is created on the first start and kept when the pod stops, so the next start of the
same (user, project) re-attaches the checkout with its uncommitted work. The pod's token
and other credentials reach it through the session's Secret. A reflector (list, then
watch, then resync) follows the pods; starts wait on it for readiness, reconcile reads it.
See docs/kubernetes.md for the settings and the objects.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from kubernetes import client as kube_client
from kubernetes import config as kube_config
from kubernetes.config.config_exception import ConfigException

from ide_server.config import Config

from ..pods import pod_client
from .base import Backend, BackendError, PodInfo, PodSpec, Progress
from .k8s_api import KubeApi, RetryPolicy
from .k8s_objects import (
    KubeSettings,
    Manifest,
    claim_manifest,
    claim_name,
    is_deleting,
    pod_alive,
    pod_endpoint,
    pod_manifest,
    pod_name,
    pod_owner,
    pod_ready,
    secret_manifest,
    secret_name,
    start_failure,
    start_stage,
)
from .k8s_reflector import PodReflector

log = logging.getLogger(__name__)

_SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# While the cache has not shown a starting or stopping pod, read it directly this often.
_DIRECT_READ_INTERVAL = 3.0
# After the kubelet calls the pod ready, how long the gateway tries to reach it itself.
_REACH_TIMEOUT = 10.0


@dataclass(frozen=True)
class KubeConnection:
    kubeconfig: str  # empty: in-cluster when running in a pod, else ~/.kube/config
    context: str  # empty: the kubeconfig's current one


class KubernetesBackend(Backend):
    name = "kubernetes"

    def __init__(
        self,
        settings: KubeSettings,
        connection: KubeConnection,
        *,
        policy: RetryPolicy,
        resync: float,
    ) -> None:
        self.settings = settings
        self.connection = connection
        self.policy = policy
        self.resync = resync
        self._api: KubeApi | None = None
        self._pods: PodReflector | None = None
        self._client: kube_client.ApiClient | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._connecting = asyncio.Lock()
        self._closed = False

    @classmethod
    def from_config(cls, config: Config) -> KubernetesBackend:
        """The ``kube_*`` settings of ide_server/config.py (docs/configuration.md)."""
        return cls(
            KubeSettings.from_config(config),
            KubeConnection(kubeconfig=config.kube_config, context=config.kube_context),
            policy=RetryPolicy(
                attempts=config.kube_api_attempts, request_timeout=float(config.kube_api_timeout)
            ),
            resync=float(config.kube_resync_interval),
        )

    # -- connecting (lazily: constructors do no I/O) ---------------------------------------
    async def _ready(self) -> tuple[KubeApi, PodReflector]:
        async with self._connecting:
            if self._closed:
                raise BackendError("the Kubernetes backend is shut down")
            if self._api is None or self._pods is None:
                api_client, namespace = await asyncio.to_thread(self._load_client)
                self.settings = dataclasses.replace(self.settings, namespace=namespace)
                self._client = api_client
                self._executor = ThreadPoolExecutor(16, thread_name_prefix="kube-api")
                core = kube_client.CoreV1Api(api_client)
                self._api = KubeApi(core, namespace, self.policy, self._executor)
                self._pods = PodReflector(
                    core,
                    namespace,
                    self.settings.selector,
                    resync=self.resync,
                    request_timeout=self.policy.request_timeout,
                )
                self._pods.start()
            return self._api, self._pods

    def _load_client(self) -> tuple[kube_client.ApiClient, str]:
        configuration = kube_client.Configuration()
        # Many sessions start at once; the default pool (5 per CPU) would queue them.
        configuration.connection_pool_maxsize = 32
        in_cluster = not self.connection.kubeconfig and "KUBERNETES_SERVICE_HOST" in os.environ
        try:
            if in_cluster:
                kube_config.load_incluster_config(client_configuration=configuration)
                namespace = _read_text(_SERVICE_ACCOUNT_NAMESPACE)
            else:
                path = self.connection.kubeconfig or None
                context = self.connection.context or None
                kube_config.load_kube_config(
                    config_file=path, context=context, client_configuration=configuration
                )
                namespace = _kubeconfig_namespace(path, context)
        except (ConfigException, OSError, TypeError, ValueError) as exc:
            where = self.connection.kubeconfig or "the default kubeconfig (~/.kube/config)"
            raise BackendError(
                f"cannot load the Kubernetes credentials from {where}, and the gateway is not "
                f"running in a pod ({exc}); set IDE_KUBE_CONFIG to a kubeconfig file"
            ) from exc
        return kube_client.ApiClient(configuration), self.settings.namespace or namespace

    async def close(self) -> None:
        self._closed = True
        pods, self._pods = self._pods, None
        if pods is not None:
            await pods.stop()
        self._api = None
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        api_client, self._client = self._client, None
        if api_client is not None:
            await asyncio.to_thread(api_client.close)

    # -- the interface ---------------------------------------------------------------------
    async def start(self, spec: PodSpec, progress: Progress) -> str:
        api, pods = await self._ready()
        try:
            fresh = await self._ensure_volume(api, spec, progress)
            await progress("creating the pod")
            await api.create("secrets", secret_manifest(self.settings, spec))
            pod = await api.create("pods", pod_manifest(self.settings, spec))
            await self._tie_secret_to_pod(api, spec, pod)
            pod = await self._wait_ready(api, pods, spec, progress, fresh)
            endpoint = pod_endpoint(pod)
            if endpoint is None:
                raise BackendError("the pod is ready but reports no address or no `ide` port")
            await self._check_reachable(endpoint, spec)
            return endpoint
        except BaseException:
            await self._discard(spec.session_id)
            raise

    async def _ensure_volume(self, api: KubeApi, spec: PodSpec, progress: Progress) -> bool:
        """Make sure the (user, project) PVC exists; True if it was just created."""
        claim = await api.get("persistentvolumeclaims", claim_name(spec.user, spec.project))
        if claim is not None and not is_deleting(claim):
            await progress("attaching your volume")
            return False
        await progress("creating your volume")
        await api.create(
            "persistentvolumeclaims", claim_manifest(self.settings, spec.user, spec.project)
        )
        return True

    async def _tie_secret_to_pod(self, api: KubeApi, spec: PodSpec, pod: Manifest) -> None:
        """Make the Secret the Pod's dependent, so that the cluster's garbage collector
        removes it with the pod even when someone else deletes the pod."""
        uid = (pod.get("metadata") or {}).get("uid")
        if not uid:
            return
        owner = {"apiVersion": "v1", "kind": "Pod", "name": pod_name(spec.session_id), "uid": uid}
        await api.patch(
            "secrets", secret_name(spec.session_id), {"metadata": {"ownerReferences": [owner]}}
        )

    async def _wait_ready(
        self, api: KubeApi, pods: PodReflector, spec: PodSpec, progress: Progress, fresh: bool
    ) -> Manifest:
        name = pod_name(spec.session_id)
        said = ""
        last_direct = time.monotonic()
        while True:
            pod = pods.get(name) if pods.healthy else None
            if pod is None and time.monotonic() - last_direct > _DIRECT_READ_INTERVAL:
                # The watch has not shown it (yet), or is failing: ask the API itself.
                pod, last_direct = await api.get("pods", name), time.monotonic()
                if pod is None:
                    raise BackendError("the pod was deleted while it was starting")
            if pod is not None:
                failure = start_failure(pod)
                if failure:
                    raise BackendError(failure)
                if pod_ready(pod):
                    return pod
                line = start_stage(pod)
                if fresh and line.startswith("waiting for the IDE server"):
                    line = "cloning the project into your volume"
                if line != said:
                    await progress(line)
                    said = line
            await pods.wait_changed(1.0)

    async def _check_reachable(self, endpoint: str, spec: PodSpec) -> None:
        """The kubelet reached the pod; make sure the gateway can too (NetworkPolicies)."""
        url = f"{endpoint}{spec.base_url}ide/health"
        deadline = time.monotonic() + _REACH_TIMEOUT
        async with pod_client(endpoint, timeout=2) as http:
            while True:
                try:
                    if (await http.get(url)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise BackendError(
                        f"the pod is ready but the gateway cannot reach it at {endpoint}; "
                        "check that NetworkPolicies let the gateway reach session pods"
                    )
                await asyncio.sleep(0.2)

    async def _discard(self, session_id: str) -> None:
        """Remove what a failed or cancelled start made; the cleanup outlives a cancel."""
        task = asyncio.ensure_future(self.stop(session_id))
        task.add_done_callback(_log_failure)
        try:
            await asyncio.shield(task)
        except (asyncio.CancelledError, BackendError):
            pass

    async def stop(self, session_id: str) -> None:
        api, pods = await self._ready()
        name = pod_name(session_id)
        await api.delete("pods", name, grace_period_seconds=self.settings.termination_grace)
        await api.delete("secrets", secret_name(session_id))
        await self._wait_gone(api, pods, name)

    async def _wait_gone(self, api: KubeApi, pods: PodReflector, name: str) -> None:
        deadline = time.monotonic() + self.settings.termination_grace + 45
        while time.monotonic() < deadline:
            # The cache may not have seen a pod created a moment ago: only the API's own
            # "not found" proves it gone.
            if pods.get(name) is None and await api.get("pods", name) is None:
                return
            await pods.wait_changed(_DIRECT_READ_INTERVAL)
        raise BackendError(
            f"pod {name} did not terminate in {self.settings.termination_grace + 45} s; "
            f"its node may be unreachable (kubectl describe pod {name} -n {api.namespace})"
        )

    async def poll(self, session_id: str) -> bool:
        api, pods = await self._ready()
        name = pod_name(session_id)
        pod = pods.get(name) if pods.healthy else None
        if pod is None:
            pod = await api.get("pods", name)
        return pod is not None and pod_alive(pod)

    async def list_pods(self) -> list[PodInfo]:
        api, pods = await self._ready()
        await pods.wait_synced(self.policy.request_timeout)
        if pods.healthy:
            items = pods.pods()
        else:
            # Reconcile stops pods no row owns and ends rows whose pod is missing: a stale
            # copy would do harm, so ask the API itself (and fail loudly if it cannot).
            items = await api.list("pods", self.settings.selector)
        infos = []
        for pod in items:
            owner = pod_owner(pod)
            if owner is None:
                continue
            session_id, user, project = owner
            endpoint = pod_endpoint(pod) if pod_ready(pod) else None
            infos.append(PodInfo(session_id, user, project, pod_alive(pod), endpoint))
        return infos

    async def delete_volume(self, user: str, project: str) -> None:
        api, _ = await self._ready()
        await api.delete("persistentvolumeclaims", claim_name(user, project))


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("cleanup of a failed start did not finish: %s", task.exception())


def _read_text(path: Path) -> str:
    return path.read_text().strip()


def _kubeconfig_namespace(path: str | None, context: str | None) -> str:
    contexts, active = kube_config.list_kube_config_contexts(config_file=path)
    chosen = next((c for c in contexts if c["name"] == context), active) if context else active
    return ((chosen or {}).get("context") or {}).get("namespace") or "default"
