"""The pod's HTTP endpoints through which the gateway collects finished invocations.

All require the pod's token (``@web.authenticated``): only the gateway has it, and the
gateway's proxy never forwards a browser to these routes (it allows ``ide`` and the
collaboration rooms only).

- ``GET ide/invocations``: every spooled invocation (record and file sizes).
- ``POST ide/invocations/cancel``: cancel what runs, before the session stops.
- ``GET ide/invocations/<id>/files/<name>?offset=N``: a file's bytes from ``offset``.
- ``DELETE ide/invocations/<id>``: the gateway stored it; the pod forgets it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from tornado import web

_ID = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}"


class _SpoolHandler(JupyterHandler):
    def initialize(self, workspace: Any) -> None:  # type: ignore[override]
        self.workspace = workspace

    def check_xsrf_cookie(self) -> None:
        """Token-authenticated server-to-server calls; there is no browser here."""


class InvocationsHandler(_SpoolHandler):
    @web.authenticated
    async def get(self) -> None:
        entries = await asyncio.to_thread(self.workspace.dbt.spooled)
        self.finish({"invocations": entries})


class CancelAllHandler(_SpoolHandler):
    @web.authenticated
    async def post(self) -> None:
        await self.workspace.dbt.cancel_all()
        self.finish({"cancelled": True})


class InvocationHandler(_SpoolHandler):
    @web.authenticated
    async def delete(self, invocation_id: str) -> None:
        outcome = await asyncio.to_thread(self.workspace.dbt.spool.remove, invocation_id)
        self.set_status({"removed": 200, "running": 409, "unknown": 404}[outcome])
        self.finish({"outcome": outcome})


class InvocationFileHandler(_SpoolHandler):
    @web.authenticated
    async def get(self, invocation_id: str, name: str) -> None:
        try:
            offset = max(0, int(self.get_argument("offset", "0")))
        except ValueError:
            raise web.HTTPError(400) from None
        data = await asyncio.to_thread(self.workspace.dbt.spool.read, invocation_id, name, offset)
        if data is None:
            raise web.HTTPError(404)
        self.set_header("Content-Type", "application/octet-stream")
        self.finish(data)


def spool_handlers(workspace: Any) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"workspace": workspace}
    return [
        ("ide/invocations", InvocationsHandler, args),
        ("ide/invocations/cancel", CancelAllHandler, args),
        (rf"ide/invocations/({_ID})", InvocationHandler, args),
        (rf"ide/invocations/({_ID})/files/([a-z_]+\.(?:log|json))", InvocationFileHandler, args),
    ]
