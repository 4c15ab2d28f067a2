"""The Kubernetes objects of a session: names, labels and manifests, and how to read a Pod.

Pure functions over plain dicts (the JSON the API speaks), so that what we send can be read
and tested without a cluster. The backend in :mod:`.kubernetes` does the talking.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ide_server.config import Config
from ide_server.podenv import PodEnv

from .base import PodSpec

Manifest = dict[str, Any]


MANAGED_BY = "app.kubernetes.io/managed-by"
COMPONENT = "app.kubernetes.io/component"
SESSION_LABEL = "ide-server/session"
USER_LABEL = "ide-server/user"
PROJECT_LABEL = "ide-server/project"
# Label values are limited to 63 characters of a small alphabet; the exact names live in
# annotations of the same keys.
USER_ANNOTATION = USER_LABEL
PROJECT_ANNOTATION = PROJECT_LABEL

CONTAINER = "ide"
PORT_NAME = "ide"
VOLUME_MOUNT = "/workspace"
# The checkout sits one level below the mount: the clone is staged next to it on the same
# filesystem, and a fresh volume's lost+found stays out of the project.
PROJECT_ROOT = VOLUME_MOUNT + "/project"
SCRATCH_MOUNT = "/tmp"  # noqa: S108 - an emptyDir of the pod's own, not the host's /tmp

_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


# The session pods (and their Secrets) of this installation.
SELECTOR = f"{MANAGED_BY}=ide-server,{COMPONENT}=session"


@dataclass(frozen=True)
class KubeSettings:
    """What the cluster operator chooses: field ``x`` is the setting ``kube_x`` of
    ide_server/config.py, where its default and its help live (docs/configuration.md)."""

    namespace: str  # empty: the pod's own namespace in-cluster, else the kubeconfig's
    image: str
    image_pull_policy: str
    storage_class: str  # empty: the cluster's default StorageClass
    volume_size: str
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    service_account: str  # empty: the namespace's default account (its token is not mounted)
    pod_port: int
    pod_uid: int
    scratch_size: str
    termination_grace: int = 15  # not a setting: the pod's own shutdown is quick

    @classmethod
    def from_config(cls, config: Config) -> KubeSettings:
        names = [f.name for f in dataclasses.fields(cls) if f.name != "termination_grace"]
        return cls(**{name: config.values[f"kube_{name}"] for name in names})

    @property
    def selector(self) -> str:
        return SELECTOR


# -- names and labels ----------------------------------------------------------------------
def pod_name(session_id: str) -> str:
    return f"ide-{session_id}"


def secret_name(session_id: str) -> str:
    return f"ide-{session_id}"


def claim_name(user: str, project: str) -> str:
    """A stable DNS-1123 name per (user, project); the hash keeps `a-b`/`c` apart from `a`/`b-c`."""
    digest = hashlib.sha256(f"{user}\0{project}".encode()).hexdigest()[:10]
    return f"ide-{_slug(user)}-{_slug(project)}-{digest}"


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:20].strip("-")
    return slug or "x"


def label_value(text: str) -> str:
    """``text`` if it is a valid label value, else a readable, distinct stand-in."""
    if _LABEL_VALUE.match(text):
        return text
    cleaned = re.sub(r"[^-A-Za-z0-9_.]+", "-", text)[:50].strip("-_.")
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{cleaned}-{digest}" if cleaned else digest


def _owner_labels(user: str, project: str) -> dict[str, str]:
    return {
        MANAGED_BY: "ide-server",
        USER_LABEL: label_value(user),
        PROJECT_LABEL: label_value(project),
    }


def _owner_annotations(user: str, project: str) -> dict[str, str]:
    return {USER_ANNOTATION: user, PROJECT_ANNOTATION: project}


# -- manifests -----------------------------------------------------------------------------
def claim_manifest(settings: KubeSettings, user: str, project: str) -> Manifest:
    spec: Manifest = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": settings.volume_size}},
    }
    if settings.storage_class:
        spec["storageClassName"] = settings.storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": claim_name(user, project),
            "namespace": settings.namespace,
            "labels": {**_owner_labels(user, project), COMPONENT: "volume"},
            "annotations": _owner_annotations(user, project),
        },
        "spec": spec,
    }


def pod_env(settings: KubeSettings, spec: PodSpec) -> PodEnv:
    return spec.pod_env(root=Path(PROJECT_ROOT), port=settings.pod_port)


def secret_values(settings: KubeSettings, spec: PodSpec) -> dict[str, str]:
    """The pod's credentials (the ``secret`` fields of :class:`PodEnv`): they go into the
    session's Secret and reach the container through secretKeyRef, never as literals in
    the Pod spec, which anyone with `get pods` can read."""
    return pod_env(settings, spec).secret_env()


def secret_manifest(settings: KubeSettings, spec: PodSpec) -> Manifest:
    values = secret_values(settings, spec).items()
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": secret_name(spec.session_id),
            "namespace": settings.namespace,
            "labels": _session_labels(spec),
            "annotations": _owner_annotations(spec.user, spec.project),
        },
        "data": data,
    }


def _session_labels(spec: PodSpec) -> dict[str, str]:
    return {
        **_owner_labels(spec.user, spec.project),
        COMPONENT: "session",
        SESSION_LABEL: spec.session_id,
    }


def pod_manifest(settings: KubeSettings, spec: PodSpec) -> Manifest:
    pod_spec: Manifest = {
        # A pod that exits is noticed by poll and replaced by the manager on the same
        # volume; restarting it in place would hide the crash from the session's state.
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,  # the pod never talks to the Kubernetes API
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": settings.termination_grace,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": settings.pod_uid,
            "runAsGroup": settings.pod_uid,
            "fsGroup": settings.pod_uid,  # makes the volume writable for that user
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(settings, spec)],
        "volumes": [
            {
                "name": "workspace",
                "persistentVolumeClaim": {"claimName": claim_name(spec.user, spec.project)},
            },
            {"name": "scratch", "emptyDir": {"sizeLimit": settings.scratch_size}},
        ],
    }
    if settings.service_account:
        pod_spec["serviceAccountName"] = settings.service_account
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name(spec.session_id),
            "namespace": settings.namespace,
            "labels": _session_labels(spec),
            "annotations": _owner_annotations(spec.user, spec.project),
        },
        "spec": pod_spec,
    }


def _container(settings: KubeSettings, spec: PodSpec) -> Manifest:
    return {
        "name": CONTAINER,
        "image": settings.image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["python", "-P", "-m", "ide_server.workspace.launch"],  # -P: see launch.py
        "ports": [{"name": PORT_NAME, "containerPort": settings.pod_port, "protocol": "TCP"}],
        "env": _container_env(settings, spec),
        "resources": {
            "requests": {"cpu": settings.cpu_request, "memory": settings.memory_request},
            "limits": {"cpu": settings.cpu_limit, "memory": settings.memory_limit},
        },
        "readinessProbe": {
            "httpGet": {"path": f"{spec.base_url}ide/health", "port": PORT_NAME},
            "periodSeconds": 2,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        },
        # A pod that fails during start (a clone that cannot reach the remote) reports the
        # end of its log as the termination message: the session's reason shows it.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "workspace", "mountPath": VOLUME_MOUNT},
            {"name": "scratch", "mountPath": SCRATCH_MOUNT},
        ],
    }


def _container_env(settings: KubeSettings, spec: PodSpec) -> list[Manifest]:
    env = pod_env(settings, spec)
    plain = env.plain_env()
    plain.update(
        # The root filesystem is read-only: everything Jupyter writes outside the volume
        # goes to the pod's scratch emptyDir.
        HOME=SCRATCH_MOUNT,
        JUPYTER_RUNTIME_DIR=f"{SCRATCH_MOUNT}/jupyter-runtime",
        JUPYTER_CONFIG_DIR=f"{SCRATCH_MOUNT}/jupyter-config",
        JUPYTER_DATA_DIR=f"{SCRATCH_MOUNT}/jupyter-data",
    )
    out: list[Manifest] = [{"name": k, "value": v} for k, v in sorted(plain.items())]
    name = secret_name(spec.session_id)
    for key in sorted(env.secret_env()):
        ref = {"secretKeyRef": {"name": name, "key": key}}
        out.append({"name": key, "valueFrom": ref})
    return out


# -- reading a pod -------------------------------------------------------------------------
def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def is_deleting(obj: Mapping[str, Any]) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def pod_phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def pod_alive(pod: Mapping[str, Any]) -> bool:
    """Scheduled or running, and nobody asked it to go."""
    return pod_phase(pod) in ("Pending", "Running") and not is_deleting(pod)


def pod_ready(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return ready and pod_phase(pod) == "Running" and bool(status.get("podIP"))


def pod_endpoint(pod: Mapping[str, Any]) -> str | None:
    """``http://<podIP>:<port>``, the port being the one named ``ide`` as the cluster reports."""
    ip = (pod.get("status") or {}).get("podIP")
    if not ip:
        return None
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == PORT_NAME:
                host = f"[{ip}]" if ":" in ip else ip
                return f"http://{host}:{port['containerPort']}"
    return None


