"""Single sign-on against a real OpenID Provider (npm oidc-provider on loopback).

One provider and one gateway (``IDE_AUTH_MODE=both``) for the module; each test signs in
a user of its own through the provider's real login and consent pages, then attacks the
flow: replayed state and code, forged ID tokens, unverified and look-alike emails, local
logins of SSO users."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterator
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import psycopg
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support.client import Api
from tests.support.gateway import ADMIN_PASSWORD, GatewayProcess, login_as
from tests.support.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    LoopbackProvider,
    new_account,
    provider_login,
    sso_gateway,
    sso_login,
)
from tests.support.pg import temporary_database

Sso = tuple[GatewayProcess, LoopbackProvider]
CLOSE_REVOKED = 4401


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sso]:
    with sso_gateway(tmp_path_factory.mktemp("oidc")) as both:
        yield both


def _account(provider: LoopbackProvider, **claims: object) -> str:
    return new_account(provider, **claims)


def _me(gw: GatewayProcess, client: httpx.Client) -> httpx.Response:
    return client.get(f"{gw.url}/api/me")


def _db(gw: GatewayProcess) -> psycopg.Connection:
    return psycopg.connect(gw.database_url, autocommit=True)


def test_providers_tell_the_login_page_what_to_offer(sso: Sso) -> None:
    gw, _ = sso
    answer = httpx.get(f"{gw.url}/api/auth/providers").json()
    assert answer["mode"] == "both" and answer["local"] is True
    assert answer["providers"] == [
        {"id": "oidc", "name": "Example SSO", "login_url": "/api/auth/oidc/login"}
    ]


def test_first_sign_in_creates_the_user_with_mapped_roles(
    sso: Sso,
) -> None:
    gw, provider = sso
    sub = _account(provider)
    client, callback = sso_login(gw.url, sub, next_path="/#/projects")
    assert callback.status_code == 303, callback.text
    assert callback.headers["location"] == "/#/projects"
    assert "ide_session" in callback.cookies
    me = _me(gw, client).json()
    assert me["username"] == sub and me["email"] == f"{sub}@example.com"
    assert me["display_name"] == f"User {sub}" and me["is_admin"] is False
    projects = client.get(f"{gw.url}/api/projects").json()
    assert [(p["name"], p["role"]) for p in projects] == [("demo", "developer")]
    with _db(gw) as conn:
        row = conn.execute(
            "SELECT u.username, u.password_hash FROM user_identities i JOIN users u"
            " ON u.id = i.user_id WHERE i.issuer = %s AND i.subject = %s",
            (provider.issuer, sub),
        ).fetchone()
    assert row == (sub, None)


def test_groups_are_applied_again_at_every_login(sso: Sso) -> None:
    gw, provider = sso
    sub = _account(provider, groups=["ops"])
    client, _ = sso_login(gw.url, sub)
    assert _me(gw, client).json()["is_admin"] is True
    provider.put_account(sub, **{**provider.accounts[sub], "groups": []})
    client, _ = sso_login(gw.url, sub)
    assert _me(gw, client).json()["is_admin"] is False
    assert client.get(f"{gw.url}/api/projects").json() == []


def test_a_user_without_mapped_groups_gets_no_project(
    sso: Sso,
) -> None:
    gw, provider = sso
    sub = _account(provider, groups=["somebody-else"])
    client, callback = sso_login(gw.url, sub)
    assert callback.status_code == 303
    assert client.get(f"{gw.url}/api/projects").json() == []


def test_users_are_matched_by_subject_never_by_email(
    sso: Sso,
) -> None:
    gw, provider = sso
    first = _account(provider)
    client, _ = sso_login(gw.url, first)
    # Another subject claiming the same email and username is another user.
    other = _account(
        provider, email=f"{first}@example.com", preferred_username=first, groups=["ops"]
    )
    other_client, callback = sso_login(gw.url, other)
    assert callback.status_code == 303
    theirs = _me(gw, other_client).json()
    assert theirs["username"] != first and theirs["is_admin"] is True
    assert _me(gw, client).json()["is_admin"] is False


def test_next_must_be_a_local_path(sso: Sso) -> None:
    gw, provider = sso
    for hostile in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        _, callback = sso_login(gw.url, _account(provider), next_path=hostile)
        assert callback.status_code == 303
        assert callback.headers["location"] == "/"


def test_the_flow_uses_pkce_s256_a_nonce_and_a_browser_bound_state(
    sso: Sso,
) -> None:
    gw, _ = sso
    start = httpx.get(f"{gw.url}/api/auth/oidc/login")
    assert start.status_code == 302
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    assert query["redirect_uri"] == [f"{gw.url}/api/auth/oidc/callback"]
    cookie = start.headers["set-cookie"].lower()
    assert "ide_oidc=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def _callback_location(
    gw: GatewayProcess, provider: LoopbackProvider, sub: str
) -> tuple[httpx.Client, str]:
    """Run the flow up to the provider's redirect back; the callback URL, not yet visited."""
    client = httpx.Client(timeout=30)
    start = client.get(f"{gw.url}/api/auth/oidc/login")
    back = provider_login(client, start, sub, stop_at=f"{gw.url}/")
    return client, back.headers["location"]


