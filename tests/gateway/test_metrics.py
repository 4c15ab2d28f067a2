"""``GET /metrics`` on a real gateway: who may read it, and that the figures move."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import psycopg
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from tests.support.client import Api
from tests.support.gateway import ADMIN_PASSWORD, PASSWORD, GatewayProcess, login_as
from tests.support.pg import temporary_database

TOKEN = "scrape-token-0123456789abcdef"


@pytest.fixture(scope="module")
def metrics_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    tmp = tmp_path_factory.mktemp("metrics")
    with temporary_database(tmp) as url:
        gw = GatewayProcess(tmp / "data", url, metrics_token=TOKEN)
        gw.start()
        gw.cli("user", "add", "erin", "--password", PASSWORD)
        gw.cli("member", "add", "demo", "erin", "developer")
        try:
            yield gw
        finally:
            gw.stop()
            gw.stop_pods()


def scrape(
    gw: GatewayProcess, token: str = TOKEN
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{gw.url}/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    values = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_the_token_or_an_admin_may_scrape_nobody_else(metrics_gateway: GatewayProcess) -> None:
    url = f"{metrics_gateway.url}/metrics"
    assert httpx.get(url).status_code == 401
    assert "bearer" in httpx.get(url).headers["www-authenticate"].lower()
    forged = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN[:-1]}x"})
    assert forged.status_code == 401
    assert httpx.get(url, headers={"Authorization": "Basic " + TOKEN}).status_code == 401
    developer = login_as(metrics_gateway, "erin")
    assert developer.http.get("/metrics").status_code == 403
    admin = login_as(metrics_gateway, "admin", ADMIN_PASSWORD)
    answer = admin.http.get("/metrics")
    assert answer.status_code == 200 and "ide_sessions" in answer.text
    # The path is served as is, not redirected to /metrics/.
    assert httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_every_series_exists_from_the_first_scrape(metrics_gateway: GatewayProcess) -> None:
    samples = scrape(metrics_gateway)
    for result in ("success", "failure", "disabled", "throttled"):
        for method in ("local", "sso"):
            assert ("ide_login_total", (("method", method), ("result", result))) in samples
    for command in ("build", "run", "test", "show", "source freshness"):
        for status in ("success", "error", "cancelled"):
            key = (("command", command), ("status", status))
            assert ("ide_dbt_invocations_total", key) in samples
    for kind in ("ide", "room"):
        assert ("ide_websockets_open", (("kind", kind),)) in samples
    for period in ("24h", "7d", "30d"):
        assert ("ide_active_users", (("period", period),)) in samples
    for state in ("pending", "starting", "ready", "stopping", "stopped", "failed"):
        assert ("ide_sessions", (("state", state),)) in samples
    for status in ("ready", "failed", "timeout", "cancelled"):
        key = (("backend", "local"), ("le", "+Inf"), ("status", status))
        assert ("ide_session_start_duration_seconds_bucket", key) in samples
    assert ("ide_reaper_pass_duration_seconds_count", ()) in samples
    assert ("ide_proxy_request_duration_seconds_count", ()) in samples
    # The loop-lag sampler runs: a sample every half second.
    assert value(samples, "ide_event_loop_lag_seconds_count") >= 1


def test_logins_sessions_and_sockets_move_the_figures(metrics_gateway: GatewayProcess) -> None:
    before = scrape(metrics_gateway)
    assert Api(metrics_gateway.url).login("erin", "wrong-password-1").status_code == 401
    erin = login_as(metrics_gateway, "erin")
    session = erin.open_session("demo")
    after = scrape(metrics_gateway)
    for result, moved in (("success", 1), ("failure", 1), ("disabled", 0)):
        grown = value(after, "ide_login_total", result=result, method="local") - value(
            before, "ide_login_total", result=result, method="local"
        )
        assert grown == moved, result
    started = ("ide_session_start_duration_seconds_count", dict(backend="local", status="ready"))
    assert value(after, started[0], **started[1]) == value(before, started[0], **started[1]) + 1
    assert value(after, "ide_sessions", state="ready") >= 1
    assert value(after, "ide_active_users", period="24h") >= 1

    async def with_sockets() -> tuple[float, float, float]:
        open_before = value(scrape(metrics_gateway), "ide_websockets_open", kind="ide")
        ws = await websockets.connect(
            erin.ws_url(f"/sessions/{session['id']}/ide"), additional_headers=erin.ws_headers()
        )
        try:
            open_during = value(
                await asyncio.to_thread(scrape, metrics_gateway), "ide_websockets_open", kind="ide"
            )
        finally:
            await ws.close()
        for _ in range(50):  # the gateway notices the close a moment later
            samples = await asyncio.to_thread(scrape, metrics_gateway)
            open_after = value(samples, "ide_websockets_open", kind="ide")
            if open_after == open_before:
                break
            await asyncio.sleep(0.1)
        return open_before, open_during, open_after

    open_before, open_during, open_after = asyncio.run(with_sockets())
    assert open_during == open_before + 1
    assert open_after == open_before
    proxied = erin.http.get(f"/sessions/{session['id']}/api/collaboration/session/nope.sql")
    assert proxied.status_code < 500
    grown = scrape(metrics_gateway)
    assert value(grown, "ide_proxy_request_duration_seconds_count") > value(
        after, "ide_proxy_request_duration_seconds_count"
    )


def test_finished_dbt_invocations_are_counted(metrics_gateway: GatewayProcess) -> None:
    def runs(samples: dict, status: str) -> float:
        return value(samples, "ide_dbt_invocations_total", command="run", status=status)

    before = scrape(metrics_gateway)
    # Rows as the collector writes them from the pods' spools (one finished, one running).
    with psycopg.connect(metrics_gateway.database_url, autocommit=True) as conn:
        ids = conn.execute(
            "SELECT u.id, p.id FROM users u, projects p"
            " WHERE u.username = 'erin' AND p.name = 'demo'"
        ).fetchone()
        assert ids is not None
        for n, status in enumerate(("error", "running")):
            conn.execute(
                "INSERT INTO dbt_invocations (user_id, project_id, invocation_id, command,"
                " started_at, status) VALUES (%s, %s, %s, 'run', now(), %s)",
                (*ids, f"metrics-test-{n}", status),
            )
    after = scrape(metrics_gateway)
    assert runs(after, "error") == runs(before, "error") + 1
    assert runs(after, "success") == runs(before, "success")


def test_the_dbt_commands_are_the_pods() -> None:
    from ide_server.gateway.metrics import DBT_COMMANDS
    from ide_server.workspace.dbt.commands import COMMANDS

    assert sorted(DBT_COMMANDS) == sorted(COMMANDS)
