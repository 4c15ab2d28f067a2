"""The guard's command line: what a backend passes is read exactly, anything else refused."""

from __future__ import annotations

import subprocess
import sys

import pytest

from session_manager.backends import pod_guard


def test_the_backends_options_and_the_pods_command_are_read_exactly() -> None:
    argv = ["--memory-mb", "2048", "--tasks", "512", "--open-files", "4096"]
    argv += ["--reason-file", "/run/x/reason", "--", "python", "-P", "-m", "pod", "--", "x"]
    options = pod_guard.parse(argv)
    assert (options.memory_mb, options.tasks, options.open_files) == (2048, 512, 4096)
    assert options.reason_file == "/run/x/reason"
    assert options.command == ["python", "-P", "-m", "pod", "--", "x"]
    defaults = pod_guard.parse(["--reason-file", "r", "--", "true"])
    assert (defaults.memory_mb, defaults.tasks, defaults.open_files) == (0, 0, 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--reason-file", "r", "--memory", "1", "--", "true"], "unknown option --memory"),
        (["--reason-file", "r", "--tasks", "-1", "--", "true"], "whole number"),
        (["--reason-file", "r", "--tasks"], "--tasks needs a value"),
        (["--reason-file", "r", "--"], "no command"),
        (["--reason-file", "r"], "no command"),
        (["--tasks", "3", "--", "true"], "--reason-file is required"),
    ],
)
def test_a_bad_command_line_is_refused_with_the_reason(argv: list[str], message: str) -> None:
    with pytest.raises(pod_guard.UsageError, match=message):
        pod_guard.parse(argv)


def test_the_guard_runs_from_its_file_alone_and_passes_the_pods_exit_status(tmp_path) -> None:
    command = pod_guard.command(sys.executable)
    assert command[1:3] == ["-I", "-S"]  # no site, no environment: the standard library only
    argv = [*command, "--reason-file", str(tmp_path / "r"), "--", sys.executable, "-c"]
    done = subprocess.run([*argv, "import sys; sys.exit(7)"], capture_output=True, timeout=30)
    assert done.returncode == 7
    bad = subprocess.run([*command, "--nope"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "pod_guard: unknown option --nope" in bad.stderr
