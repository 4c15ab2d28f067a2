"""The first admin's password is shown only when the server made it up."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.client import Api
from tests.support.gateway import ADMIN_PASSWORD, GatewayProcess
from tests.support.pg import temporary_database


def _first_start(tmp_path: Path, **env: str) -> tuple[GatewayProcess, str]:
    with temporary_database(tmp_path) as url:
        gw = GatewayProcess(tmp_path / "data", url, demo="false")
        gw.extra_env.update(env)
        gw.start()
        try:
            return gw, gw.log()
        finally:
            gw.stop()


def test_a_password_from_the_environment_is_never_printed_or_written(tmp_path: Path) -> None:
    gw, log = _first_start(tmp_path)
    assert ADMIN_PASSWORD not in log
    assert "First login" not in log
    assert not (gw.data_dir / "initial-admin-password").exists()


def test_a_generated_password_is_printed_once_and_kept_privately(tmp_path: Path) -> None:
    with temporary_database(tmp_path) as url:
        gw = GatewayProcess(tmp_path / "data", url, demo="false")
        gw.extra_env["IDE_ADMIN_PASSWORD"] = ""
        gw.start()
        try:
            match = re.search(r"First login: admin / (\S+)", gw.log())
            assert match, gw.log()[-2000:]
            stored = gw.data_dir / "initial-admin-password"
            assert stored.read_text().strip() == match[1]
            assert stored.stat().st_mode & 0o077 == 0
            assert Api(gw.url).login("admin", match[1]).status_code == 200
        finally:
            gw.stop()
        gw.start()  # a restart creates nothing and prints no password
        try:
            assert gw.log().count("First login: admin /") == 1
        finally:
            gw.stop()
