"""The kernelspec the pod's kernel manager starts the SQL preview kernel from.

There is no manual ``jupyter kernelspec install`` step: the pod's launcher calls
:func:`write_kernelspec` at start-up (idempotent) into its private directory, outside the
volume, and makes that directory its kernel spec manager's only one. The spec runs this
very interpreter, so the kernel sees the same installed packages as the pod.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

KERNEL_NAME = "ide-sql"
# What the pod and the kernel agree on: the MIME type of the kernel's query events, and the
# variable that hands the kernel its warehouse settings (JSON).
MIMETYPE = "application/vnd.ide.query+json"
WAREHOUSE_ENV = "IDE_SQL_WAREHOUSE"


def kernelspec_json() -> dict[str, Any]:
    return {
        # -P: never put the working directory first on sys.path, so a ``kernels/`` folder
        # in whatever directory the kernel starts in cannot stand in for this package.
        "argv": [sys.executable, "-P", "-m", "kernels.sql", "-f", "{connection_file}"],
        "display_name": "SQL preview",
        "language": "sql",
        # Interrupts arrive as control messages the kernel turns into a warehouse cancel,
        # rather than as signals to a process group.
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }


def write_kernelspec(kernels_dir: Path) -> Path:
    """Write ``<kernels_dir>/ide-sql/kernel.json`` atomically; return ``kernels_dir``."""
    spec_dir = kernels_dir / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    content = json.dumps(kernelspec_json(), indent=2)
    target = spec_dir / "kernel.json"
    if target.exists() and target.read_text() == content:
        return kernels_dir
    fd, temp = tempfile.mkstemp(dir=spec_dir, prefix=".kernel.", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    os.replace(temp, target)
    return kernels_dir
