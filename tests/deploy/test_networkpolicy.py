"""The NetworkPolicy of session pods: it selects the pods the backend makes, and fences them."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import yaml

from ide_server.config import load_config
from ide_server.podenv import PodEnv
from session_manager.backends.base import PodSpec
from session_manager.backends.k8s_objects import KubeSettings, pod_manifest

POLICY = Path(__file__).parents[2] / "deploy" / "kubernetes" / "networkpolicy.yaml"
GATEWAY = Path(__file__).parents[2] / "deploy" / "kubernetes" / "gateway.yaml"


def _policies() -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(POLICY.read_text())}


def _session_pod_labels() -> dict[str, str]:
    spec = PodSpec("a" * 32, "erin", "demo", f"/sessions/{'a' * 32}/", "token", PodEnv())
    settings = KubeSettings.from_config(load_config({"kube_namespace": "ide"}, env={}))
    return pod_manifest(settings, spec)["metadata"]["labels"]


def _selects(selector: dict, labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def _allowed(policy: dict, address: str) -> bool:
    """Whether an egress rule of ``policy`` lets a session pod reach ``address``."""
    ip = ipaddress.ip_address(address)
    for rule in policy["spec"]["egress"]:
        for peer in rule["to"]:
            block = peer.get("ipBlock")
            if block is None or ip.version != ipaddress.ip_network(block["cidr"]).version:
                continue
            excepted = any(ip in ipaddress.ip_network(e) for e in block.get("except", []))
            if ip in ipaddress.ip_network(block["cidr"]) and not excepted:
                return True
    return False


def test_both_policies_select_the_pods_the_backend_creates() -> None:
    labels = _session_pod_labels()
    for policy in _policies().values():
        assert _selects(policy["spec"]["podSelector"], labels), policy["metadata"]["name"]


def test_only_the_gateway_reaches_a_session_pod() -> None:
    ingress = _policies()["ide-sessions-from-gateway-only"]["spec"]["ingress"]
    gateway_labels = yaml.safe_load_all(GATEWAY.read_text())
    deployment = next(d for d in gateway_labels if d["kind"] == "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    peers = [peer for rule in ingress for peer in rule["from"]]
    assert len(peers) == 1 and _selects(peers[0]["podSelector"], labels)
    assert not _selects(peers[0]["podSelector"], _session_pod_labels()), "pods reach pods"


def test_session_pods_reach_the_internet_but_no_pod_database_or_metadata_endpoint() -> None:
    egress = _policies()["ide-sessions-egress"]
    assert egress["spec"]["policyTypes"] == ["Egress"]
    for public in ("140.82.112.3", "52.94.236.248", "2606:50c0:8000::153"):  # git hosts, clouds
        assert _allowed(egress, public), public
    # pod and service networks of common clusters, a metadata PostgreSQL in the VPC, the
    # instance metadata endpoint, loopback, and their IPv6 counterparts
    for private in (
        "10.244.1.7", "10.96.0.10", "172.20.4.5", "192.168.1.20", "100.64.3.2",
        "169.254.169.254", "127.0.0.1", "fd00::5", "fe80::1", "::1",
    ):  # fmt: skip
        assert not _allowed(egress, private), private
    dns = egress["spec"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
