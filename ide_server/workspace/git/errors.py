"""Stable error codes of the ``git/*`` methods and the mapping from pygit2's exceptions.

Codes -32010 to -32029 belong to git (docs/protocol.md lists them). Every message is
meant for a person: it says what happened and what to do next. Messages built from
libgit2's text pass through :func:`scrub` so that a credential can never leak into an
answer even if a future libgit2 puts one in an error string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pygit2

from ..rpc import NOT_FOUND, UNAVAILABLE, RpcError

PROTECTED_BRANCH = -32010
NOTHING_TO_COMMIT = -32011
EMPTY_MESSAGE = -32012
UNCOMMITTED_CHANGES = -32013
PUSH_REJECTED = -32014
AUTH_FAILED = -32015
WRONG_STATE = -32016
CANCELLED = -32017
CERTIFICATE = -32018
REMOTE_REFUSED = -32019
UNRESOLVED_CONFLICTS = -32020
BUSY = -32021


class OperationCancelled(Exception):
    """Raised inside a libgit2 callback so that libgit2 aborts the transfer."""


class AuthenticationFailed(Exception):
    """The remote refused the token, or asked for credentials we do not have."""


class UntrustedCertificate(Exception):
    """TLS verification of the remote failed."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every non-empty secret in ``text`` by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def rpc_error(code: int, message: str, data: Mapping[str, Any] | None = None) -> RpcError:
    return RpcError(code, message, data)


def translate_network_error(exc: BaseException, url: str, secrets: Iterable[str]) -> RpcError:
    """Turn an exception from fetch/push/clone into an error the user can act on."""
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, OperationCancelled):
        return RpcError(CANCELLED, "the operation was cancelled; nothing was changed")
    if isinstance(exc, AuthenticationFailed | pygit2.AuthError):
        return RpcError(
            AUTH_FAILED,
            f"the remote {url} refused the credentials; check the git token in your profile "
            "or the project's deploy token",
        )
    if isinstance(exc, UntrustedCertificate | pygit2.CertificateError):
        return RpcError(
            CERTIFICATE,
            f"the TLS certificate of {url} is not trusted; an administrator can add its CA "
            "with IDE_POD_GIT_CA_BUNDLE",
        )
    detail = scrub(str(exc), secrets)
    lowered = detail.lower()
    if "401" in lowered or "authentication" in lowered or "credentials" in lowered:
        return RpcError(AUTH_FAILED, f"the remote {url} refused the credentials: {detail}")
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return RpcError(CERTIFICATE, f"TLS connection to {url} failed: {detail}")
    if isinstance(exc, pygit2.GitError | OSError):
        return RpcError(UNAVAILABLE, f"the remote {url} could not be reached: {detail}")
    raise exc


def not_found(what: str) -> RpcError:
    return RpcError(NOT_FOUND, f"{what} does not exist")
