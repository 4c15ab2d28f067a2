"""The life of a session, as an explicit state machine stored in PostgreSQL."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"
    STARTING = "starting"
    READY = "ready"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


LIVE = (State.PENDING, State.STARTING, State.READY, State.STOPPING)

# Which states each state may move to. Anything else is a bug and raises.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.STARTING, State.STOPPING, State.FAILED}),
    State.STARTING: frozenset({State.READY, State.STOPPING, State.FAILED}),
    State.READY: frozenset({State.STOPPING, State.STOPPED}),
    State.STOPPING: frozenset({State.STOPPED, State.FAILED}),
    State.STOPPED: frozenset(),
    State.FAILED: frozenset(),
}


class IllegalTransition(Exception):
    pass


def sources_of(target: State) -> tuple[State, ...]:
    """The states from which ``target`` may be reached."""
    return tuple(s for s, targets in TRANSITIONS.items() if target in targets)


def check_transition(current: State, target: State) -> None:
    """Raise :class:`IllegalTransition` unless ``current`` may move to ``target``."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"a session cannot go from {current} to {target}")
