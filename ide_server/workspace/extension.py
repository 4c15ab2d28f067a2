"""The jupyter-server extension of the session pod: the IDE socket and the pod's health."""

from __future__ import annotations

import importlib
import logging
import time
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from . import fs, session
from .config import PodConfig
from .rpc import MethodRegistry
from .socket import IdeSocketHandler
from .workspace import Workspace

log = logging.getLogger(__name__)

# Feature modules that exist once their issue landed; each exposes ``methods``.
_OPTIONAL_METHOD_MODULES = ("ide_server.workspace.git.methods", "ide_server.workspace.query")


def build_registry() -> tuple[MethodRegistry, list[Any]]:
    registry = MethodRegistry()
    registry.include(fs.methods)
    registry.include(session.methods)
    modules: list[Any] = []
    for name in _OPTIONAL_METHOD_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        registry.include(module.methods)
        modules.append(module)
    return registry, modules


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


async def _reload_open_documents(serverapp: Any) -> None:
    """Have every open collaborative document check its file now (it reloads if changed).

    jupyter-server-ydoc checks files on a timer; between a rewrite by git and that check,
    typing would be overwritten by the reload. Its file loaders are not public, hence the
    defensive lookups: if they move, documents still reload at the next poll.
    """
    apps = serverapp.extension_manager.extension_apps.get("jupyter_server_ydoc", set())
    for app in apps:
        mapping = getattr(app, "file_loaders", None)
        loaders = getattr(mapping, "_FileLoaderMapping__dict", {})
        for loader in list(loaders.values()):
            await loader.maybe_notify()


def _load_jupyter_server_extension(serverapp: Any) -> None:
    config = PodConfig.from_env()
    registry, modules = build_registry()
    workspace = Workspace(config=config, registry=registry, kernel_manager=serverapp.kernel_manager)
    workspace.disk_watchers.append(lambda: _reload_open_documents(serverapp))
    for module in modules:
        attach = getattr(module, "attach", None)
        if attach is not None:
            attach(workspace)
    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "ide"), IdeSocketHandler, {"workspace": workspace}),
            (url_path_join(base, "ide", "health"), PublicHealthHandler),
            (url_path_join(base, "ide", "activity"), ActivityHandler, {"workspace": workspace}),
        ],
    )
    serverapp.web_app.settings["ide_workspace"] = workspace
    log.info("IDE workspace for session %s at %s", config.session_id, config.root)
