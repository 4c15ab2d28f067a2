"""Limits answer 429 with Retry-After; concurrent opens converge on one pod."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.gateway import PASSWORD, GatewayProcess, login_as
from tests.support.pg import temporary_database


@pytest.fixture(scope="module")
def limited_gateway(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("limits")
    with temporary_database(tmp) as url:
        gw = GatewayProcess(tmp / "data", url, max_sessions_per_user="1", max_active_sessions="2")
        gw.start()
        remote = (gw.data_dir / "remotes" / "demo.git").as_uri()
        gw.cli("project", "add", "second", remote)
        for user in ("ann", "ben", "cat"):
            gw.cli("user", "add", user, "--password", PASSWORD)
            gw.cli("member", "add", "demo", user, "developer")
            gw.cli("member", "add", "second", user, "developer")
        yield gw
        gw.stop()
        gw.stop_pods()


def test_twenty_concurrent_opens_yield_one_pod(limited_gateway: GatewayProcess) -> None:
    api = login_as(limited_gateway, "ann")
    cookies = {"ide_session": api.cookie or ""}

    def open_once(_: int) -> httpx.Response:
        return httpx.post(
            f"{limited_gateway.url}/api/sessions",
            json={"project": "demo"},
            cookies=cookies,
            headers={"Origin": limited_gateway.url},
            timeout=60,
        )

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(open_once, range(20)))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    assert sum(r.status_code == 201 for r in responses) == 1
    api.wait_ready(ids.pop())
    pods = list(limited_gateway.runtime_dir("x").parent.glob("*/pod.json"))
    assert len(pods) == 1


def test_per_user_and_global_limits_answer_429(limited_gateway: GatewayProcess) -> None:
    ann = login_as(limited_gateway, "ann")
    ann.open_session("demo")
    over = ann.http.post("/api/sessions", json={"project": "second"})
    assert over.status_code == 429
    assert int(over.headers["retry-after"]) > 0
    assert "stop one" in over.json()["error"]["message"]
    ben = login_as(limited_gateway, "ben")
    ben.open_session("demo")
    cat = login_as(limited_gateway, "cat")
    full = cat.http.post("/api/sessions", json={"project": "demo"})
    assert (
        full.status_code == 429 and "limit of running sessions" in full.json()["error"]["message"]
    )
    # Opening a session one already has is never refused.
    assert ann.http.post("/api/sessions", json={"project": "demo"}).status_code == 200
