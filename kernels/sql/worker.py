"""The kernel's one warehouse thread: every warehouse call of every preview runs on it.

Driver calls block (a DuckDB scan, a PostgreSQL round trip), so they cannot run on the
kernel's event loop, which must stay free to answer interrupts and heartbeats. A thread
started per preview costs a good part of a millisecond each time; this one is started once
and then waits on its queue. Previews run one at a time anyway (the pod sends the next only
after the last one's reply), so one thread is all the concurrency there is to have.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Job = Callable[[], None]


class WarehouseWorker:
    """A long-lived thread running jobs in the order they were submitted."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Job) -> None:
        """Run ``job`` on the worker thread (started on first use) after earlier jobs.

        A job reports its own outcome (see :mod:`.stream`); one that raises anyway is
        logged, and the thread goes on with the next.
        """
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="sql-warehouse")
                self._thread.daemon = True  # a stuck driver call must not keep the kernel alive
                self._thread.start()
        self._jobs.put(job)

    def stop(self) -> None:
        """Let the thread finish its current job and exit; safe to call twice."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except BaseException as exc:
                # The job's text may quote data: only its type goes to the log.
                log.error("a warehouse job failed: %s", type(exc).__name__)
