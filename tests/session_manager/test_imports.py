"""The session manager depends on core only: the gateway injects what it needs."""

from __future__ import annotations

from tests.gateway.test_imports import loaded_modules

_IMPORT_ALL = """
import json, sys
import session_manager.manager, session_manager.reaper, session_manager.store
import session_manager.backends.local, session_manager.backends.kubernetes
print(json.dumps(sorted(sys.modules)))
"""


def test_the_session_manager_loads_nothing_of_the_gateway_or_the_pod() -> None:
    modules = loaded_modules(_IMPORT_ALL)
    assert "session_manager.backends.kubernetes" in modules
    leaked = [
        m
        for m in modules
        if m.startswith(("ide_server.gateway", "ide_server.workspace", "starlette", "kernels"))
    ]
    assert leaked == []
