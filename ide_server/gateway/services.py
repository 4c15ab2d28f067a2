"""Everything the gateway holds, started and stopped with the ASGI lifespan."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from pathlib import Path

from session_manager.backends import UnknownBackend, create_backend
from session_manager.manager import ACTIVITY_WRITE_INTERVAL, SessionManager
from session_manager.pods import PodClients
from session_manager.reaper import Reaper, ReapPolicy
from session_manager.store import Limits, SessionStore

from ..config import Config
from ..db import Database
from ..podenv import PodEnv
from ..protocol import GUEST_MODES, WRITE_METHODS
from ..secrets import SecretBox
from .accounts import Accounts, Project, User
from .activity import ActivityBuffer
from .collector import InvocationCollector
from .credentials import GIT_TOKEN, Credentials
from .embedded_pg import EmbeddedPostgres
from .git_provider import GitProviderStore
from .invocations import InvocationIndex
from .logins import Logins
from .metrics import GatewayMetrics
from .migrations import MIGRATIONS
from .objectstore import ObjectStore, create_store
from .retention import Retention
from .revocation import SocketRegistry
from .shares import Shares
from .sso_service import SingleSignOn, build_sso
from .throttle import LoginThrottle
from .warehouse_config import InvalidSettings, demo_connection, from_legacy
from .warehouse_store import WarehouseStore

log = logging.getLogger(__name__)

ADMIN = "admin"
DEMO_PROJECT = "demo"


class Services:
    """Constructed without I/O; ``start()`` connects and bootstraps, ``stop()`` undoes it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._embedded: EmbeddedPostgres | None = None
        self.db: Database
        self.accounts: Accounts
        self.shares: Shares
        self.logins: Logins
        self.store: SessionStore
        self.manager: SessionManager
        self.activity: ActivityBuffer  # what the proxy saw, written in the background
        self.secret_box: SecretBox
        self.warehouses: WarehouseStore
        self.git_providers: GitProviderStore
        self.pods = PodClients()
        self.metrics = GatewayMetrics()  # this replica's own registry
        self.reaper: Reaper | None = None
        self.objects: ObjectStore | None = None  # dbt logs and artifacts
        self.collector: InvocationCollector | None = None
        self.sockets: SocketRegistry | None = None  # the proxied sockets, when serving
        self.sso: SingleSignOn | None = None  # single sign-on, when IDE_AUTH_MODE allows it
        self.first_login: tuple[str, str] | None = None  # (user, password) when generated
        self.write_methods = WRITE_METHODS
        self.guest_modes = GUEST_MODES

    async def start(self, *, manage_sessions: bool = True) -> None:
        """Connect and bootstrap; ``manage_sessions=False`` for one-off admin commands,
        which must not reconcile the pods of a running gateway. On failure, whatever was
        started is stopped again."""
        try:
            await self._start(manage_sessions)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, manage_sessions: bool) -> None:
        data = self.config.data_path
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
        url = self.config.database_url
        if not url:
            self._embedded = EmbeddedPostgres(data)
            url = await asyncio.to_thread(self._embedded.start)
        self.db = Database(url, migrations=MIGRATIONS)
        await self.db.open()
        self.secret_box = SecretBox.from_environment(data)
        self.accounts = Accounts(self.db)
        self.credentials = Credentials(self.db, self.secret_box)
        self.warehouses = WarehouseStore(self.db, self.credentials)
        self.git_providers = GitProviderStore(self.db)
        self.logins = Logins(
            self.db, idle_timeout=self.config.login_idle_timeout, max_age=self.config.login_max_age
        )
        self.throttle = LoginThrottle(self.db)
        self.store = SessionStore(self.db)
        self.shares = Shares(self.db, expiry=self.config.share_expiry)
        try:
            backend = create_backend(self.config)
        except UnknownBackend as exc:
            raise SystemExit(str(exc)) from None
        limits = Limits(
            per_user=self.config.max_sessions_per_user,
            active=self.config.max_active_sessions,
            concurrent_starts=self.config.max_concurrent_starts,
        )
        self.manager = SessionManager(
            self.store,
            backend,
            self.secret_box,
            limits=limits,
            start_timeout=self.config.start_timeout,
            pods=self.pods,
            metrics=self.metrics,
        )
        self.activity = ActivityBuffer(self.store.touch, interval=ACTIVITY_WRITE_INTERVAL)
        self.activity.start()
        self.invocations = InvocationIndex(self.db)
        self.objects = create_store(self.config)
        self.collector = InvocationCollector(
            self.db,
            self.manager,
            self.invocations,
            self.objects,
            prefix=self.config.object_store_prefix,
            interval=self.config.collect_interval,
        )
        self.manager.before_stop = self.collector.before_stop
        self.retention = Retention(self.db, self.objects, self.config.invocation_retention_days)
        await self._bootstrap()
        self.sso = await build_sso(self)
        if manage_sessions:
            await self.manager.reconcile()
            policy = ReapPolicy(
                idle_timeout=self.config.idle_timeout,
                max_age=self.config.max_age,
                cull_interval=self.config.cull_interval,
            )
            self.reaper = Reaper(url, self.manager, policy)
            self.reaper.start()
            self.collector.start()
            self.retention.start()
            self.sockets = SocketRegistry(self.db, idle_timeout=self.config.login_idle_timeout)
            await self.sockets.start()
            if self.sso is not None:
                await self.sso.logins.start()
            self.metrics.start()

    async def stop(self) -> None:
        """Undo whatever ``start()`` got to, even part-way; safe to call twice."""
        await self.metrics.stop()
        sso, self.sso = self.sso, None
        if sso is not None:
            await sso.stop()
        sockets, self.sockets = self.sockets, None
        if sockets is not None:
            await sockets.stop()
        reaper, self.reaper = self.reaper, None
        if reaper is not None:
            await reaper.stop()
        retention = self.__dict__.pop("retention", None)
        if retention is not None:
            await retention.stop()
        collector, self.collector = self.collector, None
        if collector is not None:
            await collector.stop()
        objects, self.objects = self.objects, None
        if objects is not None:
            objects.close()
        activity = self.__dict__.pop("activity", None)
        if activity is not None:
            await activity.stop()
        manager = self.__dict__.pop("manager", None)
        if manager is not None:
            await manager.close()
        await self.pods.close()
        db = self.__dict__.pop("db", None)
        if db is not None:
            await db.close()
        embedded, self._embedded = self._embedded, None
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)

    async def _bootstrap(self) -> None:
        if await self.accounts.user_count() == 0:
            password = self.config.admin_password or secrets.token_urlsafe(12)
            await self.accounts.create_user(
                ADMIN, password, is_admin=True, display_name="Administrator"
            )
            # A password the admin chose is theirs: never printed, never written down.
            if not self.config.admin_password:
                self.first_login = (ADMIN, password)
                _write_private(self.config.data_path / "initial-admin-password", password + "\n")
        if self.config.demo:
            await self._bootstrap_demo()
        await self._migrate_legacy_warehouse()

    async def _bootstrap_demo(self) -> None:
        from ide_server.demo.remote import create_demo_remote

        remote = await asyncio.to_thread(create_demo_remote, self.config.data_path)
        project = await self.accounts.project_by_name(DEMO_PROJECT)
        if project is None:
            project = await self.accounts.create_project(DEMO_PROJECT, remote.as_uri(), "main")
        from ide_server.demo.warehouse import create_demo_warehouse

        path = await asyncio.to_thread(create_demo_warehouse, self.config.data_path)
        # The demo warehouse is the demo project's own: never another project's default.
        if await self.warehouses.set_connection_if_none(project.id, demo_connection(path)):
            log.info("the demo project uses the demo DuckDB warehouse %s", path)

    async def _migrate_legacy_warehouse(self) -> None:
        """The deprecated global IDE_WAREHOUSE becomes the connection of every project that
        has none; per-user logins move onto the PostgreSQL projects they may open."""
        if self.config.warehouse:
            try:
                connection = from_legacy(self.config.warehouse)
            except InvalidSettings as exc:
                raise SystemExit(f"IDE_WAREHOUSE is not a valid connection: {exc}") from None
            for project in await self.accounts.list_projects():
                if await self.warehouses.set_connection_if_none(project.id, connection):
                    log.warning(
                        "IDE_WAREHOUSE is deprecated: project %s now has its own connection;"
                        " set it with `ide-server project connection` and unset IDE_WAREHOUSE",
                        project.name,
                    )
        moved = await self.warehouses.migrate_user_logins()
        if moved:
            log.info("moved %d user warehouse login(s) onto their projects", moved)

    @property
    def demo_warehouse_path(self) -> Path:
        from ide_server.demo.warehouse import DEMO_WAREHOUSE_NAME

        return self.config.data_path / DEMO_WAREHOUSE_NAME

    async def pod_env(self, user: User, project: Project) -> PodEnv:
        """The settings of a pod for (user, project); the backend adds where it runs.

        Secrets are decrypted here, at start, and reach the pod only through its
        environment (a Secret on Kubernetes): never a command line, never the volume.
        """
        token = (
            await self.credentials.get(GIT_TOKEN, user_id=user.id)
            or await self.credentials.get(GIT_TOKEN, project_id=project.id)
            or ""
        )
        # Only this project's connection, with this user's credentials for it.
        warehouse = await self.warehouses.for_pod(user.id, user.username, project.id)
        provider = await self.git_providers.get(project.id) or {}
        return PodEnv(
            git_token=token,
            user_name=user.display_name or user.username,
            user_email=user.email,
            git_url=project.git_url,
            default_branch=project.default_branch,
            git_provider=provider.get("kind") or "",
            git_web_url=provider.get("web_url") or "",
            protect_default_branch=project.protect_default_branch,
            save_delay=self.config.save_delay,
            git_ca_bundle=self.config.git_ca_bundle,
            max_message_bytes=self.config.max_message_bytes,
            # A live gateway's reaper asks every pod at each pass: a pod that hears nothing
            # for this long has lost its gateway and stops itself.
            orphan_timeout=float(max(self.config.idle_timeout, 3 * self.config.cull_interval)),
            warehouse=warehouse,
        )


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
