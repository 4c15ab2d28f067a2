"""Stable error codes of the ``git/*`` methods and the mapping from pygit2's exceptions.

git's codes are declared with all the others in :mod:`..errors` and re-exported
here. Every message is
meant for a person: it says what happened and what to do next. Messages built from
libgit2's text pass through :func:`scrub` so that a credential can never leak into an
answer even if a future libgit2 puts one in an error string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pygit2

from ..errors import (
    AUTH_FAILED,
    BUSY,
    CANCELLED,
    CERTIFICATE,
    EMPTY_MESSAGE,
    NOT_FOUND,
    NOTHING_TO_COMMIT,
    PROTECTED_BRANCH,
    PUSH_REJECTED,
    REMOTE_REFUSED,
    RESERVED_PATHS,
    UNAVAILABLE,
    UNCOMMITTED_CHANGES,
    UNRESOLVED_CONFLICTS,
    WRONG_STATE,
    RpcError,
)

__all__ = [
    "AUTH_FAILED",
    "BUSY",
    "CANCELLED",
    "CERTIFICATE",
    "EMPTY_MESSAGE",
    "NOTHING_TO_COMMIT",
    "PROTECTED_BRANCH",
    "PUSH_REJECTED",
    "REMOTE_REFUSED",
    "RESERVED_PATHS",
    "UNCOMMITTED_CHANGES",
    "UNRESOLVED_CONFLICTS",
    "WRONG_STATE",
    "AuthenticationFailed",
    "OperationCancelled",
    "UntrustedCertificate",
    "not_found",
    "rpc_error",
    "scrub",
    "translate_network_error",
]


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
