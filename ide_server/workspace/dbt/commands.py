"""Which dbt commands a client may run and which flags it may give them.

The pod decides where dbt finds its profile, project, target and logs; a flag that would
point dbt elsewhere (``--profiles-dir``, ``--project-dir``, a ``--target-path`` outside the
project) is refused by name, as is anything not on the list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Commands that change the warehouse or the project's files run one at a time per session.
WRITE_COMMANDS = frozenset(
    {"build", "run", "test", "seed", "snapshot", "deps", "clean", "docs generate"}
)
READ_COMMANDS = frozenset({"compile", "ls", "parse", "debug", "show", "source freshness"})
COMMANDS = WRITE_COMMANDS | READ_COMMANDS

# Flags taking one value, and flags taking none; long and short spellings.
_VALUE_FLAGS = frozenset(
    {
        "--select",
        "-s",
        "--models",
        "-m",
        "--exclude",
        "--selector",
        "--resource-type",
        "--resource-types",
        "--exclude-resource-type",
        "--vars",
        "--threads",
        "--limit",
        "--inline",
        "--output",
        "-o",
        "--output-keys",
        "--indirect-selection",
        "--state",
        "--defer-state",
        "--target-path",
        "--log-path",
        "--event-time-start",
        "--event-time-end",
        "--empty-catalog",
    }
)
_BARE_FLAGS = frozenset(
    {
        "--full-refresh",
        "-f",
        "--fail-fast",
        "-x",
        "--no-fail-fast",
        "--defer",
        "--no-defer",
        "--favor-state",
        "--empty",
        "--store-failures",
        "--warn-error",
        "--no-partial-parse",
        "--show",
        "--debug",
        "-d",
        "--no-compile",
        "--static",
        "--no-version-check",
        "--quiet",
        "-q",
    }
)
_SELECTION_FLAGS = frozenset({"--select", "-s", "--exclude", "--models", "-m"})
_PATH_FLAGS = frozenset({"--target-path", "--log-path", "--state", "--defer-state"})
# Flags that say where dbt runs from; only the pod sets them.
_POD_ONLY = frozenset(
    {"--profiles-dir", "--project-dir", "--profile", "--target", "-t", "--log-format"}
)


class BadArgs(ValueError):
    """The command or an argument is not allowed; the message names it."""


@dataclass(frozen=True)
class Command:
    name: str  # "build", "docs generate", ...
    args: tuple[str, ...]

    @property
    def writes(self) -> bool:
        return self.name in WRITE_COMMANDS

    def argv(self) -> list[str]:
        return [*self.name.split(" "), *self.args]


def check_command(name: str, args: list[str], project_dir: Path) -> Command:
    """Validate ``name`` and ``args``; raise BadArgs naming the first offending one."""
    name = " ".join(name.split())
    if name not in COMMANDS:
        raise BadArgs(f"unknown dbt command: {name!r} (allowed: {', '.join(sorted(COMMANDS))})")
    checked: list[str] = []
    pending_value: str | None = None
    for arg in args:
        if not isinstance(arg, str) or "\x00" in arg:
            raise BadArgs("dbt arguments must be strings")
        if pending_value is not None:
            if pending_value in _PATH_FLAGS:
                _check_inside(pending_value, arg, project_dir)
            checked.append(arg)
            pending_value = None
            continue
        flag, _, inline_value = arg.partition("=")
        if flag in _POD_ONLY:
            raise BadArgs(f"{flag} is set by the IDE and cannot be given")
        if flag in _VALUE_FLAGS:
            if inline_value:
                if flag in _PATH_FLAGS:
                    _check_inside(flag, inline_value, project_dir)
            else:
                pending_value = flag
            checked.append(arg)
        elif flag in _BARE_FLAGS and not inline_value:
            checked.append(arg)
        elif arg.startswith("-"):
            raise BadArgs(f"dbt flag not allowed: {flag}")
        elif any(a in _SELECTION_FLAGS for a in checked):
            checked.append(arg)  # dbt takes several space-separated selectors after one flag
        else:
            raise BadArgs(f"unexpected dbt argument: {arg!r}")
    if pending_value is not None:
        raise BadArgs(f"{pending_value} needs a value")
    return Command(name, tuple(checked))


def _check_inside(flag: str, value: str, project_dir: Path) -> None:
    root = os.path.realpath(project_dir)
    target = os.path.realpath(os.path.join(root, value))
    if target != root and not target.startswith(root + os.sep):
        raise BadArgs(f"{flag} must stay inside the project: {value!r}")
