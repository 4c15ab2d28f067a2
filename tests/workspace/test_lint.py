"""lint/run and format/file: sqlfmt without a .sqlfluff, SQLFluff with one, in a subprocess."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest

from tests.support.client import Api, RpcFailure
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(180)

UGLY = "select a,b from   t\n"


@pytest.fixture(scope="module")
def volume(gateway: GatewayProcess, alice_session: dict) -> Path:
    return gateway.data_dir / "volumes" / "alice" / "demo"


async def call(alice: Api, session: dict, method: str, params: dict) -> dict:
    async with await alice.rpc(session["id"]) as rpc:
        return await rpc.call(method, params)


async def test_sqlfmt_without_a_sqlfluff_file(
    alice: Api, alice_session: dict, volume: Path
) -> None:
    path = f"models/ugly_{secrets.token_hex(3)}.sql"
    (volume / path).write_text(UGLY)
    assert not (volume / ".sqlfluff").exists()
    result = await call(alice, alice_session, "lint/run", {"paths": [path]})
    assert result["tool"] == "sqlfmt" and result["templater"] is None
    assert [f["path"] for f in result["files"]] == [path]
    formatted = await call(alice, alice_session, "format/file", {"path": path})
    assert formatted == {
        "tool": "sqlfmt",
        "templater": None,
        "path": path,
        "content": "select a, b from t\n",
        "changed": True,
    }
    # The editor's text, not the file's, when given; the file is never written.
    other = await call(
        alice, alice_session, "format/file", {"path": path, "content": "SELECT 1   AS x\n"}
    )
    assert other["content"] == "select 1 as x\n"
    assert (volume / path).read_text() == UGLY
    (volume / path).unlink()


async def test_sqlfluff_with_a_sqlfluff_file_and_its_ignore_file(
    alice: Api, alice_session: dict, volume: Path
) -> None:
    folder = f"lintzone_{secrets.token_hex(3)}"
    (volume / folder).mkdir()
    (volume / folder / "bad.sql").write_text(UGLY)
    (volume / folder / "skipped.sql").write_text(UGLY)
    (volume / ".sqlfluff").write_text("[sqlfluff]\ndialect = duckdb\ntemplater = dbt\n")
    (volume / ".sqlfluffignore").write_text(f"{folder}/skipped.sql\n")
    try:
        result = await call(alice, alice_session, "lint/run", {"paths": [folder]})
        assert result["tool"] == "sqlfluff" and result["templater"] == "dbt"
        # Outside the model paths: dbt skips the file, the Jinja templater lints it.
        assert f"{folder}/bad.sql (not part of the dbt project)" in result["notice"]
        [report] = result["files"]
        assert report["path"] == f"{folder}/bad.sql"
        codes = {p["code"] for p in report["problems"]}
        assert "LT09" in codes  # select targets on new lines
        first = report["problems"][0]
        assert first["line"] >= 1 and first["column"] >= 1 and first["message"]
        fixed = await call(alice, alice_session, "format/file", {"path": f"{folder}/bad.sql"})
        assert fixed["tool"] == "sqlfluff" and fixed["changed"]
        assert fixed["templater"] == "jinja"  # the dbt templater cannot read the editor's text
        assert fixed["content"].startswith("select\n")
    finally:
        (volume / ".sqlfluff").unlink()
        (volume / ".sqlfluffignore").unlink()


async def test_paths_are_confined(alice: Api, alice_session: dict) -> None:
    for method, params in [
        ("lint/run", {"paths": ["../bob/demo"]}),
        ("format/file", {"path": "../../etc/passwd"}),
        ("format/file", {"path": ".git/config"}),
    ]:
        with pytest.raises(RpcFailure) as failure:
            await call(alice, alice_session, method, params)
        assert failure.value.code == -32002, (method, params)


@pytest.mark.parametrize("config_file", [".sqlfluff", "pyproject.toml", "setup.cfg"])
async def test_a_repository_config_cannot_make_sqlfluff_import_its_python(
    alice: Api, alice_session: dict, volume: Path, config_file: str
) -> None:
    # SQLFluff's Jinja templater imports every module in a configured ``library_path``; a
    # branch that plants one (in any file SQLFluff reads its settings from) would run code
    # with the owner's credentials the moment anyone lints. Lint and format run it never.
    tag = secrets.token_hex(3)
    marker = volume / f"imported_{tag}"
    library = volume / f"lib_{tag}"
    library.mkdir()
    (library / "planted.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\nvalue = 1\n"
    )
    (volume / ".sqlfluff").write_text("[sqlfluff]\ndialect = duckdb\ntemplater = jinja\n")
    settings = f"templater:jinja]\nlibrary_path = lib_{tag}\n"
    planted = {
        ".sqlfluff": f"[sqlfluff]\ndialect = duckdb\ntemplater = jinja\n\n[sqlfluff:{settings}",
        "pyproject.toml": f'[tool.sqlfluff.templater.jinja]\nlibrary_path = "lib_{tag}"\n',
        "setup.cfg": f"[sqlfluff:{settings}",
    }[config_file]
    (volume / config_file).write_text(planted)
    path = f"models/planted_{tag}.sql"
    (volume / path).write_text("select {{ planted.value }} as x\n")
    try:
        result = await call(alice, alice_session, "lint/run", {"paths": [path]})
        assert result["tool"] == "sqlfluff" and result["templater"] == "jinja"
        await call(alice, alice_session, "format/file", {"path": path})
        assert not marker.exists()
    finally:
        for name in (".sqlfluff", config_file, path):
            (volume / name).unlink(missing_ok=True)
        shutil.rmtree(library)
        marker.unlink(missing_ok=True)
