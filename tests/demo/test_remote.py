import csv
import io
import os
import re
import threading
import time
from pathlib import Path

import pygit2
import pytest
import yaml

from ide_server.demo import remote
from ide_server.demo.remote import create_demo_remote, project_files

STAGING = ["stg_customers", "stg_orders", "stg_payments", "stg_products"]
MARTS = ["customers", "orders", "revenue_by_month"]
# The warehouse contract written in ide_server/demo/README.md.
RAW_TABLES = {
    "customers": ["id", "first_name", "last_name", "email", "country_code", "created_at"],
    "products": ["id", "name", "category", "price_cents"],
    "orders": ["id", "customer_id", "product_id", "ordered_at", "status", "quantity"],
    "payments": ["id", "order_id", "method", "amount_cents", "paid_at"],
}


@pytest.fixture(scope="module")
def project() -> dict[str, bytes]:
    return dict(project_files())


def tree_files(repo: pygit2.Repository, tree: pygit2.Tree, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for entry in tree:
        path = prefix + entry.name
        obj = repo[entry.id]
        if isinstance(obj, pygit2.Tree):
            found.update(tree_files(repo, obj, path + "/"))
        else:
            assert entry.filemode == pygit2.enums.FileMode.BLOB
            found[path] = obj.data
    return found


def test_creates_bare_repository_with_one_commit_on_main(
    tmp_path: Path, project: dict[str, bytes]
) -> None:
    path = create_demo_remote(tmp_path)
    assert path == tmp_path / "remotes" / "demo.git"

    repo = pygit2.Repository(str(path))
    assert repo.is_bare
    assert repo.head.name == "refs/heads/main"
    assert list(repo.branches.local) == ["main"]
    commit = repo.head.peel(pygit2.Commit)
    assert commit.parents == []
    assert (commit.author.name, commit.author.email) == ("IDE demo", "demo@localhost")
    assert (commit.committer.name, commit.committer.email) == ("IDE demo", "demo@localhost")

    committed = tree_files(repo, commit.tree)
    assert committed == project
    for expected in [
        "dbt_project.yml",
        "README.md",
        ".gitignore",
        "seeds/country_codes.csv",
        "models/staging/schema.yml",
        "models/marts/schema.yml",
        *[f"models/staging/{name}.sql" for name in STAGING],
        *[f"models/marts/{name}.sql" for name in MARTS],
    ]:
        assert expected in committed, expected
    # Nothing but the finished repository is left in the remotes directory.
    assert [p.name for p in path.parent.iterdir()] == ["demo.git"]


def test_clone_gives_a_working_tree(tmp_path: Path, project: dict[str, bytes]) -> None:
    path = create_demo_remote(tmp_path / "data")
    clone = pygit2.clone_repository(str(path), str(tmp_path / "checkout"))
    workdir = Path(clone.workdir)

    assert clone.head.shorthand == "main"
    assert (workdir / "dbt_project.yml").is_file()
    for name in STAGING:
        assert (workdir / "models" / "staging" / f"{name}.sql").is_file()
    for name in MARTS:
        assert (workdir / "models" / "marts" / f"{name}.sql").is_file()
    for relative, content in project.items():
        assert (workdir / relative).read_bytes() == content
    assert clone.status() == {}


def test_second_call_is_a_no_op(tmp_path: Path) -> None:
    path = create_demo_remote(tmp_path)
    repo = pygit2.Repository(str(path))
    first_head = repo.head.target

    # Simulate a user's push: the remote must be left as it is on the next start.
    author = pygit2.Signature("someone", "someone@example.com")
    pushed = repo.create_commit(
        "refs/heads/main",
        author,
        author,
        "change",
        repo.head.peel(pygit2.Commit).tree.id,
        [first_head],
    )

    assert create_demo_remote(tmp_path) == path
    assert pygit2.Repository(str(path)).head.target == pushed
    assert [p.name for p in path.parent.iterdir()] == ["demo.git"]


def test_crash_while_building_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = remote._write_bare_repository

    def write_then_die(path: Path) -> None:
        real_write(path)
        raise KeyboardInterrupt("killed mid-build")

    monkeypatch.setattr(remote, "_write_bare_repository", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        create_demo_remote(tmp_path)
    assert list((tmp_path / "remotes").iterdir()) == []

    monkeypatch.undo()
    path = create_demo_remote(tmp_path)
    assert pygit2.Repository(str(path)).head.shorthand == "main"


def test_builds_abandoned_by_dead_processes_are_cleaned_up(tmp_path: Path) -> None:
    remotes = tmp_path / "remotes"
    stale = remotes / ".demo.git-dead.tmp"
    fresh = remotes / ".demo.git-running.tmp"
    for leftover in (stale, fresh):
        (leftover / "objects").mkdir(parents=True)
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))

    create_demo_remote(tmp_path)
    assert sorted(p.name for p in remotes.iterdir()) == [".demo.git-running.tmp", "demo.git"]


