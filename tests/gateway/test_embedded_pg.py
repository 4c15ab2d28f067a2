"""The embedded PostgreSQL keeps the data dir private, even when the server runs as root."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import psycopg
import pytest

from ide_server.gateway.embedded_pg import EmbeddedPostgres

NOBODY = 65534


def _as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as another local account (uid/gid 65534, no groups)."""
    cmd = ["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(os.geteuid() != 0, reason="pgserver widens modes only when run as root")
def test_a_root_server_leaves_the_data_dir_private_to_other_accounts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    home.chmod(0o711)  # an admin's home: others may pass, not list
    data = home / "data"
    data.mkdir(mode=0o700)
    (data / "secret.key").write_text("master key")
    (data / "secret.key").chmod(0o600)
    before = {p: stat.S_IMODE(p.stat().st_mode) for p in (home, *home.parents)}
    pg = EmbeddedPostgres(data)
    url = pg.start()
    try:
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        for path, mode in before.items():  # no directory above became listable or writable
            assert stat.S_IMODE(path.stat().st_mode) & ~mode & 0o066 == 0, path
        # the attack: another local account lists and reads the data dir
        assert _as_nobody("ls", str(data)).returncode != 0
        assert _as_nobody("cat", str(data / "secret.key")).returncode != 0
        # and the server still works, for new connections too
        for _ in range(2):
            with psycopg.connect(url, autocommit=True) as conn:
                assert conn.execute("select 1").fetchone() == (1,)
    finally:
        pg.stop()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert not (data / "postgres" / "postmaster.pid").exists(), "the server was not stopped"
