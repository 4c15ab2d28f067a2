"""Names, labels and manifests of the Kubernetes backend, and how a pod is read."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from typing import Any

from ide_server.config import SETTINGS, load_config
from ide_server.podenv import PodEnv
from session_manager.backends.base import PodSpec
from session_manager.backends.k8s_objects import (
    PROJECT_ROOT,
    KubeSettings,
    claim_name,
    label_value,
    pod_endpoint,
    pod_manifest,
    secret_manifest,
    start_failure,
    start_stage,
)
from session_manager.backends.kubernetes import KubernetesBackend

DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


SETTING_DEFAULTS = {s.name: s.default for s in SETTINGS}


def kube(**settings: Any) -> KubeSettings:
    """The Kubernetes settings as the config loader makes them, with ``settings`` set."""
    overrides = {f"kube_{name}": value for name, value in settings.items()}
    return KubeSettings.from_config(load_config(overrides, env={}))


def _spec(**settings: Any) -> PodSpec:
    env = PodEnv(**settings)
    return PodSpec("a" * 32, "erin", "demo", f"/sessions/{'a' * 32}/", "pod-token-xyz", env)


def test_claim_names_are_valid_stable_and_distinct() -> None:
    names = {
        claim_name(user, project)
        for user, project in [("a-b", "c"), ("a", "b-c"), ("Ana María", "Sales"), ("x" * 300, "y")]
    }
    assert len(names) == 4
    assert all(DNS_1123.match(n) and len(n) <= 63 for n in names)
    assert claim_name("erin", "demo") == claim_name("erin", "demo")


def test_label_values_are_valid_and_keep_valid_names() -> None:
    assert label_value("erin") == "erin"
    for odd in ("Ana María", "-leading", "x" * 100, "ünïcödé", "a@b.c"):
        value = label_value(odd)
        assert LABEL.match(value) and len(value) <= 63, value
    assert label_value("a@b") != label_value("a#b")


def test_the_pod_spec_refers_to_secrets_and_never_holds_them() -> None:
    spec = _spec(git_token="ghp_secret", warehouse={"password": "pw"})
    pod = pod_manifest(kube(namespace="ide"), spec)
    text = json.dumps(pod)
    assert "pod-token-xyz" not in text and "ghp_secret" not in text and '"pw"' not in text
    env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    for key in ("JUPYTER_TOKEN", "IDE_POD_GIT_TOKEN", "IDE_POD_WAREHOUSE"):
        assert env[key]["valueFrom"]["secretKeyRef"] == {"name": f"ide-{'a' * 32}", "key": key}
    assert env["IDE_POD_ROOT"]["value"] == "/workspace/project"
    secret = secret_manifest(kube(namespace="ide"), spec)
    assert set(secret["data"]) == {"JUPYTER_TOKEN", "IDE_POD_GIT_TOKEN", "IDE_POD_WAREHOUSE"}


def _secret_fields() -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(PodEnv) if f.metadata.get("secret")]


def test_every_secret_field_of_the_pod_env_goes_to_the_secret_and_only_there() -> None:
    # A field marked secret tomorrow is covered without touching this test.
    marked = {f.name: f"secret-{f.name}-{i}" for i, f in enumerate(_secret_fields())}
    assert {"token", "git_token", "warehouse"} <= set(marked)
    values: dict[str, Any] = {
        name: {"password": value} if name == "warehouse" else value
        for name, value in marked.items()
        if name != "token"
    }
    spec = dataclasses.replace(_spec(**values), token=marked["token"])
    settings = kube(namespace="ide")
    pod_text = json.dumps(pod_manifest(settings, spec))
    secret = secret_manifest(settings, spec)
    opened = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    env = {e["name"]: e for e in pod_manifest(settings, spec)["spec"]["containers"][0]["env"]}
    for name, value in marked.items():
        variable = PodEnv.variable(name)
        assert value not in pod_text, f"{name} is in the Pod spec"
        assert value in opened[variable]
        assert env[variable] == {
            "name": variable,
            "valueFrom": {"secretKeyRef": {"name": secret["metadata"]["name"], "key": variable}},
        }
    # And nothing else is: the Secret holds the credentials, not the settings.
    assert set(opened) == PodEnv.secret_variables()


def test_the_container_gets_every_field_of_the_pod_env() -> None:
    settings = kube(namespace="ide", pod_port=9000)
    spec = _spec(git_url="https://git.example/p.git", save_delay=0.25, protect_default_branch=False)
    container = pod_manifest(settings, spec)["spec"]["containers"][0]
    plain = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    secret = {e["name"]: "" for e in container["env"] if "valueFrom" in e}
    # What the pod reads back is the spec, placed where the manifest puts it.
    read = PodEnv.from_env({**plain, **secret})
    assert read.git_url == "https://git.example/p.git"
    assert read.save_delay == 0.25 and read.protect_default_branch is False
    assert read.session_id == "a" * 32 and read.base_url == spec.base_url
    assert str(read.root) == PROJECT_ROOT and read.port == 9000 and read.sock == ""
    assert container["ports"][0]["containerPort"] == 9000
    assert set(plain) | set(secret) >= set(PodEnv().to_env())


def test_the_pod_runs_unprivileged_with_limits_and_a_probe() -> None:
    pod = pod_manifest(kube(namespace="ide", service_account="ide-session"), _spec())
    spec = pod["spec"]
    container = spec["containers"][0]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 1000
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == "ide-session"
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}
    probe = container["readinessProbe"]["httpGet"]
    assert probe == {"path": f"/sessions/{'a' * 32}/ide/health", "port": "ide"}


def test_reading_a_pod() -> None:
    pod = {
        "spec": {
            "containers": [{"name": "ide", "ports": [{"name": "ide", "containerPort": 8888}]}]
        },
        "status": {"phase": "Running", "podIP": "10.1.2.3"},
    }
    assert pod_endpoint(pod) == "http://10.1.2.3:8888"
    assert start_stage(pod) == "waiting for the IDE server in the pod to answer"
    pending = {
        "status": {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "message": "0/3 nodes: Insufficient memory",
                }
            ],
        }
    }
    assert "Insufficient memory" in start_stage(pending)
    assert start_failure(pending) is None
    pulling = {
        "status": {
            "phase": "Pending",
            "containerStatuses": [
                {"state": {"waiting": {"reason": "ImagePullBackOff", "message": "not found"}}}
            ],
        }
    }
    assert "IDE_KUBE_IMAGE" in (start_failure(pulling) or "")


def test_from_config_reads_the_kube_settings_with_the_tables_defaults() -> None:
    config = load_config(
        {
            "kube_namespace": "ide",
            "kube_image": "registry.example/ide-pod:1.2",
            "kube_storage_class": "gp3",
            "kube_api_attempts": 3,
        },
        env={"IDE_KUBE_POD_PORT": "9000", "IDE_KUBE_CONTEXT": "staging"},
    )
    backend = KubernetesBackend.from_config(config)
    assert backend.settings.namespace == "ide"
    assert backend.settings.image == "registry.example/ide-pod:1.2"
    assert backend.settings.storage_class == "gp3"
    assert backend.settings.pod_port == 9000
    assert backend.settings.volume_size == SETTING_DEFAULTS["kube_volume_size"]
    assert backend.policy.attempts == 3
    assert backend.policy.request_timeout == SETTING_DEFAULTS["kube_api_timeout"]
    assert backend.resync == SETTING_DEFAULTS["kube_resync_interval"]
    assert backend.connection.context == "staging"


def test_every_kube_setting_is_a_field_and_back() -> None:
    # One place for each default: a field without a setting (or the reverse) fails here.
    fields = {f"kube_{f.name}" for f in dataclasses.fields(KubeSettings)} - {
        "kube_termination_grace"
    }
    elsewhere = {"kube_config", "kube_context", "kube_resync_interval"}
    elsewhere |= {"kube_api_attempts", "kube_api_timeout"}
    assert fields | elsewhere == {name for name in SETTING_DEFAULTS if name.startswith("kube_")}
    defaults = KubeSettings.from_config(load_config(env={}))
    for name in fields:
        assert getattr(defaults, name.removeprefix("kube_")) == SETTING_DEFAULTS[name]


def test_the_kubernetes_backend_implements_the_whole_interface() -> None:
    from session_manager.backends.base import Backend

    for method in ("start", "stop", "poll", "list_pods", "delete_volume", "close"):
        assert getattr(KubernetesBackend, method) is not getattr(Backend, method)
    assert KubernetesBackend.name == "kubernetes"
