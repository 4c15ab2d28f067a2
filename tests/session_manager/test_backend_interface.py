"""The backend interface is enforced when a subclass is defined."""

from __future__ import annotations

import dataclasses

import pytest

from ide_server.config import SETTINGS, load_config
from session_manager.backends import BACKENDS, UnknownBackend, create_backend
from session_manager.backends.base import Backend, PodInfo, PodSpec, Progress
from session_manager.backends.local import LocalBackend
from session_manager.states import IllegalTransition, State, check_transition


def test_a_backend_missing_a_method_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="poll"):

        class Forgetful(Backend):  # noqa: F841 - the definition itself must fail
            name = "forgetful"

            async def start(self, spec: PodSpec, progress: Progress) -> str:
                return "unix:/nowhere"

            async def stop(self, session_id: str) -> None:
                return None

            async def list_pods(self) -> list[PodInfo]:
                return []

            async def delete_volume(self, user: str, project: str) -> None:
                return None


def test_the_local_backend_implements_everything() -> None:
    for method in ("start", "stop", "poll", "list_pods", "delete_volume"):
        assert getattr(LocalBackend, method) is not getattr(Backend, method)


def test_illegal_transitions_raise() -> None:
    check_transition(State.PENDING, State.STARTING)
    check_transition(State.READY, State.STOPPING)
    for current, target in [
        (State.STOPPED, State.READY),
        (State.FAILED, State.STARTING),
        (State.READY, State.STARTING),
        (State.PENDING, State.READY),
    ]:
        with pytest.raises(IllegalTransition):
            check_transition(current, target)


# -- the registry ---------------------------------------------------------------------------
def test_the_setting_chooses_the_backend_built_from_the_config(tmp_path) -> None:
    from session_manager.backends.kubernetes import KubernetesBackend

    local = create_backend(load_config({"data_dir": str(tmp_path)}, env={}))
    assert isinstance(local, LocalBackend) and local.data_dir == tmp_path.resolve()
    kube = create_backend(
        load_config({"session_backend": "kubernetes", "kube_namespace": "ide"}, env={})
    )
    assert isinstance(kube, KubernetesBackend) and kube.settings.namespace == "ide"


def test_an_unknown_backend_names_the_choices() -> None:
    with pytest.raises(UnknownBackend, match="'local', 'kubernetes'"):
        create_backend(load_config({"session_backend": "docker"}, env={}))


def test_every_registered_backend_is_built_from_the_settings(tmp_path) -> None:
    config = load_config({"data_dir": str(tmp_path)}, env={})
    for name, factory in BACKENDS.items():
        backend = factory(config)
        assert backend.name == name
        assert type(backend).from_config.__func__ is not Backend.from_config.__func__  # type: ignore[attr-defined]


def test_the_local_confinement_is_the_local_settings_and_nothing_else() -> None:
    from session_manager.backends.local import Confinement

    fields = {f"local_{f.name}" for f in dataclasses.fields(Confinement)}
    assert fields == {s.name for s in SETTINGS if s.name.startswith("local_")}
    defaults = Confinement.from_config(load_config(env={}))
    for setting in SETTINGS:
        if setting.name.startswith("local_"):
            assert getattr(defaults, setting.name.removeprefix("local_")) == setting.default
