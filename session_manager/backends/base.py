"""The interface every session backend implements, and nothing else.

A backend runs session pods and keeps their volumes; it knows nothing of users, RBAC or
the database. The manager calls it and records the state transitions named below.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from ide_server.config import Config
from ide_server.podenv import PodEnv

Progress = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class PodSpec:
    """Everything a backend needs to start one pod."""

    session_id: str
    user: str
    project: str
    base_url: str  # the public path prefix, /sessions/<id>/
    token: str = field(repr=False)  # the pod's own token; only the gateway holds it
    env: PodEnv = field(default_factory=PodEnv, repr=False)  # the gateway's part of it

    def pod_env(self, **where: Any) -> PodEnv:
        """The pod's whole environment contract: the gateway's settings, this spec's
        identity and token, and ``where`` (root, socket or port) from the backend."""
        return self.env.replace(
            session_id=self.session_id,
            user=self.user,
            base_url=self.base_url,
            token=self.token,
            **where,
        )


@dataclass(frozen=True)
class PodInfo:
    """A pod as the backend sees it, for reconcile."""

    session_id: str
    user: str
    project: str
    running: bool
    endpoint: str | None = None


class BackendError(Exception):
    """The backend could not do what was asked; the message is for a person."""


class Backend(ABC):
    """Starts, stops, polls and lists session pods; keeps their volumes."""

    name: ClassVar[str]
    _REQUIRED: ClassVar[tuple[str, ...]] = ("start", "stop", "poll", "list_pods", "delete_volume")

    @classmethod
    def from_config(cls, config: Config) -> Self:
        """The backend as the server's settings configure it, doing no I/O (``start``
        connects). Every backend of ``backends.BACKENDS`` implements it."""
        raise NotImplementedError(f"{cls.__name__} is not built from the settings")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [m for m in cls._REQUIRED if getattr(cls, m) is getattr(Backend, m)]
        if missing and not getattr(cls, "__abstract_base__", False):
            raise TypeError(f"{cls.__name__} must implement {', '.join(missing)}")

    @abstractmethod
    async def start(self, spec: PodSpec, progress: Progress) -> str:
        """Start the pod for ``spec`` (creating its volume if absent) and wait until it answers.

        Calls ``progress`` with a line for a person at each step. Returns the endpoint the
        proxy speaks to: ``unix:/path/to.sock`` or ``http://host:port``. The manager moves the
        session starting → ready on return, and to failed if this raises
        :class:`BackendError` (whose message becomes the session's reason). On failure or
        cancellation the backend removes whatever it started.
        """
        raise NotImplementedError

    @abstractmethod
    async def stop(self, session_id: str) -> None:
        """Stop the session's pod and wait until it is gone; keep the volume.

        Idempotent: stopping a pod that is not running returns normally. The manager moves
        the session stopping → stopped afterwards.
        """
        raise NotImplementedError

    @abstractmethod
    async def poll(self, session_id: str) -> bool:
        """Whether the session's pod is running. The manager marks a ready session
        stopped (reason ``pod exited``) when this turns false."""
        raise NotImplementedError

    @abstractmethod
    async def list_pods(self) -> list[PodInfo]:
        """Every pod this backend runs, for reconcile: the manager adopts pods its rows
        call ready, marks dead rows stopped, and stops pods no row owns."""
        raise NotImplementedError

    @abstractmethod
    async def delete_volume(self, user: str, project: str) -> None:
        """Delete the volume of (user, project). Only an admin's explicit removal of a
        project or user calls this; reaping and stopping never do."""
        raise NotImplementedError

    async def exit_reason(self, session_id: str) -> str | None:
        """Why the session's pod ended, in words for a person, when the backend knows more
        than that it exited (a resource limit). Asked before :meth:`stop`."""
        return None

    async def close(self) -> None:
        """Release clients and watches; pods keep running. Safe to call twice."""
        return None
