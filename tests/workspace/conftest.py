"""For every pod test: an answer the registry does not declare fails the test.

The dispatcher only logs an error code a method's registration does not list, and the
socket a notification nobody declared (the client still gets its message). Here either
fails the test that provoked it, so the generated frontend types cannot silently fall
behind what the pod really sends. A test that sends one on purpose asks for
``undeclared_allowed``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

_LOGGERS = ("ide_server.workspace.rpc", "ide_server.workspace.socket")
_MARKS = ("which its registration does not declare", "is not declared in the registry")


class _Undeclared(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if any(mark in message for mark in _MARKS):
            self.messages.append(message)


@pytest.fixture
def undeclared_allowed() -> None:
    """Requested by tests that check how an undeclared answer is reported."""


@pytest.fixture(autouse=True)
def _only_declared_answers(request: pytest.FixtureRequest) -> Iterator[None]:
    handler = _Undeclared()
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    if handler.messages and "undeclared_allowed" not in request.fixturenames:
        pytest.fail(
            "the pod sent what its registry does not declare:\n" + "\n".join(handler.messages)
        )