def test_a_replayed_state_is_refused(sso: Sso) -> None:
    gw, provider = sso
    client, location = _callback_location(gw, provider, _account(provider))
    assert client.get(location).status_code == 303
    again = client.get(location)
    assert again.status_code == 400 and again.json()["error"]["code"] == "bad_state"


def test_a_state_from_another_browser_is_refused(sso: Sso) -> None:
    gw, provider = sso
    _, location = _callback_location(gw, provider, _account(provider))
    # The victim's browser never began this sign-in: no binding cookie, or another one.
    victim = httpx.Client(timeout=30)
    victim.get(f"{gw.url}/api/auth/oidc/login")
    answer = victim.get(location)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_state"
    assert "ide_session" not in victim.cookies
    bare = httpx.get(location)
    assert bare.status_code == 400


def test_a_wrong_state_is_refused(sso: Sso) -> None:
    gw, provider = sso
    client, location = _callback_location(gw, provider, _account(provider))
    parts = urlsplit(location)
    code = parse_qs(parts.query)["code"][0]
    answer = client.get(
        f"{gw.url}/api/auth/oidc/callback", params={"code": code, "state": "made-up"}
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_state"


def test_a_replayed_code_is_refused(sso: Sso) -> None:
    gw, provider = sso
    sub = _account(provider)
    client, location = _callback_location(gw, provider, sub)
    assert client.get(location).status_code == 303
    code = parse_qs(urlsplit(location).query)["code"][0]
    # A fresh sign-in of the same browser, its state, and the code already spent.
    fresh = client.get(f"{gw.url}/api/auth/oidc/login")
    state = parse_qs(urlsplit(fresh.headers["location"]).query)["state"][0]
    replay = httpx.Client(timeout=30, cookies={"ide_oidc": fresh.cookies["ide_oidc"]})
    answer = replay.get(f"{gw.url}/api/auth/oidc/callback", params={"code": code, "state": state})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "code_refused"
    assert "ide_session" not in replay.cookies


@pytest.mark.parametrize("mode", ["other-key", "alg-none", "nonce"])
def test_forged_id_tokens_are_refused(sso: Sso, mode: str) -> None:
    gw, provider = sso
    sub = _account(provider)
    client, location = _callback_location(gw, provider, sub)
    provider.tamper(mode)
    answer = client.get(location)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "invalid_token"
    assert "ide_session" not in client.cookies
    with _db(gw) as conn:
        assert conn.execute(
            "SELECT count(*) FROM user_identities WHERE subject = %s", (sub,)
        ).fetchone() == (0,)


@pytest.mark.parametrize("verified", [False, "false", None])
def test_unverified_email_is_refused(sso: Sso, verified: object) -> None:
    gw, provider = sso
    sub = _account(provider, email_verified=verified)
    if verified is None:
        claims = {k: v for k, v in provider.accounts[sub].items() if k != "email_verified"}
        provider.put_account(sub, **claims)
    client, callback = sso_login(gw.url, sub)
    assert callback.status_code == 403, callback.text
    assert "verified" in callback.json()["error"]["message"]
    assert "ide_session" not in client.cookies


@pytest.mark.parametrize(
    "email", ["x@example.com.evil.test", "x@evilexample.com", "x@sub.example.com"]
)
def test_look_alike_email_domains_are_refused(sso: Sso, email: str) -> None:
    gw, provider = sso
    client, callback = sso_login(gw.url, _account(provider, email=email))
    assert callback.status_code == 403, callback.text
    assert "ide_session" not in client.cookies


def test_local_login_is_refused_for_an_sso_user(sso: Sso) -> None:
    gw, provider = sso
    sub = _account(provider)
    sso_login(gw.url, sub)
    # Even with a password set locally (an admin did, or it predates SSO).
    with _db(gw) as conn:
        conn.execute(
            "UPDATE users SET password_hash = (SELECT password_hash FROM users"
            " WHERE username = 'admin') WHERE username = %s",
            (sub,),
        )
    answer = httpx.post(
        f"{gw.url}/api/auth/login",
        json={"username": sub, "password": ADMIN_PASSWORD},
        headers={"Origin": gw.url},
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "sso_required"
    assert "sign in with Example SSO" in answer.json()["error"]["message"]
    # A wrong password tells nothing: an SSO user's name answers as a name nobody has.
    answers = [
        httpx.post(
            f"{gw.url}/api/auth/login",
            json={"username": name, "password": "not-the-password"},
            headers={"Origin": gw.url},
        )
        for name in (sub, "nobody-has-this-name")
    ]
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json() == answers[1].json()
    assert "Sign in with Example SSO" in answers[0].json()["error"]["message"]
    # Local users still log in in `both` mode.
    assert login_as(gw, "admin", ADMIN_PASSWORD).cookie


def _login_count(gw: GatewayProcess, sub: str) -> int:
    with _db(gw) as conn:
        row = conn.execute(
            "SELECT count(*) FROM login_sessions l JOIN user_identities i"
            " ON i.user_id = l.user_id WHERE i.subject = %s",
            (sub,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_an_account_deleted_at_the_provider_loses_logins_sockets_and_pods(
    sso: Sso,
) -> None:
    gw, provider = sso
    sub = _account(provider)
    client, _ = sso_login(gw.url, sub)
    second, _ = sso_login(gw.url, sub)  # another browser of the same person
    api = Api(gw.url)
    api.http.cookies.set("ide_session", client.cookies["ide_session"])
    session = api.open_session("demo")

    async def scenario() -> tuple[int | None, str]:
        rpc = await api.rpc(session["id"])
        assert (await rpc.call("session/heartbeat")) is not None
        provider.delete_account(sub)
        # One refresh interval (2 s) plus a pass of the loops, with room for a slow machine.
        try:
            await asyncio.wait_for(rpc.ws.wait_closed(), timeout=20)
        finally:
            await rpc.ws.close()
        return rpc.ws.close_code, rpc.ws.close_reason or ""

    code, _reason = asyncio.run(scenario())
    # Revoked (login gone) or the pod stopped under it, whichever came first.
    assert code in (CLOSE_REVOKED, 1011), code
    assert _me(gw, client).status_code == 401
    assert _me(gw, second).status_code == 401
    admin = login_as(gw, "admin", ADMIN_PASSWORD)
    _wait_for(
        lambda: admin.http.get(f"/api/sessions/{session['id']}").json()["state"] == "stopped",
        30,
        "the pod stopped",
    )
    assert f"None sso.lockout {{'user': '{sub}'" in gw.log()
    # Signing in again is refused too: the provider no longer knows the account.
    again = httpx.Client(timeout=30)
    start = again.get(f"{gw.url}/api/auth/oidc/login")
    try:
        back = provider_login(again, start, sub, stop_at=f"{gw.url}/")
        assert again.get(back.headers["location"]).status_code >= 400
    except AssertionError:
        pass  # the provider's own pages refused it
    assert "ide_session" not in again.cookies


def test_a_provider_outage_keeps_existing_logins_within_the_grace(sso: Sso) -> None:
    gw, provider = sso
    sub = _account(provider)
    client, _ = sso_login(gw.url, sub)
    provider.pause()
    try:
        # Several refresh intervals with the provider hanging (timeouts after 1.5 s).
        _wait_for(
            lambda: "cannot check the SSO login of " + repr(sub) in gw.log(),
            30,
            "the outage logged",
        )
        for _ in range(3):
            assert _me(gw, client).status_code == 200
            time.sleep(1)
        with _db(gw) as conn:
            failing = conn.execute(
                "SELECT o.failing_since IS NOT NULL FROM oidc_logins o JOIN user_identities i"
                " ON i.user_id = o.user_id WHERE i.subject = %s",
                (sub,),
            ).fetchone()
        assert failing == (True,)
    finally:
        provider.resume()
    assert _me(gw, client).status_code == 200

    def recovered() -> bool:
        with _db(gw) as conn:
            row = conn.execute(
                "SELECT o.failing_since IS NULL FROM oidc_logins o JOIN user_identities i"
                " ON i.user_id = o.user_id WHERE i.subject = %s",
                (sub,),
            ).fetchone()
        return row == (True,)

    _wait_for(recovered, 30, "the next check succeeded")


def test_the_background_check_ends_a_login_once_the_outage_outlasts_the_grace(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """No request of the user's triggers it: the refresh loop alone ends the login."""
    with sso_gateway(tmp_path_factory.mktemp("grace"), oidc_outage_grace="4") as (gw, provider):
        sub = _account(provider)
        client, _ = sso_login(gw.url, sub)
        assert _me(gw, client).status_code == 200  # a login in use
        digest = hashlib.sha256(client.cookies["ide_session"].encode()).digest()

        def login_row() -> bool:
            with _db(gw) as conn:
                return bool(
                    conn.execute(
                        "SELECT 1 FROM login_sessions WHERE token_hash = %s", (digest,)
                    ).fetchone()
                )

        provider.pause()
        try:
            _wait_for(lambda: not login_row(), 60, "the login ended by the refresh loop")
        finally:
            provider.resume()
        assert "the provider has failed for longer than the grace" in gw.log()
        assert _me(gw, client).status_code == 401


def _post_logout_token(gw: GatewayProcess, token: str) -> httpx.Response:
    # From the provider, server to server: no Origin, no cookie.
    return httpx.post(
        f"{gw.url}/api/auth/oidc/backchannel-logout", data={"logout_token": token}, timeout=10
    )


def test_back_channel_logout_ends_the_login_and_a_replay_is_refused(sso: Sso) -> None:
    gw, provider = sso
    sub = _account(provider)
    client, _ = sso_login(gw.url, sub)
    other, _ = sso_login(gw.url, sub)
    assert _me(gw, client).status_code == 200
    token = provider.logout_token(sub=sub)
    answer = _post_logout_token(gw, token)
    assert answer.status_code == 200, answer.text
    assert _me(gw, client).status_code == 401
    assert _me(gw, other).status_code == 401
    # The same token again, after the user signed in anew, ends nothing.
    fresh, _ = sso_login(gw.url, sub)
    replay = _post_logout_token(gw, token)
    assert replay.status_code == 400 and "used already" in replay.text
    assert _me(gw, fresh).status_code == 200


def test_back_channel_logout_by_sid_ends_only_that_login(sso: Sso) -> None:
    gw, provider = sso
    sub = _account(provider)
    client, _ = sso_login(gw.url, sub)
    other, _ = sso_login(gw.url, sub)
    with _db(gw) as conn:
        sid = conn.execute(
            "SELECT o.sid FROM oidc_logins o WHERE o.token_hash = %s",
            (hashlib.sha256(client.cookies["ide_session"].encode()).digest(),),
        ).fetchone()
    assert sid and sid[0]
    assert _post_logout_token(gw, provider.logout_token(sub=sub, sid=sid[0])).status_code == 200
    assert _me(gw, client).status_code == 401
    # The other browser has its own provider session (its own sid) and stays.
    assert _me(gw, other).status_code == 200


@pytest.mark.parametrize(
    "forgery",
    ["other-key", "no-event", "other-audience", "other-issuer", "with-nonce", "no-jti", "old"],
)
def test_forged_logout_tokens_are_refused(sso: Sso, forgery: str) -> None:
    gw, provider = sso
    sub = _account(provider)
    client, _ = sso_login(gw.url, sub)
    claims: dict[str, object] = {"sub": sub}
    if forgery == "no-event":
        claims["events"] = {"http://schemas.openid.net/event/other": {}}
    elif forgery == "other-audience":
        claims["aud"] = "another-client"
    elif forgery == "other-issuer":
        claims["iss"] = "http://127.0.0.1:1"
    elif forgery == "with-nonce":
        claims["nonce"] = "n"
    elif forgery == "no-jti":
        claims["jti"] = None
    elif forgery == "old":
        claims["iat"] = int(time.time()) - 3600
        claims["exp"] = int(time.time()) + 60
    if forgery == "other-key":
        stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        payload = {
            "iss": provider.issuer,
            "aud": CLIENT_ID,
            "iat": int(time.time()),
            "jti": secrets.token_hex(8),
            "sub": sub,
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        }
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, payload, stranger)
    else:
        token = provider.logout_token(**claims)
    answer = _post_logout_token(gw, token)
    assert answer.status_code == 400, answer.text
    assert _me(gw, client).status_code == 200


def _sign_out_at_the_provider(provider: LoopbackProvider, client: httpx.Client) -> None:
    """What the user does on the provider's own end-session page, in that browser."""
    discovery = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    page = client.get(discovery["end_session_endpoint"], params={"client_id": CLIENT_ID})
    assert page.status_code == 200 and "<form" in page.text
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert action is not None
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text))
    confirmed = client.post(
        urljoin(str(page.url), unescape(action.group(1))), data={**fields, "logout": "yes"}
    )
    assert confirmed.status_code in (200, 302, 303), confirmed.text[:300]


def _audited(gw: GatewayProcess, action: str, sub: str) -> bool:
    with _db(gw) as conn:
        row = conn.execute(
            "SELECT 1 FROM audit_log WHERE action = %s AND (detail->>'sub' = %s"
            " OR detail->>'user' = %s)",
            (action, sub, sub),
        ).fetchone()
    return row is not None


def test_signing_out_at_the_provider_ends_the_login_through_its_back_channel(sso: Sso) -> None:
    """The provider itself sends the logout token (none is made by the test): the user signs
    out on the provider's page, and the gateway's login of that browser ends, not another's."""
    gw, provider = sso
    sub = _account(provider)
    client, _ = sso_login(gw.url, sub)
    elsewhere, _ = sso_login(gw.url, sub)  # another browser: its own provider session
    assert _me(gw, client).status_code == 200
    _sign_out_at_the_provider(provider, client)
    _wait_for(lambda: _me(gw, client).status_code == 401, 15, "the back-channel logout")
    assert _audited(gw, "logout.backchannel", sub)
    time.sleep(5)  # two refresh intervals: the other browser's grant is still good
    assert _me(gw, elsewhere).status_code == 200


def test_a_grant_refused_for_one_login_ends_that_login_only(sso: Sso) -> None:
    """The provider revoked one browser's grant and its back-channel logout never arrived:
    the refresh finds out. The account is still good (another login refreshes fine), so
    that login ends alone; the user is not locked out everywhere."""
    gw, provider = sso
    sub = _account(provider)
    client, _ = sso_login(gw.url, sub)
    elsewhere, _ = sso_login(gw.url, sub)
    provider.back_channel(down=True)
    try:
        _sign_out_at_the_provider(provider, client)
        _wait_for(lambda: _me(gw, client).status_code == 401, 20, "the refused refresh")
    finally:
        provider.back_channel(down=False)
    assert _audited(gw, "sso.login_refused", sub)
    assert not _audited(gw, "sso.lockout", sub)
    time.sleep(5)
    assert _me(gw, elsewhere).status_code == 200


def test_logout_ends_the_session_at_the_provider_too(sso: Sso) -> None:
    gw, provider = sso
    sub = _account(provider)
    client, _ = sso_login(gw.url, sub)
    answer = client.post(f"{gw.url}/api/auth/logout")
    assert answer.status_code == 200
    url = answer.json()["end_session_url"]
    assert url.startswith(f"{provider.issuer}/")
    query = parse_qs(urlsplit(url).query)
    assert query["id_token_hint"][0] and query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == [f"{gw.url}/"]
    assert _me(gw, client).status_code == 401
    # The provider accepts it: its logout confirmation page, not an error.
    page = client.get(url)
    assert page.status_code == 200 and "<form" in page.text


def test_break_glass_opens_local_login_in_oidc_mode(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("oidc-mode")
    with temporary_database(tmp) as url:
        gw = GatewayProcess(tmp / "data", url, demo="false")
        provider = LoopbackProvider(tmp, f"http://127.0.0.1:{gw.port}")
        provider.start()
        gw.settings.update(
            auth_mode="oidc",
            public_url=f"http://127.0.0.1:{gw.port}",
            oidc_issuer=provider.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
        )
        try:
            gw.start()
            assert httpx.get(f"{gw.url}/api/auth/providers").json()["local"] is False
            refused = Api(gw.url).login("admin", ADMIN_PASSWORD)
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "local_login_disabled"
            gw.cli("user", "break-glass", "admin", "on")
            assert Api(gw.url).login("admin", ADMIN_PASSWORD).status_code == 200
            gw.cli("user", "break-glass", "admin", "off")
            assert Api(gw.url).login("admin", ADMIN_PASSWORD).status_code == 403
            with _db(gw) as conn:
                actions = conn.execute(
                    "SELECT detail->>'on' FROM audit_log WHERE action = 'user.break_glass'"
                    " ORDER BY id"
                ).fetchall()
            assert actions == [("true",), ("false",)]
            # The client secret is kept sealed, never in clear, in the database.
            with _db(gw) as conn:
                stored = conn.execute(
                    "SELECT value FROM secrets WHERE kind = 'oidc_client_secret'"
                ).fetchone()
            assert stored and CLIENT_SECRET not in stored[0]
        finally:
            gw.stop()
            provider.stop()


@pytest.fixture(scope="module")
def sso_slow_refresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sso]:
    """No background refresh within a test: only the check before a session start."""
    with sso_gateway(
        tmp_path_factory.mktemp("oidc-start"), oidc_refresh_interval="3600", oidc_outage_grace="6"
    ) as both:
        yield both


def _start(client: httpx.Client, gw: GatewayProcess) -> httpx.Response:
    return client.post(f"{gw.url}/api/sessions", json={"project": "demo"})


def test_a_session_start_checks_the_login_at_the_provider_first(sso_slow_refresh: Sso) -> None:
    gw, provider = sso_slow_refresh
    sub = _account(provider)
    client, _ = sso_login(gw.url, sub)
    provider.delete_account(sub)
    # The loop would wait an hour; the start asks the provider now.
    refused = _start(client, gw)
    assert refused.status_code == 401, refused.text
    assert _me(gw, client).status_code == 401


def test_an_outage_lets_sessions_start_within_the_grace_and_not_after(
    sso_slow_refresh: Sso,
) -> None:
    gw, provider = sso_slow_refresh
    sub = _account(provider)
    client, _ = sso_login(gw.url, sub)
    provider.pause()
    try:
        started = _start(client, gw)
        assert started.status_code in (200, 201), started.text
        client.delete(f"{gw.url}/api/sessions/{started.json()['id']}")
        time.sleep(7)  # past the grace of 6 s, the provider still silent
        refused = _start(client, gw)
        assert refused.status_code == 401, refused.text
        assert _me(gw, client).status_code == 401
    finally:
        provider.resume()
    assert "has failed for longer than the grace" in gw.log()


def test_admins_see_sso_users_and_set_break_glass_over_rest(sso: Sso) -> None:
    gw, provider = sso
    sub = _account(provider)
    sso_login(gw.url, sub)
    admin = login_as(gw, "admin", ADMIN_PASSWORD)
    users = {u["username"]: u for u in admin.http.get("/api/admin/users").json()}
    assert users[sub]["sso"] is True and users["admin"]["sso"] is False
    assert users["admin"]["break_glass"] is False
    answer = admin.http.put("/api/admin/users/admin/break-glass", json={"break_glass": True})
    assert answer.status_code == 200 and answer.json() == {"username": "admin", "break_glass": True}
    users = {u["username"]: u for u in admin.http.get("/api/admin/users").json()}
    assert users["admin"]["break_glass"] is True
    # Not for anybody but admins.
    user, _ = sso_login(gw.url, sub)
    refused = user.put(f"{gw.url}/api/admin/users/{sub}/break-glass", json={"break_glass": True})
    assert refused.status_code == 403
    admin.http.put("/api/admin/users/admin/break-glass", json={"break_glass": False})
    listed = next(
        line.split() for line in gw.cli("user", "list").splitlines() if line.startswith(sub)
    )
    assert listed[1:5] == ["False", "False", "True", "False"]  # admin, disabled, sso, break-glass
