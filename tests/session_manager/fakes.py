"""Backends that each model one behaviour, for tests of the manager and the reaper."""

from __future__ import annotations

import asyncio

from session_manager.backends.base import Backend, BackendError, PodInfo, PodSpec, Progress


class InstantBackend(Backend):
    """Pods start at once and run until stopped; they answer no HTTP (no endpoint)."""

    name = "instant"

    def __init__(self) -> None:
        self.running: dict[str, PodSpec] = {}
        self.starts = 0

    async def start(self, spec: PodSpec, progress: Progress) -> str:
        self.starts += 1
        await progress("instant")
        self.running[spec.session_id] = spec
        return f"unix:/nonexistent/{spec.session_id}"

    async def stop(self, session_id: str) -> None:
        self.running.pop(session_id, None)

    async def poll(self, session_id: str) -> bool:
        return session_id in self.running

    async def list_pods(self) -> list[PodInfo]:
        return [PodInfo(s.session_id, s.user, s.project, True) for s in self.running.values()]

    async def delete_volume(self, user: str, project: str) -> None:
        return None


class NeverReadyBackend(InstantBackend):
    """Pods never become ready: the start hangs until cancelled."""

    name = "never"

    async def start(self, spec: PodSpec, progress: Progress) -> str:
        self.running[spec.session_id] = spec
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class BrokenBackend(InstantBackend):
    """Every start fails with a reason a person can act on."""

    name = "broken"

    async def start(self, spec: PodSpec, progress: Progress) -> str:
        raise BackendError("the cluster refused the pod: quota exceeded")
