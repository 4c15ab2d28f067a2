"""The jupyter-server extension of the session pod: the IDE socket and the pod's health."""

from __future__ import annotations

import logging
import time

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.application import ExtensionApp
from tornado import web

from .collab import reload_open_documents
from .config import PodConfig
from .dbt.spool_handlers import spool_handlers
from .methods import FamilyRegistry
from .orphan import OrphanWatch
from .socket import IdeSocketHandler
from .workspace import Workspace

log = logging.getLogger(__name__)


class PublicHealthHandler(web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish('{"status": "ok"}')


class ActivityHandler(JupyterHandler):
    """For the session manager: when the pod last saw work, and whether work is running."""

    def initialize(self, workspace: Workspace) -> None:  # type: ignore[override]
        self.workspace = workspace

    @web.authenticated
    def get(self) -> None:
        self.workspace.last_contact = time.time()
        busy = self.workspace.is_busy()
        if busy:
            self.workspace.mark_active()
        self.set_header("Content-Type", "application/json")
        self.finish(
            {
                "last_activity": self.workspace.last_activity,
                "busy": busy,
                "clients": len(self.workspace.clients),
                "now": time.time(),
            }
        )


class IdeExtension(ExtensionApp):  # type: ignore[misc]
    """Builds the pod's :class:`Workspace` at load and shuts it down when the server stops.

    An ``ExtensionApp`` rather than a bare module: jupyter-server calls
    :meth:`stop_extension` only on those.
    """

    name = "ide_workspace"
    load_other_extensions = True
    workspace: Workspace | None = None
    orphan_watch: OrphanWatch | None = None

    def initialize_handlers(self) -> None:
        config = PodConfig.from_env()
        serverapp = self.serverapp
        assert serverapp is not None  # set by jupyter-server before it loads extensions
        workspace = Workspace(
            config=config, registry=FamilyRegistry(), kernel_manager=serverapp.kernel_manager
        )
        workspace.disk_watchers.append(lambda: reload_open_documents(serverapp))
        self.workspace = workspace
        self.handlers.extend(
            [
                ("ide", IdeSocketHandler, {"workspace": workspace}),
                ("ide/health", PublicHealthHandler),
                ("ide/activity", ActivityHandler, {"workspace": workspace}),
                *spool_handlers(workspace),
            ]
        )
        serverapp.web_app.settings["ide_workspace"] = workspace
        self.orphan_watch = OrphanWatch(workspace, config.orphan_timeout, serverapp.stop)
        self.orphan_watch.start()
        log.info("IDE workspace for session %s at %s", config.session_id, config.root)

    async def stop_extension(self) -> None:
        if self.orphan_watch is not None:
            self.orphan_watch.stop()
        if self.workspace is not None:
            await self.workspace.shutdown()
