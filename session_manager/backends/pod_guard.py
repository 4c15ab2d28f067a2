"""PID 1 of a local pod's sandbox: starts the pod, reaps orphans, holds the pod to its limits.

``python -I -S .../pod_guard.py --memory-mb M --tasks N --open-files F --reason-file PATH --
command...`` (see :func:`command`)

It runs before the pod on every start, so it is one file of the standard library: started
by its path, without ``site`` and without importing its package (which brings the
server's settings), it is ready in about 15 ms instead of 75.

Every process of the pod lives in the sandbox's PID namespace, so ``/proc`` here lists
exactly the pod: the guard sums their memory and counts their tasks (processes and threads)
twice a second, and when one total passes its limit it kills the whole pod and writes why,
in words for a person, to the reason file (the backend reports it as the session's reason).
Open files are a per-process rlimit, set here before the pod starts and inherited by all.

Being PID 1 of the namespace, the guard ignores any signal from inside the pod that it does
not handle, SIGKILL and SIGSTOP included, and it is not dumpable (no ptrace, no
``/proc/1/mem``): the pod cannot switch its limits off. SIGTERM from the backend is passed
on to the pod, which then shuts down cleanly; when the pod's main process exits, the guard
exits with its status and the kernel ends whatever else is left in the namespace.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys

_INTERVAL = 0.5
_PAGE = os.sysconf("SC_PAGE_SIZE")
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
EXIT_LIMIT = 137  # what a SIGKILL'ed process reports: the pod was killed


def _harden() -> None:
    """Not dumpable (no ptrace, no /proc/1/mem from the pod), and killed with bwrap: bwrap's
    pid is the pod's pid for the backend, and a pod whose bwrap was killed is gone for it
    (the kernel delivers this SIGKILL even to a namespace's PID 1)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the sandbox does not run there anyway
        pass


def _usage() -> tuple[int, int]:
    """(bytes of private memory, tasks) of every process in this PID namespace."""
    memory = tasks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = _read(f"/proc/{entry.name}/statm").split()
            stat = _read(f"/proc/{entry.name}/stat").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        # resident minus file-backed/shared pages: what this process alone holds
        memory += max(0, int(fields[1]) - int(fields[2])) * _PAGE
        tasks += int(stat[17])  # num_threads
    return memory, tasks


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as f:
        return f.read()


def _over_limit(memory_mb: int, max_tasks: int) -> str | None:
    memory, tasks = _usage()
    if memory_mb and memory > memory_mb * 1024 * 1024:
        return (
            f"the session used more than its memory limit of {memory_mb} MiB "
            "(IDE_LOCAL_MEMORY_LIMIT_MB) and was stopped"
        )
    if max_tasks and tasks > max_tasks:
        return (
            f"the session ran more than {max_tasks} processes and threads at once "
            "(IDE_LOCAL_MAX_TASKS) and was stopped"
        )
    return None


def _reap(child: int) -> int | None:
    """Reap every exited process (orphans land here); the exit code once ``child`` ended."""
    status = None
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status if status is not None else 0
        if pid == 0:
            return status
        if pid == child:
            status = os.waitstatus_to_exitcode(code)
            status = 128 - status if status < 0 else status


def _start(command: list[str]) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})  # the mask survives exec
            os.execvp(command[0], command)  # noqa: S606 - the pod's own argv, no shell
        finally:
            os._exit(127)
    return pid


def command(python: str) -> list[str]:
    """How a backend starts the guard (its options and the pod's command follow)."""
    return [python, "-I", "-S", os.path.realpath(__file__)]


class Options:
    """The guard's options (a plain class: dataclasses would import inspect, 12 ms)."""

    def __init__(
        self, memory_mb: int, tasks: int, open_files: int, reason_file: str, command: list[str]
    ) -> None:
        self.memory_mb, self.tasks, self.open_files = memory_mb, tasks, open_files
        self.reason_file, self.command = reason_file, command


class UsageError(ValueError):
    pass


def parse(argv: list[str]) -> Options:
    """``--memory-mb M --tasks N --open-files F --reason-file PATH -- command...``."""
    numbers = {"--memory-mb": 0, "--tasks": 0, "--open-files": 0}
    reason_file = ""
    rest = list(argv)
    while rest and rest[0] != "--":
        flag = rest.pop(0)
        if flag != "--reason-file" and flag not in numbers:
            raise UsageError(f"unknown option {flag}")
        if not rest:
            raise UsageError(f"{flag} needs a value")
        value = rest.pop(0)
        if flag == "--reason-file":
            reason_file = value
        elif not value.isdigit():
            raise UsageError(f"{flag} must be a whole number, not {value!r}")
        else:
            numbers[flag] = int(value)
    if not reason_file:
        raise UsageError("--reason-file is required")
    if len(rest) < 2:
        raise UsageError("no command after --")
    return Options(
        numbers["--memory-mb"], numbers["--tasks"], numbers["--open-files"], reason_file, rest[1:]
    )


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"pod_guard: {exc}", file=sys.stderr)
        return 2
    _harden()
    if args.open_files:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        limit = args.open_files if hard == resource.RLIM_INFINITY else min(args.open_files, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    # SIGCHLD stays pending until sigtimedwait takes it: an exit is seen at once, not at
    # the next poll.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    child = _start(args.command)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGTERM))
    signal.signal(signal.SIGINT, lambda *_: os.kill(child, signal.SIGINT))
    while True:
        status = _reap(child)
        if status is not None:
            return status
        reason = _over_limit(args.memory_mb, args.tasks)
        if reason is not None:
            with open(args.reason_file, "w", encoding="utf-8") as f:
                f.write(reason + "\n")
            print(reason, file=sys.stderr, flush=True)
            os.kill(-1, signal.SIGKILL)  # everything in the namespace but the guard
            return EXIT_LIMIT
        signal.sigtimedwait({signal.SIGCHLD}, _INTERVAL)


if __name__ == "__main__":
    sys.exit(main())
