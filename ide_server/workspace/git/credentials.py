"""Credentials, TLS trust, progress and cancellation for one network operation.

The token lives only in this process's memory (``PodConfig.git_token``). It reaches
libgit2 through the credential callback and nowhere else, and only when the host asking
for it is the project's own remote: an HTTP redirect to another host, or a URL rewritten
by configuration, gets no credential.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pygit2
from pygit2.enums import CredentialType

from ide_server.podenv import PodEnv

from .errors import AuthenticationFailed, OperationCancelled, UntrustedCertificate

log = logging.getLogger(__name__)

# libgit2 otherwise waits for a dead remote as long as the kernel lets it.
CONNECT_TIMEOUT_MS = 15_000
READ_TIMEOUT_MS = 120_000
# Hosting services accept any user name with a personal access token; a deploy token
# that needs a specific one can carry it in the project URL (https://name@host/...).
DEFAULT_USERNAME = "x-access-token"
PROGRESS_INTERVAL = 0.1

ProgressSink = Callable[[dict[str, Any]], None]

_tls_lock = threading.Lock()
_loaded_bundles: set[str] = set()


def configure_tls(ca_bundle: str | None = None) -> None:
    """Trust ``ca_bundle`` in addition to the system store, and set network timeouts.

    libgit2's TLS context is process-wide, so this adds to it once per bundle. There is
    deliberately no way to turn verification off.
    """
    bundle = ca_bundle if ca_bundle is not None else str(PodEnv.read("git_ca_bundle"))
    with _tls_lock:
        pygit2.settings.server_connect_timeout = CONNECT_TIMEOUT_MS
        pygit2.settings.server_timeout = READ_TIMEOUT_MS
        if bundle and bundle not in _loaded_bundles:
            if not os.path.isfile(bundle):
                raise FileNotFoundError(f"git CA bundle {bundle} does not exist")
            pygit2.settings.set_ssl_cert_locations(bundle, None)
            _loaded_bundles.add(bundle)


def origin_of(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: what must match before a credential is handed out."""
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RemoteSession(pygit2.RemoteCallbacks):
    """libgit2 callbacks for one fetch or push against the project's remote."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        operation: str,
        cancel_event: threading.Event | None = None,
        on_progress: ProgressSink | None = None,
    ) -> None:
        super().__init__()
        self.url = url
        self._token = token
        self.operation = operation
        self.cancel_event = cancel_event or threading.Event()
        self.on_progress = on_progress
        self.rejections: dict[str, str] = {}
        self.credential_requests = 0
        self._last_report = 0.0

    def credentials(
        self, url: str, username_from_url: str | None, allowed_types: CredentialType
    ) -> pygit2.UserPass:
        self._check_cancelled()
        self.credential_requests += 1
        if self.credential_requests > 1:
            # libgit2 asks again when the server answered 401 to our token: it is wrong.
            raise AuthenticationFailed("the remote rejected the token")
        if not self._token:
            raise AuthenticationFailed("the remote needs a token and none is configured")
        if origin_of(url) != origin_of(self.url):
            log.warning("refused credentials to %s (project remote is %s)", url, self.url)
            raise AuthenticationFailed("credentials were requested by another host")
        scheme, host, _ = origin_of(url)
        if scheme != "https" and not is_loopback(host):
            raise AuthenticationFailed("a token is only sent over HTTPS")
        if not allowed_types & CredentialType.USERPASS_PLAINTEXT:
            raise AuthenticationFailed("the remote does not accept a token")
        return pygit2.UserPass(username_from_url or DEFAULT_USERNAME, self._token)

    def certificate_check(self, certificate: None, valid: bool, host: bytes | str) -> bool:
        if not valid:
            raise UntrustedCertificate(host.decode() if isinstance(host, bytes) else host)
        return True

    def sideband_progress(self, string: str) -> None:
        self._check_cancelled()

    def transfer_progress(self, stats: pygit2.remotes.TransferProgress) -> None:
        self._check_cancelled()
        done = stats.indexed_objects == stats.total_objects and (
            stats.indexed_deltas == stats.total_deltas
        )
        self._report(
            {
                "received_objects": stats.received_objects,
                "indexed_objects": stats.indexed_objects,
                "total_objects": stats.total_objects,
                "indexed_deltas": stats.indexed_deltas,
                "total_deltas": stats.total_deltas,
                "received_bytes": stats.received_bytes,
            },
            force=done,
        )

    def push_transfer_progress(
        self, objects_pushed: int, total_objects: int, bytes_pushed: int
    ) -> None:
        self._check_cancelled()
        self._report(
            {
                "pushed_objects": objects_pushed,
                "total_objects": total_objects,
                "pushed_bytes": bytes_pushed,
            },
            force=objects_pushed == total_objects,
        )

    def push_update_reference(self, refname: str, message: str | None) -> None:
        if message:
            self.rejections[refname] = message

    def _check_cancelled(self) -> None:
        # Raising here makes the callback return an error to libgit2, which unwinds
        # the transfer before it touches any reference.
        if self.cancel_event.is_set():
            raise OperationCancelled(self.operation)

    def _report(self, fields: dict[str, Any], *, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_report < PROGRESS_INTERVAL:
            return
        self._last_report = now
        self.on_progress({"op": self.operation, **fields})
