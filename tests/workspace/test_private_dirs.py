"""The pod's private directory and the volume's state directory, attacked directly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ide_server.workspace.private_dirs import (
    PrivateDirError,
    pin_environment,
    prepare_volume_state,
    private_dirs,
)


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
