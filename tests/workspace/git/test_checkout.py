"""prepare_checkout, the pod's start: a later start touches no git library, a first one
clones, and a volume in any other state gets the clone's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ide_server.workspace.checkout import prepare_checkout
from ide_server.workspace.git.excludes import LOCAL_EXCLUDES
from ide_server.workspace.rpc import RpcError
from tests.support.probe import run_probe

from .conftest import pod_config, run_git

LATER_START = r"""
import json, sys
from pathlib import Path
from ide_server.workspace.checkout import prepare_checkout
from ide_server.workspace.config import PodConfig
prepare_checkout(PodConfig(session_id="s", root=Path(sys.argv[1]), git_url=sys.argv[2]))
print(json.dumps({"pygit2": "pygit2" in sys.modules}))
"""


def test_a_later_start_keeps_the_work_and_restores_the_excludes_without_git(
    tmp_path: Path, file_remote: Path
) -> None:
    config = pod_config(tmp_path / "vol", file_remote.as_uri())
    prepare_checkout(config)  # the first start clones
    root = config.root
    assert (root / "models" / "orders.sql").exists()
    (root / "models" / "orders.sql").write_text("uncommitted work\n")
    exclude = root / ".git" / "info" / "exclude"
    exclude.write_text("# mine\n*.log")  # a user's own entry, no final newline
    assert run_probe(LATER_START, str(root), file_remote.as_uri()) == {"pygit2": False}
    assert (root / "models" / "orders.sql").read_text() == "uncommitted work\n"
    lines = exclude.read_text().splitlines()
    assert lines[:2] == ["# mine", "*.log"]
    assert all(lines.count(entry) == 1 for entry in LOCAL_EXCLUDES)
    prepare_checkout(config)
    assert exclude.read_text().splitlines() == lines  # added once only
    assert " M models/orders.sql" in run_git("status", "--porcelain", cwd=root)


def test_a_git_file_pointing_elsewhere_is_not_taken_for_a_checkout(
    tmp_path: Path, file_remote: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.git"
    elsewhere.mkdir()
    config = pod_config(tmp_path / "vol", file_remote.as_uri())
    config.root.mkdir(parents=True)
    (config.root / ".git").write_text(f"gitdir: {elsewhere}\n")
    with pytest.raises(RuntimeError, match="refusing to clone over them"):
        prepare_checkout(config)
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_git_directory_gets_the_full_checks(tmp_path: Path, file_remote: Path) -> None:
    outside = pod_config(tmp_path / "outside", file_remote.as_uri())
    prepare_checkout(outside)
    config = pod_config(tmp_path / "vol", file_remote.as_uri())
    config.root.mkdir(parents=True)
    (config.root / ".git").symlink_to(outside.root / ".git")
    with pytest.raises(RpcError, match="must be a directory inside the project"):
        prepare_checkout(config)
