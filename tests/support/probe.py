"""Running a few lines in a fresh interpreter: what a pod's start imports shows only there."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def run_probe(code: str, *args: str, timeout: float = 120) -> Any:
    """The JSON value that ``code`` prints last, run by this interpreter with ``args``."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
