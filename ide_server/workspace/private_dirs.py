"""Where the pod keeps what decides what it runs: outside the volume, out of git's reach.

Jupyter looks for configuration (``jupyter_server_config.py`` runs code) and kernelspecs
(``kernel.json`` names the command a kernel starts with) along search paths built from
``JUPYTER_CONFIG_DIR``, ``JUPYTER_CONFIG_PATH``, ``JUPYTER_DATA_DIR``, ``JUPYTER_PATH``
and the process's home; Python puts the working directory of ``python -m`` first on
``sys.path``. The launcher pins all of them to the pod's private directory — the backend's
runtime directory (``JUPYTER_RUNTIME_DIR``: ``<data>/run/<session>`` locally, the pod's own
``emptyDir`` on Kubernetes) — so no file of the checkout is ever on one of those paths.

What the pod keeps *on* the volume (``.ide/``: the Y store and the file-id database, which
must outlive the pod) is data, not configuration; git can never write there (see
:mod:`.git.reserved`), and :func:`prepare_volume_state` removes symlinks that something
else may have planted in it.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from traitlets import List, Unicode

log = logging.getLogger(__name__)

# Search paths a checkout could otherwise be put on by the environment.
_UNSET = ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_PREFER_ENV_PATH")


class PodKernelSpecManager(KernelSpecManager):
    """jupyter_client's manager with its search path settable: the pod gives it one folder.

    Upstream computes ``kernel_dirs`` from ``JUPYTER_PATH``, the data dirs and the
    environment's prefixes and does not let configuration replace it.
    """

    kernel_dirs = List(Unicode(), config=True, help="The only folders kernelspecs come from.")


class PrivateDirError(RuntimeError):
    """The pod's private directory is missing, shared or inside the volume."""


@dataclass(frozen=True)
class PrivateDirs:
    """The pod's private directory and the parts of it Jupyter and the pod use."""

    root: Path
    # Made by the pod itself (no JUPYTER_RUNTIME_DIR): the pod removes it when it stops.
    # One the backend gave is the backend's to remove.
    owned: bool = False

    @property
    def jupyter_config(self) -> Path:
        return self.root / "config"

    @property
    def jupyter_data(self) -> Path:
        return self.root / "data"

    @property
    def kernels(self) -> Path:
        """Where the SQL kernel's kernelspec is written, and the only place kernels come from."""
        return self.root / "kernels"

    @property
    def dbt_profiles(self) -> Path:
        """Where generated dbt profiles go (``--profiles-dir``), never the project's folder."""
        return self.root / "dbt"


def private_dirs(volume: Path, env: MutableMapping[str, str]) -> PrivateDirs:
    """The pod's private directory: ``JUPYTER_RUNTIME_DIR``, else a fresh temporary one
    (``owned``: the pod removes it when it stops).

    Refused if it is inside the volume (git could write it) or not a directory of ours.
    """
    given = env.get("JUPYTER_RUNTIME_DIR")
    real = Path(os.path.realpath(given or tempfile.mkdtemp(prefix="ide-pod-")))
    volume = Path(os.path.realpath(volume))
    if real == volume or volume in real.parents or real in volume.parents:
        raise PrivateDirError(
            f"the pod's runtime directory {real} overlaps the project volume {volume}; "
            "set JUPYTER_RUNTIME_DIR to a directory outside it"
        )
    real.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.stat(real)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise PrivateDirError(f"the pod's runtime directory {real} is not a directory of ours")
    os.chmod(real, 0o700)
    return PrivateDirs(real, owned=not given)


def pin_environment(dirs: PrivateDirs, env: MutableMapping[str, str]) -> None:
    """Point every Jupyter and Python search path of this process and its children at ``dirs``.

    Children (the SQL kernel, dbt, anything a kernel starts) inherit ``env`` and the
    working directory: ``PYTHONSAFEPATH`` keeps ``python -m`` from importing a module
    of the checkout even if one of them is started from the project's folder.
    """
    for directory in (dirs.jupyter_config, dirs.jupyter_data, dirs.kernels, dirs.dbt_profiles):
        directory.mkdir(mode=0o700, exist_ok=True)
    for name in _UNSET:
        env.pop(name, None)
    env["JUPYTER_RUNTIME_DIR"] = str(dirs.root)
    env["JUPYTER_CONFIG_DIR"] = str(dirs.jupyter_config)
    env["JUPYTER_DATA_DIR"] = str(dirs.jupyter_data)
    env["PYTHONSAFEPATH"] = "1"


def prepare_volume_state(state_dir: Path) -> None:
    """Make ``<volume>/.ide`` a plain private directory holding no symlinks.

    A symlink there (planted before git refused reserved paths, or by project code the
    pod ran) would send the Y store's and the file-id database's writes elsewhere. The
    symlinks are removed, a non-directory is moved aside under a visible name.
    """
    try:
        info = os.lstat(state_dir)
    except FileNotFoundError:
        state_dir.mkdir(mode=0o700)
        return
    if stat.S_ISLNK(info.st_mode):
        log.warning("removing the symlink %s: the pod's state directory must be real", state_dir)
        state_dir.unlink()
        state_dir.mkdir(mode=0o700)
    elif not stat.S_ISDIR(info.st_mode):
        aside = state_dir.with_name(f"{state_dir.name}-moved-aside-{int(time.time())}")
        log.warning("moving %s aside to %s: the pod needs that name", state_dir, aside)
        os.rename(state_dir, aside)
        state_dir.mkdir(mode=0o700)
    os.chmod(state_dir, 0o700)
    for entry in os.scandir(state_dir):
        if entry.is_symlink():
            log.warning("removing the symlink %s from the pod's state directory", entry.path)
            os.unlink(entry.path)
