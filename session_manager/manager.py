"""Allocate session pods, report their progress, stop them, and record their activity."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence

from ide_server.podenv import PodEnv
from ide_server.secrets import SecretError

from .backends.base import Backend, BackendError, PodSpec
from .pods import PodClients
from .ports import SessionMetrics, TokenSealer
from .states import State
from .store import Limits, SessionRow, SessionStore

log = logging.getLogger(__name__)

# Proxied traffic is written to the database at most this often per session.
ACTIVITY_WRITE_INTERVAL = 30.0
# Pods stopped at once by stop_sessions: each stop may take the backend a while (a
# process group's grace period, a Kubernetes delete), and many at once would all queue.
PARALLEL_STOPS = 20


class SessionManager:
    def __init__(
        self,
        store: SessionStore,
        backend: Backend,
        sealer: TokenSealer,
        *,
        limits: Limits,
        start_timeout: float = 120,
        pods: PodClients | None = None,
        metrics: SessionMetrics | None = None,
    ) -> None:
        self.limits = limits
        self.metrics = metrics
        self.pods = pods or PodClients()
        self.store = store
        self.backend = backend
        self.sealer = sealer
        self.start_timeout = start_timeout
        self._starts: dict[str, asyncio.Task[None]] = {}
        # Called with the row of a ready session about to be stopped, while its pod still
        # runs (the gateway collects the pod's dbt invocations); must not raise.
        self.before_stop: Callable[[SessionRow], Awaitable[None]] | None = None

    async def close(self) -> None:
        """Cancel starts in flight (their rows go failed); running pods keep running."""
        tasks = list(self._starts.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.backend.close()
        await self.pods.close()

    # -- open and stop ---------------------------------------------------------------------
    async def open_session(
        self,
        user_id: int,
        username: str,
        project_id: int,
        project: str,
        pod_env: Callable[[], Awaitable[PodEnv]],
    ) -> tuple[SessionRow, bool]:
        """The live session of (user, project), starting one if there is none.

        ``pod_env`` builds the pod's settings; it is called only when a pod is started,
        so re-opening a live session never needs the secrets it decrypts.
        """
        row, created = await self.store.create_or_get_live(
            user_id, project_id, self.backend.name, self.limits
        )
        if created:
            try:
                env = await pod_env()
            except Exception as exc:
                await self._fail(row.id, f"could not prepare the pod's settings: {exc}")
                raise
            token = secrets.token_urlsafe(32)
            spec = PodSpec(row.id, username, project, f"/sessions/{row.id}/", token, env)
            self._starts[row.id] = asyncio.create_task(self._start(spec))
        return row, created

    async def _start(self, spec: PodSpec) -> None:
        began = time.monotonic()
        status: str | None = "cancelled"
        try:
            status = await self._start_pod(spec)
        finally:
            if self.metrics is not None and status is not None:
                self.metrics.start_finished(self.backend.name, status, time.monotonic() - began)

    async def _start_pod(self, spec: PodSpec) -> str | None:
        """Start the pod of ``spec``; how it ended (ready, failed, timeout, cancelled), or
        None when it was stopped before it began."""
        session_id = spec.session_id
        try:
            sealed = self.sealer.encrypt(spec.token, f"session:{session_id}")
            if (
                await self.store.transition(
                    session_id, State.STARTING, pod_token=sealed, progress="starting"
                )
                is None
            ):
                return None  # stopped before it began

            async def progress(line: str) -> None:
                await self.store.set_progress(session_id, line)

            try:
                endpoint = await asyncio.wait_for(
                    self.backend.start(spec, progress), self.start_timeout
                )
            except TimeoutError:
                await self._fail(
                    session_id,
                    f"the pod did not become ready within "
                    f"{self.start_timeout:g} s; try again or ask an "
                    f"admin to check the pod logs",
                )
                await self.backend.stop(session_id)  # stop is idempotent: make sure
                return "timeout"
            except BackendError as exc:
                await self._fail(session_id, str(exc))
                await self.backend.stop(session_id)
                return "failed"
            if (
                await self.store.transition(
                    session_id, State.READY, endpoint=endpoint, progress="ready"
                )
                is None
            ):
                # Stopped while starting: do not leave the pod behind.
                await self.backend.stop(session_id)
                return "cancelled"
            return "ready"
        except asyncio.CancelledError:
            await self._fail(session_id, "the gateway shut down while the pod was starting")
            await self.backend.stop(session_id)
            raise
        except Exception as exc:
            log.exception("start of session %s failed", session_id)
            await self._fail(session_id, f"internal error while starting: {exc}")
            await self.backend.stop(session_id)
            return "failed"
        finally:
            self._starts.pop(session_id, None)

    async def _fail(self, session_id: str, reason: str) -> None:
        """A start that went wrong; a session someone is already stopping stays theirs."""
        row = await self.store.transition(
            session_id,
            State.FAILED,
            only_from=(State.PENDING, State.STARTING),
            reason=reason,
            progress="failed",
        )
        if row is not None:
            log.warning("session %s failed: %s", session_id, reason)

    async def stop_session(self, session_id: str, reason: str = "stopped") -> SessionRow | None:
        """Stop the pod, keep the volume. Returns the final row."""
        # Stopping first: a start cancelled below then knows it was stopped, not failed.
        row = await self.store.transition(session_id, State.STOPPING, reason=reason)
        try:
            await self._stop_pod(session_id, row)
        except BackendError as exc:
            await self.store.transition(session_id, State.FAILED, reason=f"stop failed: {exc}")
            return await self.store.get(session_id)
        stopped = await self.store.transition(session_id, State.STOPPED, reason=reason)
        return stopped or await self.store.get(session_id)

    async def stop_sessions(self, stops: Sequence[tuple[SessionRow, str]]) -> list[tuple[str, str]]:
        """Stop many sessions, each for its reason (the reaper's pass); the (id, reason) of
        those this call stopped.

        As :meth:`stop_session` does for one, but the moves to stopping and to stopped are
        one statement each for all of them, and ``PARALLEL_STOPS`` pods stop at a time.
        """
        moved = await self.store.transition_many([(r.id, why) for r, why in stops], State.STOPPING)
        ours = [(row, why) for row, why in stops if row.id in moved]  # not stopped elsewhere
        bound = asyncio.Semaphore(PARALLEL_STOPS)

        async def stop_pod(row: SessionRow, reason: str) -> bool:
            async with bound:
                log.info("stopping session %s of %s (%s)", row.id, row.username, reason)
                try:
                    await self._stop_pod(row.id, row)
                    return True
                except BackendError as exc:
                    await self.store.transition(row.id, State.FAILED, reason=f"stop failed: {exc}")
                except Exception:  # one pod's trouble must not keep the others running
                    log.exception("could not stop session %s; reconcile retries", row.id)
                return False

        done = await asyncio.gather(*(stop_pod(row, why) for row, why in ours))
        stopped = [(row.id, why) for (row, why), ok in zip(ours, done, strict=True) if ok]
        await self.store.transition_many(stopped, State.STOPPED)
        return stopped

    async def _stop_pod(self, session_id: str, row: SessionRow | None) -> None:
        """Everything between the moves to stopping and to stopped (``row``: the session
        as it was, None if it was not live)."""
        if row is not None and row.endpoint and self.before_stop is not None:
            await self.before_stop(row)
        task = self._starts.get(session_id)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if row is not None and row.endpoint:
            await self.pods.forget(row.endpoint)
        await self.backend.stop(session_id)

    # -- the proxy's view ------------------------------------------------------------------
    def pod_token(self, row: SessionRow) -> str:
        if not row.pod_token:
            raise SecretError("session has no pod token")
        return self.sealer.decrypt(row.pod_token, f"session:{row.id}")

    async def pod_gone(self, session_id: str) -> None:
        """The proxy could not reach a ready pod: if it died, mark it stopped."""
        if not await self.backend.poll(session_id):
            reason = await self.backend.exit_reason(session_id) or "pod exited"
            await self.backend.stop(session_id)
            row = await self.store.transition(session_id, State.STOPPED, reason=reason)
            if row is not None and row.endpoint:
                await self.pods.forget(row.endpoint)

    def _may_be_starting_elsewhere(self, row: SessionRow) -> bool:
        """Another replica may be starting it: leave it until it made no progress for long."""
        if row.state not in (State.PENDING, State.STARTING):
            return False
        age = time.time() - row.updated_at.timestamp()
        return age < self.start_timeout

    # -- reconcile -------------------------------------------------------------------------
    async def reconcile(self) -> None:
        """Make the rows and the backend agree: adopt, mark dead, remove orphans."""
        pods = {p.session_id: p for p in await self.backend.list_pods()}
        for row in await self.store.list(
            states=(State.PENDING, State.STARTING, State.READY, State.STOPPING)
        ):
            pod = pods.pop(row.id, None)  # owned by a row: never an orphan
            if row.id in self._starts or self._may_be_starting_elsewhere(row):
                continue
            if row.state == State.READY and pod is not None and pod.running:
                continue  # adopted: the proxy keeps using the endpoint in the row
            reason = await self.backend.exit_reason(row.id) or "pod exited"
            if pod is not None:
                await self.backend.stop(row.id)
            if row.state == State.READY:
                await self.store.transition(row.id, State.STOPPING, reason=reason)
                await self.store.transition(row.id, State.STOPPED, reason=reason)
            elif row.state == State.STOPPING:
                await self.store.transition(row.id, State.STOPPED, reason=row.reason)
            else:
                await self._fail(row.id, "the gateway restarted while the pod was starting")
        for orphan in pods.values():
            if orphan.session_id not in self._starts:
                log.info("removing orphan pod %s", orphan.session_id)
                await self.backend.stop(orphan.session_id)
