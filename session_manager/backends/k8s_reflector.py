"""A local copy of the session pods: list, then watch, then list again on a timer.

One thread per backend keeps the copy. It lists the pods (replacing the copy, which drops
anything a lost event left behind), then follows a watch from that list's version until
the resync interval ends, and starts over. Errors back off exponentially. Nothing should
trust the copy before the first list has arrived (``wait_synced``), and code that waits for
a pod to change awaits ``wait_changed`` instead of polling the API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import urllib3
from kubernetes.client import ApiException, CoreV1Api

from .k8s_objects import Manifest, matches_selector, meta

log = logging.getLogger(__name__)

_ERRORS = (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError)


class _Relist(Exception):
    """The watch cannot continue from its version (410 Gone): list again at once."""


class PodReflector:
    def __init__(
        self,
        core: CoreV1Api,
        namespace: str,
        selector: str,
        *,
        resync: float = 300.0,
        request_timeout: float = 30.0,
        max_backoff: float = 30.0,
    ) -> None:
        self.core = core
        self.namespace = namespace
        self.selector = selector
        self.resync = resync
        self.request_timeout = request_timeout
        self.max_backoff = max_backoff
        self.last_error = ""
        self.healthy = False  # the last list or watch succeeded
        self._pods: dict[str, Manifest] = {}
        self._lock = threading.Lock()
        self._synced = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()

    # -- life ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the thread; call from the event loop whose waiters it will wake."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(
            target=self._run, name=f"pod-reflector-{self.namespace}", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        self._stopping.set()
        self._interrupt_watch()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, self.request_timeout)
            self._thread = None

    # -- reading the copy ------------------------------------------------------------------
    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def get(self, name: str) -> Manifest | None:
        with self._lock:
            return self._pods.get(name)

    def pods(self) -> list[Manifest]:
        with self._lock:
            return list(self._pods.values())

    async def wait_synced(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not self.synced and time.monotonic() < deadline:
            await self.wait_changed(min(0.5, deadline - time.monotonic()))
        return self.synced

    async def wait_changed(self, seconds: float) -> None:
        """Return after the next change to the copy, or after ``seconds``."""
        try:
            await asyncio.wait_for(self._changed.wait(), max(seconds, 0.0))
        except TimeoutError:
            pass

    def _wake(self) -> None:
        # Every waiter holds the current event; setting it wakes them all, and the next
        # change gets a fresh one.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _notify(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._wake)
        except RuntimeError:
            pass  # the loop closed between the check and the call: nobody is waiting

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                version = self._list()
                failures = 0
                self._follow(version, time.monotonic() + self.resync)
            except _Relist:
                continue
            except _ERRORS as exc:
                if self._stopping.is_set():
                    break
                failures += 1
                self.healthy = False
                self.last_error = _describe(exc)
                delay = min(self.max_backoff, 0.25 * 2**failures) * random.uniform(0.5, 1.0)
                log.warning("pod watch failed (%s); retrying in %.1f s", self.last_error, delay)
                self._notify()
                self._stopping.wait(delay)

    def _list(self) -> str | None:
        response: Any = self.core.list_namespaced_pod(
            self.namespace,
            label_selector=self.selector,
            _preload_content=False,
            _request_timeout=self.request_timeout,
        )
        try:
            body = json.loads(response.data)
        finally:
            response.release_conn()
        pods = {
            meta(p)["name"]: p
            for p in body.get("items") or []
            if matches_selector(p, self.selector)
        }
        with self._lock:
            self._pods = pods
        self.healthy = True
        self._synced.set()
        self._notify()
        return (body.get("metadata") or {}).get("resourceVersion")

    def _follow(self, version: str | None, deadline: float) -> None:
        """Apply watch events until ``deadline``; a watch that ends early is resumed."""
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 1:
                return
            try:
                version = self._watch_once(version, remaining, deadline)
            except urllib3.exceptions.ReadTimeoutError:
                # Nothing arrived for longer than the server promised to keep the watch
                # open: the watch stopped delivering. A fresh list is the safe answer.
                return

    def _watch_once(self, version: str | None, remaining: float, deadline: float) -> str | None:
        options: dict[str, Any] = {}
        if version:
            options["resource_version"] = version
        self._response = self.core.list_namespaced_pod(
            self.namespace,
            label_selector=self.selector,
            watch=True,
            allow_watch_bookmarks=True,
            timeout_seconds=max(1, int(remaining)),
            _preload_content=False,
            # The server ends the watch at timeout_seconds; a read that waits longer than
            # that means the connection is dead, not quiet.
            _request_timeout=(self.request_timeout, remaining + 10),
            **options,
        )
        # Resync on time even if the server keeps a quiet watch open past timeout_seconds.
        timer = threading.Timer(remaining, self._interrupt_watch)
        timer.daemon = True
        timer.start()
        try:
            # stop() sets the flag, then shuts the response it can see: checking the flag
            # after publishing the response means one of the two always notices.
            lines = iter(()) if self._stopping.is_set() else _lines(self._response)
            for line in lines:
                if self._stopping.is_set():
                    break
                version = self._apply(json.loads(line)) or version
        except _ERRORS:
            if not (self._stopping.is_set() or time.monotonic() >= deadline):
                raise
            # We cut the stream ourselves: a normal end.
        finally:
            timer.cancel()
            # close() before release: a half-read stream must not go back to the pool.
            self._response.close()
            self._response.release_conn()
            self._response = None
        return version

    def _apply(self, event: dict[str, Any]) -> str | None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Relist()
            raise ApiException(status=obj.get("code", 500), reason=obj.get("message", ""))
        version = meta(obj).get("resourceVersion")
        if kind == "BOOKMARK":
            return version
        name = str(meta(obj).get("name"))
        with self._lock:
            if kind == "DELETED" or not matches_selector(obj, self.selector):
                # The selector is sent to the server; checking it again here keeps a server
                # that ignores it from filling the copy with other pods.
                self._pods.pop(name, None)
            else:
                self._pods[name] = obj
        self._notify()
        return version

    def _interrupt_watch(self) -> None:
        response = self._response
        if response is not None:
            try:
                response.shutdown()  # unblocks the thread's read at once
            except (OSError, AttributeError):
                pass


def _lines(response: Any) -> Iterator[bytes]:
    buffer = b""
    for chunk in response.stream(amt=None, decode_content=False):
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            if line.strip():
                yield line


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ApiException):
        return f"{exc.status} {exc.reason or ''}".strip()
    return f"{type(exc).__name__}: {exc}"
