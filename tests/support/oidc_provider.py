"""A real OpenID Provider for the tests: the npm ``oidc-provider`` (tests/oidc/) on loopback,
with a static client, its development login pages, and fixture-only controls (accounts,
forged ID tokens). ``npm ci`` installs it from the committed lock file on first use."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support.gateway import GatewayProcess, free_port
from tests.support.pg import temporary_database

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_ID = "ide-server"
CLIENT_SECRET = "a-client-secret-for-the-tests-only"  # noqa: S105
GROUP_ROLES = {"analysts": {"demo": "developer"}, "ops": "admin"}


def ensure_installed() -> None:
    if (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the OIDC tests need Node.js and npm")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PROVIDER_DIR,
        check=True,
        timeout=300,
    )


class LoopbackProvider:
    """Starts, pauses and stops one provider process; its signing key is made here, so
    a test can sign what the provider would (a back-channel logout token)."""

    def __init__(self, log_dir: Path, redirect_base: str) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.redirect_base = redirect_base
        self.log_path = log_dir / f"oidc-provider-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.accounts: dict[str, dict[str, Any]] = {}

    def options(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "issuer": self.issuer,
            "jwks": {"keys": [{**self.key.as_dict(private=True), "alg": "RS256"}]},
            "client": {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [f"{self.redirect_base}/api/auth/oidc/callback"],
                "post_logout_redirect_uris": [f"{self.redirect_base}/"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "backchannel_logout_uri": f"{self.redirect_base}/api/auth/oidc/backchannel-logout",
                "backchannel_logout_session_required": True,
            },
            "accounts": self.accounts,
        }

    def start(self) -> None:
        ensure_installed()
        node = shutil.which("node")
        assert node, "node is needed for the OIDC tests"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [node, str(PROVIDER_DIR / "provider.mjs"), json.dumps(self.options())],
            cwd=PROVIDER_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NODE_ENV": "development"},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"provider exited: {self.log_path.read_text()[-2000:]}")
            try:
                url = f"{self.issuer}/.well-known/openid-configuration"
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("provider did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.resume()
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def pause(self) -> None:
        """The provider stops answering (connections hang: timeouts)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def put_account(self, sub: str, **claims: Any) -> None:
        self.accounts[sub] = claims
        r = httpx.put(f"{self.issuer}/_test/accounts/{sub}", json=claims, timeout=5)
        assert r.status_code == 204, r.text

    def delete_account(self, sub: str) -> None:
        self.accounts.pop(sub, None)
        r = httpx.delete(f"{self.issuer}/_test/accounts/{sub}", timeout=5)
        assert r.status_code == 204, r.text

    def tamper(self, mode: str) -> None:
        r = httpx.post(f"{self.issuer}/_test/tamper", json={"mode": mode}, timeout=5)
        assert r.status_code == 204, r.text

    def back_channel(self, *, down: bool) -> None:
        """Make the provider's own back-channel logouts fail to send (or send again)."""
        r = httpx.post(f"{self.issuer}/_test/backchannel", json={"down": down}, timeout=5)
        assert r.status_code == 204, r.text

    def logout_token(self, **claims: Any) -> str:
        """A back-channel logout token signed with the provider's own key."""
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
            **claims,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode({"alg": "RS256", "kid": "k1"}, payload, self.key)


_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"', re.I)


def provider_login(
    client: httpx.Client, start: httpx.Response, sub: str, *, stop_at: str
) -> httpx.Response:
    """Follow redirects from ``start`` through the provider's login and consent pages,
    signing in as ``sub``, until a redirect to a URL starting with ``stop_at``; that
    redirect's response is returned (not followed)."""
    response = start
    for _ in range(20):
        if response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(stop_at):
                return response
            response = client.get(location)
            continue
        assert response.status_code == 200, (response.status_code, response.text[:500])
        action = _FORM_ACTION.search(response.text)
        assert action, response.text[:500]
        target = urljoin(str(response.url), unescape(action.group(1)))
        if 'name="login"' in response.text:
            data = {"prompt": "login", "login": sub, "password": "anything"}
        else:
            data = {"prompt": "consent"}
        response = client.post(target, data=data)
    raise AssertionError("the provider's pages did not lead back to the gateway")


def sso_login(
    gateway_url: str, sub: str, *, next_path: str = "/", client: httpx.Client | None = None
) -> tuple[httpx.Client, httpx.Response]:
    """Sign in at the gateway through the provider as ``sub``; the answer of the callback."""
    client = client or httpx.Client(timeout=30, headers={"Origin": gateway_url})
    start = client.get(f"{gateway_url}/api/auth/oidc/login", params={"next": next_path})
    assert start.status_code == 302, start.text
    back = provider_login(client, start, sub, stop_at=f"{gateway_url}/")
    callback = client.get(urljoin(gateway_url, back.headers["location"]))
    return client, callback


def callback_url(response: httpx.Response) -> str:
    location = response.headers["location"]
    assert urlsplit(location).path == "/api/auth/oidc/callback", location
    return location


@contextlib.contextmanager
def sso_gateway(tmp: Path, **settings: str) -> Iterator[tuple[GatewayProcess, LoopbackProvider]]:
    """A provider and a gateway that trusts it (``IDE_AUTH_MODE=both`` unless overridden)."""
    with temporary_database(tmp) as url:
        gw = GatewayProcess(tmp / "data", url, demo="true")
        public = f"http://127.0.0.1:{gw.port}"
        provider = LoopbackProvider(tmp, public)
        provider.start()
        gw.settings.update(
            auth_mode="both",
            public_url=public,
            oidc_issuer=provider.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            oidc_provider_name="Example SSO",
            oidc_groups_claim="groups",
            oidc_group_roles=json.dumps(GROUP_ROLES),
            oidc_allowed_domains="example.com",
            oidc_refresh_interval="2",
            oidc_outage_grace="60",
            oidc_timeout="1.5",
            oidc_scopes="openid email profile groups offline_access",
        )
        gw.settings.update(settings)
        try:
            gw.start()
            yield gw, provider
        finally:
            gw.stop()
            gw.stop_pods()
            provider.stop()


def new_account(provider: LoopbackProvider, **claims: object) -> str:
    """An account at the provider (verified email at example.com, group ``analysts``)."""
    sub = f"sub-{secrets.token_hex(4)}"
    defaults: dict[str, object] = {
        "email": f"{sub}@example.com",
        "email_verified": True,
        "preferred_username": sub,
        "name": f"User {sub}",
        "groups": ["analysts"],
    }
    provider.put_account(sub, **{**defaults, **claims})
    return sub
