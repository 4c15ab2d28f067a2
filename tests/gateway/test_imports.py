"""The gateway process loads neither the pod's code nor its heavy libraries.

Checked in a fresh interpreter, so that modules other tests imported do not hide a
dependency that creeps back in.
"""

from __future__ import annotations

import json
import subprocess
import sys

# The pod's code and what only the pod needs; the gateway must learn what it needs of
# the pod (which methods write) from data, not by importing it.
POD_ONLY = ("ide_server.workspace", "kernels", "jupyter_server", "pygit2", "sqlglot")

_BUILD_APP = """
import json, sys
from ide_server.config import load_config
from ide_server.gateway.app import create_app
create_app(load_config({"data_dir": sys.argv[1]}, env={}))
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(script: str, *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _of(modules: list[str], package: str) -> list[str]:
    return [m for m in modules if m == package or m.startswith(package + ".")]


def test_building_the_gateway_app_loads_nothing_of_the_pod(tmp_path) -> None:
    modules = loaded_modules(_BUILD_APP, str(tmp_path))
    assert "ide_server.gateway.app" in modules  # the script did build it
    found = {p: _of(modules, p) for p in POD_ONLY if _of(modules, p)}
    assert found == {}