def test_concurrent_first_calls_agree(tmp_path: Path) -> None:
    results: list[Path] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            results.append(create_demo_remote(tmp_path))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert set(results) == {tmp_path / "remotes" / "demo.git"}
    assert [p.name for p in (tmp_path / "remotes").iterdir()] == ["demo.git"]
    assert pygit2.Repository(str(results[0])).head.shorthand == "main"


# The project itself: valid YAML, consistent references, the agreed warehouse contract.


def load_yaml(project: dict[str, bytes], path: str) -> dict:
    document = yaml.safe_load(project[path])
    assert isinstance(document, dict), path
    return document


def test_every_yaml_file_parses(project: dict[str, bytes]) -> None:
    yaml_files = [path for path in project if path.endswith((".yml", ".yaml"))]
    assert len(yaml_files) >= 3
    for path in yaml_files:
        load_yaml(project, path)


def test_dbt_project_file(project: dict[str, bytes]) -> None:
    config = load_yaml(project, "dbt_project.yml")
    assert config["profile"] == "demo"
    assert config["name"] == "demo_shop"
    for key in ("model-paths", "seed-paths", "test-paths", "macro-paths"):
        for directory in config[key]:
            assert any(path.startswith(directory + "/") for path in project), directory


def test_gitignore_covers_dbt_output(project: dict[str, bytes]) -> None:
    ignored = project[".gitignore"].decode().split()
    assert {"target/", "dbt_packages/", "logs/"} <= set(ignored)


def test_sources_match_the_warehouse_contract(project: dict[str, bytes]) -> None:
    [source] = load_yaml(project, "models/staging/schema.yml")["sources"]
    assert (source["name"], source["schema"]) == ("raw", "raw")
    assert {table["name"] for table in source["tables"]} == set(RAW_TABLES)

    # Every raw column a staging model selects is one the contract promises.
    for table, columns in RAW_TABLES.items():
        sql = project[f"models/staging/stg_{table}.sql"].decode()
        assert f"source('raw', '{table}')" in sql
        select = sql.split("select", 2)[2].split("from source")[0]
        referenced = set(re.findall(r"\b([a-z_]+)\b", select))
        assert set(columns) <= referenced, (table, set(columns) - referenced)


def test_refs_and_sources_resolve(project: dict[str, bytes]) -> None:
    models = {
        Path(path).stem for path in project if path.startswith("models/") and path.endswith(".sql")
    }
    seeds = {
        Path(path).stem for path in project if path.startswith("seeds/") and path.endswith(".csv")
    }
    assert set(STAGING) | set(MARTS) <= models
    [source] = load_yaml(project, "models/staging/schema.yml")["sources"]
    tables = {table["name"] for table in source["tables"]}

    for path, content in project.items():
        if not path.endswith(".sql"):
            continue
        text = content.decode()
        for name in re.findall(r"ref\('([^']+)'\)", text):
            assert name in models | seeds, (path, name)
        for source_name, table in re.findall(r"source\('([^']+)', '([^']+)'\)", text):
            assert (source_name, table) == ("raw", table) and table in tables, (path, table)

    for path in ("models/staging/schema.yml", "models/marts/schema.yml"):
        for model in load_yaml(project, path)["models"]:
            assert model["name"] in models, (path, model["name"])


def test_schema_files_use_every_kind_of_generic_test(project: dict[str, bytes]) -> None:
    kinds: set[str] = set()
    for path in ("models/staging/schema.yml", "models/marts/schema.yml"):
        document = load_yaml(project, path)
        nodes = document.get("models", []) + [
            table for source in document.get("sources", []) for table in source["tables"]
        ]
        for node in nodes:
            for column in node.get("columns", []):
                for test in column.get("data_tests", []):
                    kinds.add(test if isinstance(test, str) else next(iter(test)))
    assert {"unique", "not_null", "accepted_values", "relationships"} <= kinds


def test_seed_is_a_clean_csv(project: dict[str, bytes]) -> None:
    rows = list(csv.DictReader(io.StringIO(project["seeds/country_codes.csv"].decode())))
    assert rows and list(rows[0]) == ["country_code", "country_name", "region"]
    codes = [row["country_code"] for row in rows]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes)
    assert all(row["country_name"] and row["region"] for row in rows)
