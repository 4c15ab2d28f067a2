"""Rotating the master key: new key first, `ide-server secrets rotate`, old key dropped."""

from __future__ import annotations

from pathlib import Path

import psycopg

from ide_server.secrets import generate_key_spec
from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess
from tests.support.pg import temporary_database

TOKEN = "rotate-me-token-0123456789"


def test_rotation_keeps_every_secret_readable(tmp_path: Path) -> None:
    old, new = generate_key_spec(), generate_key_spec()
    with temporary_database(tmp_path) as url:
        gw = GatewayProcess(tmp_path / "data", url, secret_key=old, demo="false")
        gw.start()
        try:
            gw.cli("user", "add", "rot", "--password", PASSWORD)
            api = Api(gw.url)
            api.login("rot", PASSWORD)
            assert api.http.put("/api/me/git-token", json={"token": TOKEN}).status_code == 200
        finally:
            gw.stop()
        with psycopg.connect(url) as conn:
            (before,) = conn.execute("SELECT value FROM secrets").fetchone()
        gw.settings["secret_key"] = f"{new},{old}"
        out = gw.cli("secrets", "rotate")
        assert "re-sealed 1 secret" in out
        with psycopg.connect(url) as conn:
            (after,) = conn.execute("SELECT value FROM secrets").fetchone()
        assert after != before and TOKEN not in after
        gw.settings["secret_key"] = new  # the old key is gone for good
        gw.start()
        try:
            api = Api(gw.url)
            api.login("rot", PASSWORD)
            assert api.http.get("/api/me").json()["git_token_set"] is True
        finally:
            gw.stop()
