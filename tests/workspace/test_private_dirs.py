"""The pod's private directory and the volume's state directory, attacked directly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from ide_server.podenv import PodEnv
from ide_server.workspace.private_dirs import (
    PrivateDirError,
    pin_environment,
    prepare_volume_state,
    private_dirs,
)
from tests.support.gateway import free_port


def test_a_runtime_directory_inside_the_volume_is_refused(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    for inside in (volume, volume / ".ide" / "run", volume / "models"):
        with pytest.raises(PrivateDirError, match="overlaps the project volume"):
            private_dirs(volume, {"JUPYTER_RUNTIME_DIR": str(inside)})
    assert sorted(os.listdir(volume)) == []  # refused before anything was created
    alias = tmp_path / "alias"
    alias.symlink_to(volume)
    with pytest.raises(PrivateDirError):
        private_dirs(volume, {"JUPYTER_RUNTIME_DIR": str(alias / "run")})


def test_the_environment_points_only_at_the_private_directory(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    env = {
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "run"),
        "JUPYTER_PATH": str(volume),
        "JUPYTER_CONFIG_PATH": str(volume),
        "JUPYTER_CONFIG_DIR": str(volume / ".jupyter"),
        "JUPYTER_DATA_DIR": str(volume),
    }
    dirs = private_dirs(volume, env)
    pin_environment(dirs, env)
    assert "JUPYTER_PATH" not in env and "JUPYTER_CONFIG_PATH" not in env
    assert env["JUPYTER_CONFIG_DIR"] == str(dirs.root / "config")
    assert env["JUPYTER_DATA_DIR"] == str(dirs.root / "data")
    assert env["PYTHONSAFEPATH"] == "1"
    assert (os.stat(dirs.root).st_mode & 0o777) == 0o700
    assert dirs.kernels.is_dir() and dirs.dbt_profiles.is_dir()


def test_symlinks_are_removed_from_the_state_directory(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    (volume / "models").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    (volume / ".ide").symlink_to(elsewhere)
    prepare_volume_state(volume / ".ide")
    assert (volume / ".ide").is_dir() and not (volume / ".ide").is_symlink()
    assert (elsewhere / "keep.txt").read_text() == "keep"
    (volume / ".ide" / "ystore.db").symlink_to(volume / "models" / "orders.sql")
    (volume / ".ide" / "file_id.db").write_text("real")
    prepare_volume_state(volume / ".ide")
    assert not (volume / ".ide" / "ystore.db").exists()
    assert (volume / ".ide" / "file_id.db").read_text() == "real"


def test_a_file_named_like_the_state_directory_is_moved_aside(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / ".ide").write_text("someone's notes")
    prepare_volume_state(volume / ".ide")
    assert (volume / ".ide").is_dir()
    (aside,) = volume.glob(".ide-moved-aside-*")
    assert aside.read_text() == "someone's notes"


async def test_dbt_processes_never_import_the_projects_modules(tmp_path: Path) -> None:
    """dbt runs in the project folder; a committed ``ide_server/`` must not stand in for ours.

    Started without the launcher's ``PYTHONSAFEPATH``, so only the command line protects it.
    """
    import asyncio

    from ide_server.workspace.dbt.processes import DbtProcess, dbt_env
    from ide_server.workspace.dbt.service import READER_MODULE

    project = tmp_path / "project"
    marker = tmp_path / "ran"
    for package in ("ide_server", "ide_server/workspace", "ide_server/workspace/dbt"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text(f"open({str(marker)!r}, 'w')\n")
    (project / "ide_server/workspace/dbt/reader.py").write_text(f"open({str(marker)!r}, 'w')\n")
    env = {k: v for k, v in dbt_env({}).items() if k != "PYTHONSAFEPATH"}
    process = DbtProcess(READER_MODULE, project, env)
    await process.start({"id": "setup", "op": "nothing"})
    try:
        await asyncio.wait_for(process.exited.wait(), 5)
    except TimeoutError:
        pass  # still running the real reader: what we want
    finally:
        await process.stop(grace=0.5)
    assert not marker.exists()


def test_only_a_directory_the_pod_made_is_the_pods_to_remove(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    given = private_dirs(volume, {"JUPYTER_RUNTIME_DIR": str(tmp_path / "run")})
    assert not given.owned  # the backend's: it removes it
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    tempfile.tempdir = None  # read TMPDIR again
    try:
        made = private_dirs(volume, {})
    finally:
        tempfile.tempdir = None
    assert made.owned and made.root.parent == tmp_path.resolve()
    assert made.root.name.startswith("ide-pod-") and (os.stat(made.root).st_mode & 0o777) == 0o700


async def test_a_pod_started_by_hand_removes_its_runtime_directory_when_it_stops(
    tmp_path: Path,
) -> None:
    volume, scratch = tmp_path / "volume", tmp_path / "tmp"
    scratch.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(volume)], check=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDE_", "JUPYTER"))}
    env.update(PodEnv(root=volume, port=port, ip="127.0.0.1", token="t" * 32).to_env())
    env["TMPDIR"] = str(scratch)  # no JUPYTER_RUNTIME_DIR: the pod makes its own here
    log = tmp_path / "pod.log"
    with open(log, "ab") as out:
        pod = subprocess.Popen(
            [sys.executable, "-P", "-m", "ide_server.workspace.launch"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                assert pod.poll() is None, log.read_text()
                with contextlib.suppress(httpx.TransportError):
                    health = await client.get(f"http://127.0.0.1:{port}/ide/health", timeout=1)
                    if health.status_code == 200:
                        break
                await asyncio.sleep(0.2)
        [made] = list(scratch.glob("ide-pod-*"))
        assert (made / "kernels").is_dir()
        pod.send_signal(signal.SIGTERM)
        pod.wait(timeout=30)
        assert not made.exists(), log.read_text()
    finally:
        if pod.poll() is None:
            pod.kill()
            pod.wait()
