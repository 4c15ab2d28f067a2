"""TLS for the gateway: the server context (TLS 1.2 at least), its reload on SIGHUP, HSTS,
the HTTP → HTTPS redirect listener, and a self-signed certificate for one machine."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import ssl
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


def ensure_self_signed(
    data_dir: Path, hostnames: tuple[str, ...] = ("localhost",)
) -> tuple[Path, Path]:
    """A certificate and key in ``<data-dir>/tls`` (key mode 0600), made once and reused.

    Browsers will warn about it; it still encrypts the traffic. Production deployments
    pass their own files with --tls-cert and --tls-key.
    """
    directory = data_dir / "tls"
    cert_path, key_path = directory / "self-signed.pem", directory / "self-signed.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    alt_names += [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


# TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are OpenSSL's own,
# all of them modern).
MODERN_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
)
HSTS = "max-age=31536000"


def server_context(cert: str, key: str) -> ssl.SSLContext:
    """The gateway's TLS context: 1.2 at least (1.0 and 1.1 handshakes fail), modern
    ciphers, no compression, no renegotiation."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(MODERN_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.options |= getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    context.load_cert_chain(cert, key)
    return context


class CertificateReloader:
    """Loads the certificate and key again into the live context (on SIGHUP): handshakes
    from then on present the new certificate; open connections are not touched. A bad
    pair is logged and the old one kept."""

    def __init__(self, context: ssl.SSLContext, cert: str, key: str) -> None:
        self.context = context
        self.cert = cert
        self.key = key

    def reload(self) -> bool:
        try:
            # Checked on a scratch context first: a half-loaded pair never serves.
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(self.cert, self.key)
            self.context.load_cert_chain(self.cert, self.key)
        except (OSError, ssl.SSLError) as exc:
            log.error("TLS certificate not reloaded, the previous one stays: %s", exc)
            return False
        log.info("TLS certificate reloaded from %s", self.cert)
        return True


class HstsMiddleware:
    """Strict-Transport-Security on every HTTP answer (added only when serving TLS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_hsts)


class HttpsRedirect:
    """The plain-HTTP listener: 308 to the same path under the configured https URL. The
    target never comes from the request's Host header (no open redirect); WebSocket
    upgrades are refused."""

    def __init__(self, public_url: str) -> None:
        parts = urlsplit(public_url)
        self.base = urlunsplit(("https", parts.netloc, parts.path.rstrip("/"), "", ""))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        path = "/" + quote(scope["path"], safe="/%:@!$&'()*+,;=-._~").lstrip("/")
        query = scope.get("query_string", b"").decode("latin-1")
        location = self.base + path + (f"?{query}" if query else "")
        body = b"Moved to HTTPS.\n"
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [
                    (b"location", location.encode("latin-1", "replace")),
                    (b"content-type", b"text/plain"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
