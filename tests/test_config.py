"""The settings table is the single source of the docs, the flags and the environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ide_server.config import SETTINGS, load_config, markdown_table

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_doc_is_generated_from_the_table() -> None:
    generated = subprocess.run(
        [sys.executable, "-m", "ide_server.cli", "settings"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (ROOT / "docs" / "configuration.md").read_text() == generated, (
        "docs/configuration.md is stale: run `uv run ide-server settings > docs/configuration.md`"
    )


def test_every_setting_has_a_flag_in_serve_help() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "ide_server.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for setting in SETTINGS:
        assert setting.flag in help_text and setting.env in help_text


def test_flag_beats_environment_beats_default() -> None:
    assert load_config({}, env={}).port == 8000
    assert load_config({}, env={"IDE_PORT": "9001"}).port == 9001
    assert load_config({"port": 9002}, env={"IDE_PORT": "9001"}).port == 9002
    assert load_config({}, env={"IDE_DEMO": "false"}).demo is False
    assert load_config(
        {}, env={"IDE_ALLOWED_ORIGINS": "https://a.example, https://b.example/"}
    ).allowed_origins == ("https://a.example", "https://b.example")


def test_bad_values_name_the_variable() -> None:
    with pytest.raises(SystemExit, match="IDE_PORT"):
        load_config({}, env={"IDE_PORT": "eighty"})


def test_the_kubernetes_doc_lists_the_kube_settings_from_the_table() -> None:
    text = (ROOT / "docs" / "kubernetes.md").read_text()
    generated = text.split("<!-- generated: kube settings -->\n", 1)[1].split("<!-- end", 1)[0]
    assert generated == markdown_table("kube_"), (
        "docs/kubernetes.md is stale: paste `markdown_table('kube_')` of ide_server/config.py"
    )


def test_overrides_must_name_a_setting() -> None:
    with pytest.raises(KeyError, match="kube_imagee"):
        load_config({"kube_imagee": "x"}, env={})
