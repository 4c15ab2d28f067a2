"""git/status and clone through the pod against the git command line, side by side.

    uv run python bench/bench_git.py [--files 20000] [--modified 200] [--runs 5]

Builds a repository of ``--files`` files (200 per directory) with ``--modified`` of them
changed in the working tree, then times:

- ``git/status`` as the pod answers it (open the repository, scan, classify, rename
  pairing) against ``git status --porcelain`` on the same checkout;
- a clone through the pod (``ensure_checkout``: init, fetch over file://, checkout) against
  ``git clone`` of the same bare repository over file://.

Prints the median of ``--runs`` runs of each and the ratio pod / git (below 1: pod faster).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ide_server.workspace.clone import ensure_checkout
from ide_server.workspace.config import PodConfig
from ide_server.workspace.git.repo import open_repository
from ide_server.workspace.git.status import repository_status

GIT_IDENTITY = ["-c", "user.name=Bench", "-c", "user.email=bench@example.com"]


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def build_repository(work: Path, files: int, modified: int) -> tuple[Path, Path]:
    """A checkout with ``files`` committed files and ``modified`` edits, and its bare remote."""
    checkout = work / "checkout"
    git("init", "-q", "-b", "main", str(checkout))
    for n in range(files):
        directory = checkout / "models" / f"dir{n // 200:04d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"model_{n:05d}.sql").write_text(
            f"select {n} as id, 'row {n}' as label\nfrom raw.table_{n % 97}\n"
        )
    git("add", "-A", cwd=checkout)
    git("commit", "-q", "-m", "generated project", cwd=checkout)
    bare = work / "remote.git"
    git("clone", "-q", "--bare", str(checkout), str(bare))
    step = max(files // modified, 1)
    for n in range(0, step * modified, step):
        path = checkout / "models" / f"dir{n // 200:04d}" / f"model_{n:05d}.sql"
        path.write_text(path.read_text() + "-- edited\n")
    return checkout, bare


def median_seconds(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def pod_status(checkout: Path, config: PodConfig) -> int:
    repo = open_repository(checkout)
    try:
        return len(repository_status(repo, config)["files"])
    finally:
        repo.free()


def bench_status(checkout: Path, runs: int, expected: int) -> tuple[float, float]:
    config = PodConfig(session_id="bench", root=checkout)
    assert pod_status(checkout, config) == expected
    cli_count = len(git("status", "--porcelain", cwd=checkout).splitlines())
    assert cli_count == expected, cli_count
    pod = median_seconds(lambda: pod_status(checkout, config), runs)
    cli = median_seconds(lambda: git("status", "--porcelain", cwd=checkout), runs)
    return pod, cli


def bench_clone(work: Path, bare: Path, runs: int) -> tuple[float, float]:
    url = bare.as_uri()
    counter = iter(range(10_000))

    def pod_clone() -> None:
        root = work / f"pod-{next(counter)}"
        ensure_checkout(PodConfig(session_id="bench", root=root, git_url=url))
        shutil.rmtree(root)

    def cli_clone() -> None:
        root = work / f"cli-{next(counter)}"
        git("clone", "-q", url, str(root))
        shutil.rmtree(root)

    return median_seconds(pod_clone, runs), median_seconds(cli_clone, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--modified", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-git-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        checkout, bare = build_repository(work, args.files, args.modified)
        print(
            f"built {args.files} files, {args.modified} modified in "
            f"{time.perf_counter() - started:.1f} s; median of {args.runs} runs"
        )
        print(f"{'operation':<34}{'pod (pygit2)':>14}{'git CLI':>12}{'pod / git':>12}")
        rows = [
            ("git/status vs status --porcelain", *bench_status(checkout, args.runs, args.modified)),
            ("clone (file://)", *bench_clone(work, bare, args.runs)),
        ]
        for name, pod, cli in rows:
            print(f"{name:<34}{pod * 1000:>11.1f} ms{cli * 1000:>9.1f} ms{pod / cli:>12.2f}")


if __name__ == "__main__":
    main()
