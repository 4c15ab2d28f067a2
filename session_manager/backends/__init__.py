"""The session backends, by the name the ``session_backend`` setting gives.

Each is built from the server's configuration by its ``from_config``; a backend module is
imported only when chosen (the Kubernetes client is slow to import and absent from some
installs). Adding a backend: a :class:`.base.Backend` subclass with ``from_config``, its
settings in ide_server/config.py, and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ide_server.config import Config

from .base import Backend


def _local(config: Config) -> Backend:
    from .local import LocalBackend

    return LocalBackend.from_config(config)


def _kubernetes(config: Config) -> Backend:
    from .kubernetes import KubernetesBackend

    return KubernetesBackend.from_config(config)


BACKENDS: Mapping[str, Callable[[Config], Backend]] = {
    "local": _local,
    "kubernetes": _kubernetes,
}


class UnknownBackend(ValueError):
    pass


def create_backend(config: Config) -> Backend:
    """The backend ``config.session_backend`` names, configured; no I/O yet."""
    name = config.session_backend
    try:
        factory = BACKENDS[name]
    except KeyError:
        choices = ", ".join(repr(n) for n in BACKENDS)
        raise UnknownBackend(f"unknown session backend {name!r}: use one of {choices}") from None
    return factory(config)
