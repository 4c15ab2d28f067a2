"""Calls to the Kubernetes API with retries, on plain dicts, from asyncio.

The official client blocks, so each call runs in a thread. Conflicts, throttling, server
errors and network failures are retried with exponential backoff and jitter; what persists
becomes a :class:`BackendError` whose message says what to check. Creates are idempotent:
a create whose answer was lost and is retried finds its own object and adopts it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes.client import ApiException, CoreV1Api

from .base import BackendError
from .k8s_objects import Manifest, is_deleting

log = logging.getLogger(__name__)

# The kinds this backend uses, by the suffix of the client's method names.
_KINDS = {
    "pods": "pod",
    "secrets": "secret",
    "persistentvolumeclaims": "persistent_volume_claim",
}
# Worth another try: an optimistic-concurrency conflict, throttling, a server in trouble.
_RETRY_STATUSES = frozenset({409, 429, 500, 502, 503, 504})
_NETWORK_ERRORS = (urllib3.exceptions.HTTPError, OSError)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int  # setting kube_api_attempts
    request_timeout: float  # setting kube_api_timeout
    first_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        backoff = min(self.max_delay, self.first_delay * 2**attempt)
        # Jitter keeps many gateways (or many starts) from retrying in lockstep.
        jittered = backoff * random.uniform(0.5, 1.0)
        return max(jittered, min(retry_after or 0.0, self.max_delay))


class _Retry(Exception):
    """An attempt that may succeed if repeated; carries what to tell a person if not."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class KubeApi:
    """The namespaced reads and writes of the backend, each retried as a unit."""

    def __init__(
        self, core: CoreV1Api, namespace: str, policy: RetryPolicy, executor: Executor | None = None
    ) -> None:
        self.core = core
        self.namespace = namespace
        self.policy = policy
        self.executor = executor  # None: asyncio's default thread pool

    # -- verbs -----------------------------------------------------------------------------
    async def get(self, kind: str, name: str) -> Manifest | None:
        """The object, or None if there is none."""
        return await self._retrying(f"read {kind} {name}", lambda: self._get_once(kind, name))

    async def list(self, kind: str, selector: str) -> list[Manifest]:
        def once() -> list[Manifest]:
            method = getattr(self.core, f"list_namespaced_{_KINDS[kind]}")
            body = self._json(method(self.namespace, label_selector=selector, **self._raw()))
            return list(body.get("items") or [])

        return await self._retrying(f"list {kind}", once)

    async def delete(self, kind: str, name: str, **options: Any) -> bool:
        """Ask for deletion; False if there was nothing to delete."""

        def once() -> bool:
            method = getattr(self.core, f"delete_namespaced_{_KINDS[kind]}")
            try:
                self._json(method(name, self.namespace, **options, **self._raw()))
            except ApiException as exc:
                if exc.status == 404:
                    return False
                raise
            return True

        return await self._retrying(f"delete {kind} {name}", once)

    async def patch(self, kind: str, name: str, body: Manifest) -> Manifest | None:
        def once() -> Manifest | None:
            method = getattr(self.core, f"patch_namespaced_{_KINDS[kind]}")
            try:
                return self._json(method(name, self.namespace, body, **self._raw()))
            except ApiException as exc:
                if exc.status == 404:
                    return None
                raise

        return await self._retrying(f"update {kind} {name}", once)

    async def create(self, kind: str, body: Manifest) -> Manifest:
        """Create ``body``, or adopt the live object of that name if it already exists.

        Names are ours (derived from the session or the owner), so an existing object is one
        we made: by an earlier attempt whose answer was lost, or an earlier start.
        """
        name = body["metadata"]["name"]

        def once() -> Manifest:
            method = getattr(self.core, f"create_namespaced_{_KINDS[kind]}")
            try:
                return self._json(method(self.namespace, body, **self._raw()))
            except ApiException as exc:
                if exc.status != 409:
                    raise
            existing = self._get_once(kind, name)
            if existing is None or is_deleting(existing):
                # The old one is on its way out; a create after it has gone will work.
                raise _Retry(f"{kind} {name} still exists and is being deleted")
            return existing

        return await self._retrying(f"create {kind} {name}", once)

    # -- machinery -------------------------------------------------------------------------
    def _raw(self) -> dict[str, Any]:
        # Raw JSON: the cache and the manifests are dicts, and skipping the client's model
        # classes avoids their (slow) deserialization of every pod.
        return {"_preload_content": False, "_request_timeout": self.policy.request_timeout}

    def _get_once(self, kind: str, name: str) -> Manifest | None:
        method = getattr(self.core, f"read_namespaced_{_KINDS[kind]}")
        try:
            return self._json(method(name, self.namespace, **self._raw()))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    @staticmethod
    def _json(response: Any) -> Manifest:
        try:
            return json.loads(response.data or b"{}")
        finally:
            response.release_conn()

    async def _retrying(self, what: str, once: Callable[[], Any]) -> Any:
        started = time.monotonic()
        last = "no answer"
        retry_after: float | None = None
        for attempt in range(self.policy.attempts):
            if attempt:
                await asyncio.sleep(self.policy.delay(attempt - 1, retry_after))
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    self.executor, _classify, what, self.namespace, once
                )
            except _Retry as exc:
                last, retry_after = exc.reason, exc.retry_after
                log.warning("could not %s (attempt %d): %s", what, attempt + 1, last)
        raise BackendError(
            f"could not {what} in namespace {self.namespace}: {last} "
            f"(after {self.policy.attempts} attempts over {time.monotonic() - started:.0f} s); "
            "check that the Kubernetes API server is reachable and healthy"
        )


def _classify(what: str, namespace: str, once: Callable[[], Any]) -> Any:
    """Run one attempt; turn its failure into a retry or a final :class:`BackendError`."""
    try:
        return once()
    except ApiException as exc:
        reason = _api_reason(exc)
        if exc.status in _RETRY_STATUSES or exc.status == 0:
            raise _Retry(reason, _retry_after(exc)) from exc
        if exc.status in (401, 403):
            raise BackendError(
                f"the gateway may not {what} in namespace {namespace} ({reason}); give its "
                "ServiceAccount the Role in deploy/ (pods, secrets, persistentvolumeclaims)"
            ) from exc
        raise BackendError(f"the Kubernetes API refused to {what}: {reason}") from exc
    except _NETWORK_ERRORS as exc:
        raise _Retry(f"no answer from the API server ({type(exc).__name__}: {exc})") from exc


def _api_reason(exc: ApiException) -> str:
    """The API's own words (its Status message) when it gave them."""
    message = ""
    try:
        message = json.loads(exc.body or "{}").get("message", "")
    except (ValueError, AttributeError):
        pass
    return f"{exc.status} {exc.reason or ''}".strip() + (f": {message}" if message else "")


def _retry_after(exc: ApiException) -> float | None:
    try:
        return float((exc.headers or {}).get("Retry-After", ""))
    except (TypeError, ValueError):
        return None
