"""One thread per warehouse that stops a statement running past its timeout.

A ``threading.Timer`` per statement starts (and then abandons) a thread for every preview,
a good part of a millisecond each time. This thread is started on the first statement and
sleeps until the armed deadline, if any: arming and disarming only take a lock, and wake
the thread only when it sleeps past the new deadline (or indefinitely).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Deadline:
    """At most one armed deadline at a time; ``action`` runs on this class's thread."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._wake = threading.Condition()
        self._due: float | None = None
        self._action: Callable[[], None] | None = None
        self._sleeps_until: float | None = None  # what the thread waits for; None: forever
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, action: Callable[[], None]) -> None:
        """Call ``action`` in ``seconds`` unless :meth:`disarm` (or another arm) comes first."""
        due = time.monotonic() + seconds
        with self._wake:
            self._due, self._action = due, action
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
            elif self._sleeps_until is None or self._sleeps_until > due:
                self._wake.notify()

    def disarm(self) -> None:
        # The thread is not woken: it finds nothing due when its sleep ends.
        with self._wake:
            self._due, self._action = None, None

    def close(self) -> None:
        """Disarm and stop the thread; safe to call twice. A later ``arm`` starts another."""
        with self._wake:
            self._due, self._action, self._thread = None, None, None
            self._wake.notify_all()

    def _serve(self) -> None:
        me = threading.current_thread()
        with self._wake:
            while self._thread is me:
                now = time.monotonic()
                if self._due is None or self._due > now:
                    self._sleeps_until = self._due
                    self._wake.wait(None if self._due is None else self._due - now)
                    continue
                action, self._due, self._action = self._action, None, None
                self._sleeps_until = None
                if action is not None:
                    self._wake.release()  # the action may take long (a cancel round trip)
                    try:
                        action()
                    except Exception as exc:
                        log.error(
                            "the statement timeout could not stop a statement: %s",
                            type(exc).__name__,
                        )
                    finally:
                        self._wake.acquire()
