"""The pod-environment contract: what the gateway writes is what the pod reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ide_server.podenv import PodEnv
from ide_server.workspace.config import PodConfig

EVERY_FIELD_CHANGED = PodEnv(
    session_id="0123abcd" * 4,
    user="Ana María",
    base_url="/sessions/x/",
    root=Path("/workspace/project"),
    sock="/run/ide/pod.sock",
    ip="127.0.0.1",
    port=9001,
    token="pod-token",
    user_name="Ana María López",
    user_email="ana@example.com",
    git_url="https://git.example/team/models.git",
    default_branch="trunk",
    protect_default_branch=False,
    git_token="ghp_token",
    git_ca_bundle="/etc/ssl/corp.pem",
    git_provider="gitlab",
    git_web_url="https://gitlab.example.com",
    warehouse={"type": "postgres", "port": 5432, "password": "p=w\"'\n", "options": {"a": [1]}},
    save_delay=0.25,
    max_message_bytes=1024,
    orphan_timeout=90.0,
)


def test_every_field_survives_the_round_trip() -> None:
    default = PodEnv()
    changed = [
        f.name
        for f in dataclasses.fields(PodEnv)
        if getattr(EVERY_FIELD_CHANGED, f.name) == getattr(default, f.name)
    ]
    assert changed == [], "give these fields a non-default value above"
    assert PodEnv.from_env(EVERY_FIELD_CHANGED.to_env()) == EVERY_FIELD_CHANGED


def test_the_pod_reads_the_contract_as_its_config(tmp_path: Path) -> None:
    env = EVERY_FIELD_CHANGED.replace(root=tmp_path / "link").to_env()
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    config = PodConfig.from_env(env)
    assert config.root == tmp_path / "real"  # resolved: paths are compared under it
    assert config.warehouse == EVERY_FIELD_CHANGED.warehouse
    assert config.runtime_dir == tmp_path / "real" / ".ide"


def test_unset_variables_keep_their_defaults() -> None:
    assert PodEnv.from_env({}) == PodEnv()
    assert PodEnv.from_env({"IDE_POD_GIT_URL": "file:///r"}) == PodEnv(git_url="file:///r")


def test_variables_keep_their_names() -> None:
    # The launcher, images and the test kubelet know these names.
    assert PodEnv.variable("token") == "JUPYTER_TOKEN"
    assert PodEnv.variable("git_ca_bundle") == "IDE_POD_GIT_CA_BUNDLE"
    assert PodEnv.variable("session_id") == "IDE_POD_SESSION_ID"
    assert PodEnv.secret_variables() == {"JUPYTER_TOKEN", "IDE_POD_GIT_TOKEN", "IDE_POD_WAREHOUSE"}


def test_secrets_stay_out_of_the_repr() -> None:
    text = repr(EVERY_FIELD_CHANGED)
    assert "pod-token" not in text and "ghp_token" not in text and "p=w" not in text


def test_plain_and_secret_parts_make_the_whole() -> None:
    env = EVERY_FIELD_CHANGED
    assert {**env.plain_env(), **env.secret_env()} == env.to_env()
    assert not set(env.plain_env()) & set(env.secret_env())


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("IDE_POD_PORT", "eighty"),
        ("IDE_POD_SAVE_DELAY", "soon"),
        ("IDE_POD_WAREHOUSE", "{not json"),
        ("IDE_POD_WAREHOUSE", "[1, 2]"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, raw: str) -> None:
    with pytest.raises(ValueError, match=variable):
        PodEnv.from_env({variable: raw})


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("0", False), ("false", False), ("", True)]
)
def test_booleans(raw: str, value: bool) -> None:
    assert PodEnv.from_env({"IDE_POD_PROTECT_DEFAULT_BRANCH": raw}).protect_default_branch is value
