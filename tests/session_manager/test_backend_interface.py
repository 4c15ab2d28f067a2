"""The backend interface is enforced when a subclass is defined."""

from __future__ import annotations

import pytest

from session_manager.backends.base import Backend, PodInfo, PodSpec, Progress
from session_manager.backends.local import LocalBackend
from session_manager.states import IllegalTransition, State, check_transition


def test_a_backend_missing_a_method_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="poll"):

        class Forgetful(Backend):  # noqa: F841 - the definition itself must fail
            name = "forgetful"

            async def start(self, spec: PodSpec, progress: Progress) -> str:
                return "unix:/nowhere"

            async def stop(self, session_id: str) -> None:
                return None

            async def list_pods(self) -> list[PodInfo]:
                return []

            async def delete_volume(self, user: str, project: str) -> None:
                return None


def test_the_local_backend_implements_everything() -> None:
    for method in ("start", "stop", "poll", "list_pods", "delete_volume"):
        assert getattr(LocalBackend, method) is not getattr(Backend, method)


def test_illegal_transitions_raise() -> None:
    check_transition(State.PENDING, State.STARTING)
    check_transition(State.READY, State.STOPPING)
    for current, target in [
        (State.STOPPED, State.READY),
        (State.FAILED, State.STARTING),
        (State.READY, State.STARTING),
        (State.PENDING, State.READY),
    ]:
        with pytest.raises(IllegalTransition):
            check_transition(current, target)
