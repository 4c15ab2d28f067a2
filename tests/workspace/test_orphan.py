"""When a pod counts itself orphaned: no gateway in touch, no client, nothing running."""

from __future__ import annotations

import time
from pathlib import Path

from ide_server.workspace.config import PodConfig
from ide_server.workspace.methods import build_registry
from ide_server.workspace.orphan import OrphanWatch, is_orphaned
from ide_server.workspace.workspace import Workspace


def workspace(tmp_path: Path) -> Workspace:
    return Workspace(config=PodConfig(root=tmp_path), registry=build_registry())


def test_silence_past_the_timeout_makes_an_orphan(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    now = time.time()
    assert not is_orphaned(ws, 60, now)
    ws.last_activity = ws.last_contact = now - 61
    assert is_orphaned(ws, 60, now)


def test_a_probe_an_edit_a_client_or_running_work_keeps_the_pod(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    now = time.time()
    ws.last_activity = ws.last_contact = now - 600
    ws.last_contact = now - 10  # the reaper asked ten seconds ago
    assert not is_orphaned(ws, 60, now)
    ws.last_contact = now - 600
    ws.mark_active()
    assert not is_orphaned(ws, 60, time.time())
    ws.last_activity = now - 600
    ws.clients.add(object())  # type: ignore[arg-type]
    assert not is_orphaned(ws, 60, now)
    ws.clients.clear()
    ws.busy_checks.append(lambda: True)
    assert not is_orphaned(ws, 60, now)
    ws.busy_checks.clear()
    assert is_orphaned(ws, 60, now)


def test_the_watch_stops_the_server_once(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    stops: list[int] = []
    watch = OrphanWatch(ws, 60, lambda: stops.append(1))
    watch.check()
    assert stops == []
    ws.last_activity = ws.last_contact = time.time() - 61
    watch.check()
    assert stops == [1]
    zero = OrphanWatch(ws, 0, lambda: stops.append(2))
    zero.start()  # 0 = never: no timer at all
    assert zero._timer is None
