"""A pod that no gateway talks to any more stops itself.

A live gateway is never silent for long: its reaper asks every pod for its activity at each
pass (``/ide/activity``), and it proxies the browser's sockets. A pod that hears nothing of
the kind for ``orphan_timeout`` seconds (its gateway was removed, or came back on another
data dir and cannot adopt it) and has no IDE client and no work running shuts the server
down as a SIGTERM would: kernels and dbt processes are stopped, the volume is left as it is.

jupyter-server's own ``shutdown_no_activity_timeout`` does not fit: it never stops while a
kernel runs (the SQL kernel stays up after the first preview), and it does not see the
IDE socket's traffic.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from tornado.ioloop import PeriodicCallback

from .workspace import Workspace

log = logging.getLogger(__name__)


def is_orphaned(workspace: Workspace, timeout: float, now: float) -> bool:
    """Whether the pod has heard from no gateway for ``timeout`` seconds and holds nothing."""
    if workspace.clients or workspace.is_busy():
        return False
    return now - max(workspace.last_activity, workspace.last_contact) > timeout


class OrphanWatch:
    """Checks a few times per ``timeout`` (at most every 30 s); ``stop`` ends the server."""

    def __init__(self, workspace: Workspace, timeout: float, stop: Callable[[], None]) -> None:
        self.workspace = workspace
        self.timeout = timeout
        self._stop = stop
        self._timer: PeriodicCallback | None = None

    def start(self) -> None:
        if self.timeout > 0 and self._timer is None:
            every = min(max(self.timeout / 4, 0.25), 30.0)
            self._timer = PeriodicCallback(self.check, every * 1000)
            self._timer.start()

    def stop(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()

    def check(self) -> None:
        if is_orphaned(self.workspace, self.timeout, time.time()):
            log.warning(
                "no gateway has been in touch for %g s and nothing is running: stopping the pod",
                self.timeout,
            )
            self.stop()
            self._stop()
