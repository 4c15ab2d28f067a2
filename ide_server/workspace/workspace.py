"""The state one session pod shares between its connected clients.

The extension builds one :class:`Workspace` when it loads and shuts it down when the
server stops; everything per pod (the previews, the git lock) hangs off it rather than
off module-level dictionaries, so tests build as many independent pods as they like.

The services are built on first use (git brings pygit2, dbt and previews their
adapters), so a pod that only edits files never loads them; until one is built, there is
nothing of it to be busy or to shut down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import PodConfig
from .rpc import Client, MethodRegistry

if TYPE_CHECKING:
    from .dbt.service import DbtService
    from .git.background import BackgroundFetch
    from .git.repo import GitState
    from .previews import QueryService

log = logging.getLogger(__name__)


@dataclass
class Workspace:
    """The volume, the registered methods, the connected clients and the pod's activity."""

    config: PodConfig
    registry: MethodRegistry
    kernel_manager: Any = None  # jupyter_server's kernel manager, for query previews
    clients: set[Client] = field(default_factory=set)
    last_activity: float = field(default_factory=time.time)
    # When a gateway last asked for the activity: a live gateway's reaper asks at every
    # pass, so a long silence means the pod is orphaned (see orphan.py).
    last_contact: float = field(default_factory=time.time)
    # Callables answering "is something running right now?" (a preview, a dbt command).
    busy_checks: list[Callable[[], bool]] = field(default_factory=list)
    # Called after the pod itself rewrote files (git, fs/*), so that open documents reload
    # from disk before the caller's answer, not at the next poll a second later.
    disk_watchers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Set by shutdown: a service first built after it must not start anything (a kernel).
    stopping: bool = False

    # Per-pod services (each workspace has its own), built without I/O on first use.
    @cached_property
    def queries(self) -> QueryService:
        from .previews import QueryService

        return QueryService(self)

    @cached_property
    def git(self) -> GitState:
        from .git.repo import GitState

        return GitState(self.config.root)

    @cached_property
    def remote_fetch(self) -> BackgroundFetch:
        from .git.background import BackgroundFetch

        return BackgroundFetch(self)

    @cached_property
    def dbt(self) -> DbtService:
        from .dbt.service import DbtService

        return DbtService(self)

    def _built(self, service: str) -> Any:
        """The service if it was built, else None (reading the property would build it)."""
        return self.__dict__.get(service)

    async def shutdown(self) -> None:
        """Stop what the pod started (the SQL kernel, dbt's processes); safe to call twice."""
        self.stopping = True
        for name in ("queries", "dbt", "remote_fetch"):
            service = self._built(name)
            if service is not None:
                await service.shutdown()

    @property
    def root(self) -> Path:
        return self.config.root

    def mark_active(self) -> None:
        self.last_activity = time.time()

    def is_busy(self) -> bool:
        services = [self._built(name) for name in ("queries", "dbt")]
        return any(s is not None and s.busy() for s in services) or any(
            check() for check in self.busy_checks
        )

    async def files_changed_on_disk(self) -> None:
        for watcher in self.disk_watchers:
            try:
                await watcher()
            except Exception:  # a document that fails to reload must not fail the call
                log.warning("reloading open documents failed", exc_info=True)

    async def broadcast(
        self, method: str, params: Mapping[str, Any], *, exclude: Client | None = None
    ) -> None:
        for client in list(self.clients):
            if client is exclude:
                continue
            try:
                await client.notify(method, params)
            except Exception:  # a closing socket must not stop the others
                log.debug("notify %s failed for one client", method, exc_info=True)


@dataclass
class CallContext:
    """What one RPC call sees: the workspace and the client that called."""

    workspace: Workspace
    client: Client

    async def broadcast(
        self, method: str, params: Mapping[str, Any], *, include_self: bool = False
    ) -> None:
        await self.workspace.broadcast(
            method, params, exclude=None if include_self else self.client
        )
