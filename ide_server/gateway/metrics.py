"""The gateway's Prometheus metrics: one registry per gateway (so per replica, and per app
in tests), filled by the routes, the proxy, the session manager and a loop-lag sampler.

Counts kept in PostgreSQL (sessions by state, active users) are read at scrape time, so
every replica reports the same installation-wide figures; everything else is this
replica's own. Every label value is created up front so each series exists at zero and a
``rate()`` or an alert on it works from the first scrape. See docs/operations.md.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from session_manager.periodic import Periodic
from session_manager.states import State

from ..db import Database

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BACKENDS = ("local", "kubernetes")
START_STATUSES = ("ready", "failed", "timeout", "cancelled")
LOGIN_RESULTS = ("success", "failure", "disabled", "throttled")
LOGIN_METHODS = ("local", "sso")
DBT_STATUSES = ("success", "error", "cancelled")
SOCKET_KINDS = ("ide", "room")
# The pod's dbt commands (ide_server/workspace/dbt/commands.py; a test keeps them equal)
# and the statuses of the invocation index (invocations.py).
DBT_COMMANDS = (
    "build", "clean", "compile", "debug", "deps", "docs generate", "ls", "parse", "run",
    "seed", "show", "snapshot", "source freshness", "test",
)  # fmt: skip
ACTIVE_PERIODS = ("24h", "7d", "30d")
LAG_INTERVAL = 0.5  # seconds between two samples of the event loop's lag

_START_BUCKETS = (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30, 60, 120, float("inf"))
_PROXY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, float("inf"))
_REAPER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, float("inf"))
_LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, float("inf"))

# A user is active when they logged in, used a login, or their session saw activity.
_ACTIVE_USERS = """
SELECT count(DISTINCT user_id) FILTER (WHERE at > now() - interval '24 hours') AS "24h",
       count(DISTINCT user_id) FILTER (WHERE at > now() - interval '7 days') AS "7d",
       count(DISTINCT user_id) AS "30d"
FROM (
    SELECT user_id, last_seen AS at FROM login_sessions
    UNION ALL SELECT user_id, last_activity FROM sessions
    UNION ALL SELECT u.id, a.at FROM audit_log a JOIN users u ON u.username = a.actor
        WHERE a.action IN ('login', 'login.sso')
) seen
WHERE at > now() - interval '30 days'
"""


class GatewayMetrics:
    """The metrics of one gateway; constructing it does no I/O."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.session_start = Histogram(
            "ide_session_start_duration_seconds",
            "Seconds from a session's creation to its pod being ready, failed or abandoned.",
            ("backend", "status"),
            buckets=_START_BUCKETS,
            registry=r,
        )
        self.sessions = Gauge(
            "ide_sessions", "Sessions of the installation by state.", ("state",), registry=r
        )
        self.active_users = Gauge(
            "ide_active_users", "Users active within the period.", ("period",), registry=r
        )
        self.logins = Counter(
            "ide_login",
            "Login attempts on this replica by result and method (password or SSO).",
            ("result", "method"),
            registry=r,
        )
        self.proxy_request = Histogram(
            "ide_proxy_request_duration_seconds",
            "Seconds the pod took to answer a proxied HTTP request.",
            buckets=_PROXY_BUCKETS,
            registry=r,
        )
        self.websockets = Gauge(
            "ide_websockets_open",
            "WebSockets this replica proxies to pods, by kind (ide protocol or Yjs room).",
            ("kind",),
            registry=r,
        )
        self.reaper = Histogram(
            "ide_reaper_pass_duration_seconds",
            "Seconds one pass of the idle reaper took (only on the replica that leads).",
            buckets=_REAPER_BUCKETS,
            registry=r,
        )
        self.loop_lag = Histogram(
            "ide_event_loop_lag_seconds",
            f"How late the event loop woke a task that slept {LAG_INTERVAL} s.",
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        for backend in BACKENDS:
            for status in START_STATUSES:
                self.session_start.labels(backend, status)
        for state in State:
            self.sessions.labels(state.value)
        for period in ACTIVE_PERIODS:
            self.active_users.labels(period)
        for result in LOGIN_RESULTS:
            for method in LOGIN_METHODS:
                self.logins.labels(result, method)
        for kind in SOCKET_KINDS:
            self.websockets.labels(kind)
        self._lag_sampler = Periodic("loop-lag", self._sample_lag, LAG_INTERVAL)
        self._last_sample: float | None = None
        self._dbt = _DbtInvocations()
        r.register(self._dbt)

    # -- what the session manager reports (session_manager.ports.SessionMetrics) -----------
    def start_finished(self, backend: str, status: str, seconds: float) -> None:
        self.session_start.labels(backend, status).observe(seconds)

    def reaper_pass(self, seconds: float) -> None:
        self.reaper.observe(seconds)

    def login(self, result: str, method: str = "local") -> None:
        self.logins.labels(result, method).inc()

    @contextlib.contextmanager
    def websocket_open(self, kind: str) -> Iterator[None]:
        gauge = self.websockets.labels(kind)
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()

    # -- the loop-lag sampler ---------------------------------------------------------------
    def start(self) -> None:
        self._last_sample = None
        self._lag_sampler.start()

    async def stop(self) -> None:
        await self._lag_sampler.stop()

    async def _sample_lag(self) -> None:
        """How much later than asked this round woke: the loop was busy for that long."""
        now = time.monotonic()
        if self._last_sample is not None:
            self.loop_lag.observe(max(0.0, now - self._last_sample - LAG_INTERVAL))
        self._last_sample = now

    # -- a scrape ------------------------------------------------------------------------------
    async def render(self, db: Database) -> bytes:
        """The text exposition, after reading the installation-wide counts."""
        counts = {row["state"]: row["n"] for row in await db.fetchall(_SESSIONS_BY_STATE)}
        for state in State:
            self.sessions.labels(state.value).set(counts.get(state.value, 0))
        active = await db.fetchone(_ACTIVE_USERS) or {}
        for period in ACTIVE_PERIODS:
            self.active_users.labels(period).set(active.get(period) or 0)
        rows = await db.fetchall(_DBT_BY_COMMAND)
        self._dbt.counts = {(row["command"], row["status"]): row["n"] for row in rows}
        return generate_latest(self.registry)


_SESSIONS_BY_STATE = "SELECT state, count(*) AS n FROM sessions GROUP BY state"

# Finished invocations only: a running one is counted once it ends.
_DBT_BY_COMMAND = (
    "SELECT command, status, count(*) AS n FROM dbt_invocations"
    " WHERE status <> 'running' GROUP BY command, status"
)


class _DbtInvocations(Collector):
    """``ide_dbt_invocations_total``: the invocation index's rows by command and status,
    read at scrape time, so it is the installation's count on every replica."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> list[Metric]:
        family = self._family()
        counts = {(c, s): 0 for c in DBT_COMMANDS for s in DBT_STATUSES}
        counts.update(self.counts)
        for (command, status), n in sorted(counts.items()):
            family.add_metric([command, status], n)
        return [family]

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily(
            "ide_dbt_invocations",
            "dbt invocations of the installation that finished, by command and status.",
            labels=("command", "status"),
        )
