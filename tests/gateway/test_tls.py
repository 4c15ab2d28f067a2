"""HTTPS with the self-signed certificate: TLS 1.2 at least, cookies marked Secure."""

from __future__ import annotations

import socket
import ssl
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
