"""The gateway's client of a pod's spool endpoints (see the pod's ``dbt/spool_handlers.py``).

Every call carries the pod's own token; the browser never reaches these routes.
"""

from __future__ import annotations

from typing import Any

import httpx

from session_manager.pods import PodClients
from session_manager.store import SessionRow


class PodUnreachable(Exception):
    """The pod did not answer as a pod of ours does."""


class PodSpool:
    def __init__(self, pods: PodClients, row: SessionRow, token: str) -> None:
        if not row.endpoint:
            raise PodUnreachable("the session has no endpoint")
        self._client = pods.get(row.endpoint)
        self._base = f"/sessions/{row.id}/ide/invocations"
        self._headers = {"Authorization": f"token {token}"}

    async def _call(self, method: str, path: str, seconds: float, **kw: Any) -> httpx.Response:
        try:
            return await self._client.request(
                method,
                self._base + path,
                headers=self._headers,
                timeout=httpx.Timeout(seconds, connect=3),
                **kw,
            )
        except httpx.HTTPError as exc:
            raise PodUnreachable(str(exc)) from exc

    async def entries(self) -> list[dict[str, Any]]:
        response = await self._call("GET", "", 30)
        if response.status_code != 200:
            raise PodUnreachable(f"listing answered {response.status_code}")
        try:
            return list(response.json()["invocations"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PodUnreachable("the listing is not the pod's") from exc

    async def read(self, invocation_id: str, name: str, offset: int = 0) -> bytes | None:
        """The file's bytes from ``offset``; None if the pod does not have it."""
        response = await self._call(
            "GET", f"/{invocation_id}/files/{name}", 60, params={"offset": offset}
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise PodUnreachable(f"reading {name} answered {response.status_code}")
        return response.content

    async def forget(self, invocation_id: str) -> None:
        response = await self._call("DELETE", f"/{invocation_id}", 30)
        if response.status_code not in (200, 404):
            raise PodUnreachable(f"forgetting answered {response.status_code}")

    async def cancel_all(self) -> None:
        response = await self._call("POST", "/cancel", 15)
        if response.status_code != 200:
            raise PodUnreachable(f"cancel answered {response.status_code}")
