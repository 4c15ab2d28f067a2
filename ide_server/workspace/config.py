"""The session pod's configuration, read once from its environment at start.

The gateway's backend sets these variables when it starts a pod (a child process locally,
a Pod spec on Kubernetes, where the secret ones come from a Secret). Nothing here is
passed on a command line, so tokens never show in process listings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PodConfig:
    session_id: str
    root: Path  # the volume: the project's git checkout
    base_url: str = "/"
    user: str = "user"  # login name of the session's owner
    user_name: str = "IDE user"  # for git author and committer
    user_email: str = "user@localhost"
    git_url: str = ""
    default_branch: str = "main"
    protect_default_branch: bool = True
    git_token: str = field(default="", repr=False)  # HTTPS token, used only in credential callbacks
    warehouse: Mapping[str, Any] = field(default_factory=dict, repr=False)  # adapter settings
    save_delay: float = 1.0  # seconds between the last keystroke and the write to disk
    max_message_bytes: int = 8 * 1024 * 1024

    @property
    def runtime_dir(self) -> Path:
        """Hidden per-volume state (Y store, file ids); never served through fs/*."""
        return self.root / ".ide"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PodConfig:
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return env.get(f"IDE_POD_{name}", default)

        return cls(
            session_id=get("SESSION_ID", "local"),
            root=Path(os.path.realpath(get("ROOT", os.getcwd()))),
            base_url=get("BASE_URL", "/"),
            user=get("USER", "user"),
            user_name=get("USER_NAME", "IDE user"),
            user_email=get("USER_EMAIL", "user@localhost"),
            git_url=get("GIT_URL"),
            default_branch=get("DEFAULT_BRANCH", "main"),
            protect_default_branch=get("PROTECT_DEFAULT_BRANCH", "1") not in ("0", "false"),
            git_token=get("GIT_TOKEN"),
            warehouse=json.loads(get("WAREHOUSE", "{}") or "{}"),
            save_delay=float(get("SAVE_DELAY", "1.0")),
            max_message_bytes=int(get("MAX_MESSAGE_BYTES", str(8 * 1024 * 1024))),
        )
