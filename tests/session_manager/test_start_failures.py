"""A start that cannot succeed fails with a reason a person can act on."""

from __future__ import annotations

from tests.support.client import Api
from tests.support.gateway import ADMIN_PASSWORD, GatewayProcess


def test_unreachable_remote_fails_the_session_with_a_clear_reason(
    gateway: GatewayProcess, tmp_path
) -> None:
    missing = (tmp_path / "no-such-repo.git").as_uri()
    gateway.cli("project", "add", "broken", missing, "--skip-remote-check")
    admin = Api(gateway.url)
    admin.login("admin", ADMIN_PASSWORD)
    created = admin.http.post("/api/sessions", json={"project": "broken"}).json()
    for _ in range(300):
        session = admin.http.get(f"/api/sessions/{created['id']}").json()
        if session["state"] in ("failed", "ready"):
            break
        import time

        time.sleep(0.2)
    assert session["state"] == "failed"
    reason = session["reason"]
    assert "could not prepare the project checkout" in reason
    assert "Traceback" not in reason and len(reason) < 700
    # The volume holds nothing half-made, and a retry is allowed.
    volume = gateway.data_dir / "volumes" / "admin" / "broken"
    assert not (volume / ".git").exists()
    again = admin.http.post("/api/sessions", json={"project": "broken"})
    assert again.status_code == 201
