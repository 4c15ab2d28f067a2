"""The pod's protocol as data: each method and notification, declared once.

A method declares its params (a dataclass the dispatcher validates), its result (a
TypedDict or dataclass), whether it writes, and the error codes it may answer besides
:data:`.errors.COMMON_ERRORS`. A notification declares its params (a TypedDict). From
these declarations :mod:`.protocol_gen` writes the frontend's typed method map and the
gateway's dependency-free table (:mod:`ide_server.protocol`); nothing else spells them.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .errors import COMMON_ERRORS, ERROR_CODES, FORBIDDEN

Handler = Callable[[Any, Any], Awaitable[Any]]
GUEST_MODES = ("view", "edit", "full")  # share modes, lowest first


@dataclasses.dataclass(frozen=True)
class NoParams:
    """Params of a method that takes none: ``{}``."""


@dataclasses.dataclass(frozen=True)
class Method:
    name: str
    params: type
    result: Any  # a TypedDict or a dataclass
    handler: Handler
    writes: bool
    errors: tuple[int, ...]  # codes beyond COMMON_ERRORS (and FORBIDDEN for writes)
    # The lowest share mode a guest needs for the method (docs/security.md, "Pairing").
    guest_mode: str = "view"

    def may_answer(self, code: int) -> bool:
        """Whether ``code`` is declared for this method (or common to all)."""
        return code in self.errors or code in COMMON_ERRORS or (self.writes and code == FORBIDDEN)


@dataclasses.dataclass(frozen=True)
class Notification:
    name: str
    params: Any  # a TypedDict


def _is_result_type(result: Any) -> bool:
    return typing.is_typeddict(result) or dataclasses.is_dataclass(result)


class MethodRegistry:
    """The methods and notifications of one endpoint (one registry per feature module)."""

    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}
        self._notifications: dict[str, Notification] = {}

    def method(
        self,
        name: str,
        params: type,
        *,
        result: Any,
        writes: bool = False,
        errors: Iterable[int] = (),
        guest_mode: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Register ``handler(ctx, params)`` as ``name``.

        ``writes`` marks the methods a read-only member may not call; ``errors`` lists the
        codes of :mod:`.errors` the method may answer besides the common ones;
        ``guest_mode`` is the lowest share mode (``view``, ``edit``, ``full``) a guest on
        someone else's session needs to call it: by default ``view`` for a read and
        ``full`` for a write, since what writes beyond files (git, dbt) acts with the
        owner's credentials.
        """
        mode = guest_mode or ("full" if writes else "view")
        if mode not in GUEST_MODES:
            raise ValueError(f"guest_mode of {name} must be one of {', '.join(GUEST_MODES)}")
        if not dataclasses.is_dataclass(params):
            raise TypeError(f"params of {name} must be a dataclass")
        if not _is_result_type(result):
            raise TypeError(f"result of {name} must be a TypedDict or a dataclass")
        codes = tuple(sorted(set(errors), reverse=True))
        unknown = [code for code in codes if code not in ERROR_CODES]
        if unknown:
            raise ValueError(f"{name} declares undeclared error codes {unknown}; see errors.py")

        def register(handler: Handler) -> Handler:
            self._add(Method(name, params, result, handler, writes, codes, mode))
            return handler

        return register

    def notification(self, name: str, params: Any) -> str:
        """Declare the server push ``name`` with ``params`` (a TypedDict); returns ``name``."""
        if not typing.is_typeddict(params):
            raise TypeError(f"params of notification {name} must be a TypedDict")
        if name in self._notifications:
            raise ValueError(f"notification {name} declared twice")
        self._notifications[name] = Notification(name, params)
        return name

    def include(self, other: MethodRegistry) -> None:
        """Add every method and notification of ``other``."""
        for method in other._methods.values():
            self._add(method)
        for notification in other._notifications.values():
            if notification.name in self._notifications:
                raise ValueError(f"notification {notification.name} declared twice")
            self._notifications[notification.name] = notification

    def _add(self, method: Method) -> None:
        if method.name in self._methods:
            raise ValueError(f"method {method.name} registered twice")
        self._methods[method.name] = method

    def get(self, name: str) -> Method | None:
        return self._methods.get(name)

    def names(self) -> list[str]:
        return sorted(self._methods)

    def methods(self) -> list[Method]:
        return [self._methods[name] for name in sorted(self._methods)]

    def notifications(self) -> list[Notification]:
        return [self._notifications[name] for name in sorted(self._notifications)]

    def get_notification(self, name: str) -> Notification | None:
        return self._notifications.get(name)

    def has_notification(self, name: str) -> bool:
        return name in self._notifications

    def write_methods(self) -> frozenset[str]:
        return frozenset(m.name for m in self._methods.values() if m.writes)
