"""The contract between the gateway and a session pod: every setting a pod receives.

One dataclass, one field per setting. The gateway fills in what depends on the user and
the project, the backend where the pod runs (its socket or port, its root); the backend
puts :meth:`PodEnv.to_env` in the pod's environment (on Kubernetes the ``secret`` fields go
to the session's Secret, the others into the Pod spec) and the pod reads it back with
:meth:`PodEnv.from_env`. Never a command line: tokens must not show in process listings.

A field's variable is ``IDE_POD_<NAME>`` unless its metadata names another; its type gives
its encoding (bool as 1/0, a mapping as JSON).
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

PREFIX = "IDE_POD_"

T = TypeVar("T", bound="PodEnv")


def _secret(default: Any = "", **metadata: Any) -> Any:
    """A credential: kept out of reprs, and out of the Pod spec on Kubernetes."""
    if isinstance(default, dict):
        return field(default_factory=dict, repr=False, metadata={"secret": True, **metadata})
    return field(default=default, repr=False, metadata={"secret": True, **metadata})


@dataclass(frozen=True)
class PodEnv:
    # -- where the pod runs: filled in by the backend --------------------------------------
    session_id: str = "local"
    user: str = "user"  # login name of the session's owner
    base_url: str = "/"  # the public path prefix, /sessions/<id>/
    root: Path = Path(".")  # the volume's checkout of the project
    sock: str = ""  # a Unix socket to listen on (the local backend); empty: TCP
    ip: str = "0.0.0.0"  # noqa: S104 - a pod's own network; only with TCP
    port: int = 8888
    token: str = _secret(env="JUPYTER_TOKEN")  # the pod's own token; only the gateway has it
    # -- the user and the project: filled in by the gateway --------------------------------
    user_name: str = "IDE user"  # git author and committer
    user_email: str = "user@localhost"
    git_url: str = ""
    default_branch: str = "main"
    protect_default_branch: bool = True
    git_token: str = _secret()  # HTTPS token, used only in credential callbacks
    git_ca_bundle: str = ""  # PEM file of extra CAs for HTTPS remotes
    # "Open pull request" on a self-hosted instance (the project's setting): github, gitlab
    # or azure, empty to guess from the host; the web base URL when not the remote's host.
    git_provider: str = ""
    git_web_url: str = ""
    warehouse: Mapping[str, Any] = _secret({})  # adapter settings, with the user's login
    save_delay: float = 1.0  # seconds between the last keystroke and the write to disk
    max_message_bytes: int = 8 * 1024 * 1024
    # Seconds without a word from any gateway (reaper probe, IDE socket, activity) after
    # which the pod stops itself; 0 = never (see ide_server/workspace/orphan.py).
    orphan_timeout: float = 0.0

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable of field ``name``."""
        return str(_FIELDS[name].metadata.get("env") or PREFIX + name.upper())

    @classmethod
    def secret_variables(cls) -> frozenset[str]:
        return frozenset(cls.variable(f.name) for f in _FIELDS.values() if f.metadata.get("secret"))

    def to_env(self) -> dict[str, str]:
        """Every field as its variable, encoded."""
        return {self.variable(name): _encode(getattr(self, name)) for name in _FIELDS}

    def secret_env(self) -> dict[str, str]:
        secret = self.secret_variables()
        return {k: v for k, v in self.to_env().items() if k in secret}

    def plain_env(self) -> dict[str, str]:
        secret = self.secret_variables()
        return {k: v for k, v in self.to_env().items() if k not in secret}

    @classmethod
    def from_env(cls: type[T], env: Mapping[str, str] | None = None) -> T:
        """The fields whose variable is set; the others keep their defaults.

        Raises ValueError naming the variable when a value cannot be decoded.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name in _FIELDS:
            variable = cls.variable(name)
            if variable in env:
                values[name] = _decode(variable, _TYPES[name], env[variable])
        return cls(**values)

    @classmethod
    def read(cls, name: str, env: Mapping[str, str] | None = None) -> Any:
        """One field from the environment (its default when unset)."""
        env = os.environ if env is None else env
        variable = cls.variable(name)
        if variable not in env:
            return getattr(cls(), name)
        return _decode(variable, _TYPES[name], env[variable])

    def replace(self: T, **changes: Any) -> T:
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name: f for f in dataclasses.fields(PodEnv)}
_TYPES: dict[str, Any] = typing.get_type_hints(PodEnv)


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Mapping):
        return json.dumps(dict(value))
    return str(value)


def _decode(variable: str, kind: Any, raw: str) -> Any:
    try:
        if kind is bool:
            return raw.strip().lower() not in ("0", "false", "no", "off")
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw)
        if typing.get_origin(kind) is Mapping:
            value = json.loads(raw or "{}")
            if not isinstance(value, dict):
                raise ValueError("not a JSON object")
            return value
    except ValueError as exc:
        raise ValueError(f"{variable}: {exc}") from None
    return raw
