"""HTTPS with the self-signed certificate: TLS 1.2 at least, modern ciphers, HSTS, cookies
marked Secure, the certificate reloaded on SIGHUP."""

from __future__ import annotations

import signal
import socket
import ssl
import time
from pathlib import Path

import httpx
import pytest

from tests.support.gateway import ADMIN_PASSWORD, GatewayProcess
from tests.support.pg import temporary_database


@pytest.fixture(scope="module")
def tls_gateway(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("tls")
    with temporary_database(tmp) as url:
        gw = GatewayProcess(tmp / "data", url, tls_self_signed="true", demo="false")
        gw.start()
        yield gw
        gw.stop()


def test_https_login_sets_a_secure_cookie(tls_gateway: GatewayProcess) -> None:
    assert tls_gateway.url.startswith("https://")
    response = httpx.post(
        f"{tls_gateway.url}/api/auth/login",
        verify=tls_gateway.verify,
        json={"username": "admin", "password": ADMIN_PASSWORD},
        headers={"Origin": tls_gateway.url},
    )
    assert response.status_code == 200
    assert "secure" in response.headers["set-cookie"].lower()
    key = Path(tls_gateway.data_dir) / "tls" / "self-signed.key"
    assert key.stat().st_mode & 0o077 == 0


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_old_tls_versions_and_plain_http_are_refused(tls_gateway: GatewayProcess) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        context.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    with socket.create_connection(("127.0.0.1", tls_gateway.port), timeout=5) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            with context.wrap_socket(raw):
                pass
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{tls_gateway.port}/healthz", timeout=5)


def _client_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = version
    context.maximum_version = version
    return context


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_are_accepted(tls_gateway: GatewayProcess, version: ssl.TLSVersion) -> None:
    with socket.create_connection(("127.0.0.1", tls_gateway.port), timeout=5) as raw:
        with _client_context(version).wrap_socket(raw) as tls:
            assert tls.version() == {"TLSv1_2": "TLSv1.2", "TLSv1_3": "TLSv1.3"}[version.name]
            if version == ssl.TLSVersion.TLSv1_2:
                # Forward secrecy and an AEAD cipher, nothing older.
                name = tls.cipher()[0]
                assert name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name)


def test_https_answers_carry_hsts(tls_gateway: GatewayProcess) -> None:
    response = httpx.get(f"{tls_gateway.url}/healthz", verify=tls_gateway.verify)
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert int(response.headers["strict-transport-security"].split("=")[1]) >= 31536000


def _get_on(tls: ssl.SSLSocket) -> bytes:
    tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b'"ok"' not in data:
        chunk = tls.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_sighup_reloads_the_certificate_without_dropping_connections(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from ide_server.gateway.tls import ensure_self_signed

    tmp = tmp_path_factory.mktemp("tls-reload")
    with temporary_database(tmp) as url:
        gw = GatewayProcess(tmp / "data", url, tls_self_signed="true", demo="false")
        gw.start()
        try:
            context = _client_context(ssl.TLSVersion.TLSv1_3)
            raw = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
            with context.wrap_socket(raw) as open_connection:
                assert b"200 OK" in _get_on(open_connection)
                old = open_connection.getpeercert(binary_form=True)
                new_cert, new_key = ensure_self_signed(tmp / "renewed")
                directory = gw.data_dir / "tls"
                (directory / "self-signed.key").write_bytes(new_key.read_bytes())
                (directory / "self-signed.pem").write_bytes(new_cert.read_bytes())
                assert gw.proc is not None
                gw.proc.send_signal(signal.SIGHUP)
                deadline = time.monotonic() + 20
                presented = old
                while presented == old and time.monotonic() < deadline:
                    time.sleep(0.2)
                    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as fresh:
                        with context.wrap_socket(fresh) as tls:
                            presented = tls.getpeercert(binary_form=True)
                assert presented == ssl.PEM_cert_to_DER_cert(new_cert.read_text())
                # The connection opened before the reload still answers.
                assert b"200 OK" in _get_on(open_connection)
            assert gw.proc.poll() is None
            assert "TLS certificate reloaded" in gw.log()
        finally:
            gw.stop()
