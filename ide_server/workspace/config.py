"""The session pod's configuration, read once from its environment at start.

The fields are the pod-environment contract, :class:`ide_server.podenv.PodEnv`: the
gateway and its backend write it, the pod reads it here. Nothing is passed on a command
line, so tokens never show in process listings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ide_server.podenv import PodEnv


@dataclass(frozen=True)
class PodConfig(PodEnv):
    @property
    def runtime_dir(self) -> Path:
        """Hidden per-volume state (Y store, file ids); never served through fs/*."""
        return self.root / ".ide"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PodConfig:
        config = super().from_env(env)
        # The checkout's real path: the pod compares paths under it (fs/*, git) by prefix.
        return config.replace(root=Path(os.path.realpath(config.root)))