def pod_owner(pod: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(session, user, project) of a session pod, or None for any other pod."""
    labels = meta(pod).get("labels") or {}
    annotations = meta(pod).get("annotations") or {}
    session = labels.get(SESSION_LABEL)
    if not session or labels.get(MANAGED_BY) != "ide-server":
        return None
    user = annotations.get(USER_ANNOTATION, labels.get(USER_LABEL, ""))
    project = annotations.get(PROJECT_ANNOTATION, labels.get(PROJECT_LABEL, ""))
    return session, user, project


def matches_selector(obj: Mapping[str, Any], selector: str) -> bool:
    labels = meta(obj).get("labels") or {}
    pairs = (term.split("=", 1) for term in selector.split(",") if term)
    return all(labels.get(key) == value for key, value in pairs)


# Container states from which a pod will not become ready without someone changing something.
_STUCK_REASONS = {
    "ErrImagePull": "check IDE_KUBE_IMAGE and the namespace's image pull secrets",
    "ImagePullBackOff": "check IDE_KUBE_IMAGE and the namespace's image pull secrets",
    "InvalidImageName": "check IDE_KUBE_IMAGE",
    "CreateContainerConfigError": "the pod's Secret or volume is missing; try again",
    "CreateContainerError": "ask an admin to run `kubectl describe pod`",
    "RunContainerError": "ask an admin to run `kubectl describe pod`",
    "CrashLoopBackOff": "ask an admin to read the pod's log",
}


def start_failure(pod: Mapping[str, Any]) -> str | None:
    """Why the pod can no longer become ready, for a person; None while it still may."""
    if is_deleting(pod):
        return "the pod was deleted while it was starting"
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        waiting = state.get("waiting") or {}
        reason = waiting.get("reason", "")
        if reason in _STUCK_REASONS:
            detail = waiting.get("message", "")
            return f"the pod cannot start ({reason}: {detail}); {_STUCK_REASONS[reason]}"
        terminated = state.get("terminated")
        if terminated:
            message = " | ".join(str(terminated.get("message", "")).strip().splitlines()[-5:])
            return (
                f"the session pod exited during start (code {terminated.get('exitCode')}, "
                f"{terminated.get('reason', 'Error')}): {message or 'no message'}"
            )
    phase = pod_phase(pod)
    if phase in ("Failed", "Succeeded"):
        detail = status.get("message") or status.get("reason") or "no reason given"
        return f"the session pod stopped during start ({phase}: {detail})"
    return None


def start_stage(pod: Mapping[str, Any]) -> str:
    """A progress line for a person: where the pod is on its way to ready."""
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"waiting for a node with room for the pod: {condition.get('message', '')}"
    if pod_phase(pod) == "Running":
        return "waiting for the IDE server in the pod to answer"
    if status.get("containerStatuses") or any(
        c.get("type") == "PodScheduled" and c.get("status") == "True"
        for c in status.get("conditions") or []
    ):
        return "pulling the image and starting the container"
    return "waiting for the pod to be scheduled"
