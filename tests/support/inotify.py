"""Linux inotify through ctypes: for fault tests that act at an exact file-system event."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

IN_MODIFY = 0x002
IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
_EVENT = struct.Struct("iIII")

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


@dataclass(frozen=True)
class Event:
    mask: int
    name: str


class DirectoryWatch:
    """Events of the entries of one directory, read without blocking past a deadline."""

    def __init__(self, directory: Path, mask: int) -> None:
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        if _libc.inotify_add_watch(self.fd, str(directory).encode(), mask) < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), f"cannot watch {directory}")

    def wait_for(self, wanted: Callable[[Event], bool], timeout: float) -> Event | None:
        """The first event ``wanted`` accepts, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                continue
            data = os.read(self.fd, 65536)
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                raw = data[offset + _EVENT.size : offset + _EVENT.size + length]
                offset += _EVENT.size + length
                event = Event(mask, raw.rstrip(b"\0").decode(errors="replace"))
                if wanted(event):
                    return event
        return None

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> DirectoryWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The moments a fault test can kill a writer at (see tests/workspace/test_durable_writes.py).
STAGES: dict[str, Callable[[Event], bool]] = {
    # Any new entry beside the file: the temporary file (or a backup of the old content).
    "create": lambda e: bool(e.mask & IN_CREATE),
    # The first write of new content: into a temporary file, or into the file itself.
    "first-write": lambda e: bool(e.mask & IN_MODIFY) and not e.name.startswith(".~"),
    "rename": lambda e: bool(e.mask & IN_MOVED_TO),
}
WATCHED = IN_CREATE | IN_MODIFY | IN_MOVED_TO | IN_CLOSE_WRITE


def kill_at(directory: Path, stage: str, name: str, pgid: int, timeout: float) -> None:
    """SIGKILL process group ``pgid`` at ``stage`` of a write of ``name``.

    Runs in a process of its own (``python -m tests.support.inotify``), so that nothing
    else competes for the interpreter between the event and the kill. A writer without that
    step (no rename) is killed once it closed the file instead. Prints the event.
    """
    import signal

    def wanted(event: Event) -> bool:
        finished = bool(event.mask & IN_CLOSE_WRITE) and event.name == name
        return STAGES[stage](event) or finished

    with DirectoryWatch(directory, WATCHED) as watch:
        print("watching", flush=True)
        event = watch.wait_for(wanted, timeout)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    print(f"{event.mask:#x} {event.name}" if event else "timeout", flush=True)


if __name__ == "__main__":
    import sys

    directory_arg, stage_arg, name_arg, pgid_arg = sys.argv[1:5]
    kill_at(Path(directory_arg), stage_arg, name_arg, int(pgid_arg), 60)
