"""Local login: passwords, the cookie, logout and expiry, against the real gateway."""

from __future__ import annotations

import hashlib

import httpx
import psycopg

from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess


def test_login_sets_a_hardened_cookie_and_me_answers(gateway: GatewayProcess) -> None:
    api = Api(gateway.url)
    response = api.login("alice", PASSWORD)
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "alice"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert len(api.cookie or "") >= 43  # 256 bits, url-safe base64
    me = api.http.get("/api/me")
    assert me.status_code == 200 and me.json()["email"] == "alice@example.com"


def test_wrong_password_and_unknown_user_get_the_same_401(gateway: GatewayProcess) -> None:
    wrong = Api(gateway.url).login("alice", "not-her-password")
    unknown = Api(gateway.url).login("nobody-here", "not-her-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers


def test_bad_login_bodies_are_refused_clearly(gateway: GatewayProcess) -> None:
    url = f"{gateway.url}/api/auth/login"
    own = {"Origin": gateway.url}
    assert httpx.post(url, content=b"{not json", headers=own).status_code == 400
    assert httpx.post(url, json=["alice"], headers=own).status_code == 400
    assert httpx.post(url, json={"username": "alice"}, headers=own).status_code == 400
    assert (
        httpx.post(url, json={"username": "alice", "password": 5}, headers=own).status_code == 400
    )


def test_anonymous_requests_get_401(gateway: GatewayProcess) -> None:
    for path in ("/api/me", "/api/projects", "/api/sessions"):
        response = httpx.get(gateway.url + path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "not_authenticated"


def test_each_login_gets_a_new_token_and_logout_invalidates_it(gateway: GatewayProcess) -> None:
    first, second = Api(gateway.url), Api(gateway.url)
    first.login("bob", PASSWORD)
    second.login("bob", PASSWORD)
    assert first.cookie and second.cookie and first.cookie != second.cookie
    stolen = first.cookie
    assert first.http.post("/api/auth/logout").status_code == 204
    replay = httpx.get(f"{gateway.url}/api/me", cookies={"ide_session": stolen})
    assert replay.status_code == 401
    assert second.http.get("/api/me").status_code == 200  # other logins are unaffected


def test_tokens_are_stored_only_as_hashes(gateway: GatewayProcess) -> None:
    api = Api(gateway.url)
    api.login("bob", PASSWORD)
    token = api.cookie or ""
    with psycopg.connect(gateway.database_url) as conn:
        rows = conn.execute("SELECT token_hash FROM login_sessions").fetchall()
        dump = " ".join(str(r) for r in rows)
        assert token not in dump
        digest = hashlib.sha256(token.encode()).digest()
        assert any(bytes(r[0]) == digest for r in rows)


def test_idle_and_absolute_expiry(gateway: GatewayProcess) -> None:
    idle, old = Api(gateway.url), Api(gateway.url)
    idle.login("bob", PASSWORD)
    old.login("bob", PASSWORD)
    digest = lambda api: hashlib.sha256((api.cookie or "").encode()).digest()  # noqa: E731
    with psycopg.connect(gateway.database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE login_sessions SET last_seen = now() - interval '9 hours'"
            " WHERE token_hash = %s",
            (digest(idle),),
        )
        conn.execute(
            "UPDATE login_sessions SET expires_at = now() - interval '1 second'"
            " WHERE token_hash = %s",
            (digest(old),),
        )
    assert idle.http.get("/api/me").status_code == 401
    assert old.http.get("/api/me").status_code == 401


def test_forged_cookie_is_refused(gateway: GatewayProcess) -> None:
    for forged in ("", "x" * 43, "a" * 5000, "../../etc", "%00"):
        response = httpx.get(f"{gateway.url}/api/me", cookies={"ide_session": forged})
        assert response.status_code == 401


def test_password_hashes_use_owasp_scrypt_parameters(gateway: GatewayProcess) -> None:
    with psycopg.connect(gateway.database_url) as conn:
        (hashed,) = conn.execute(
            "SELECT password_hash FROM users WHERE username = 'alice'"
        ).fetchone()
    scheme, n, r, p, _salt, _digest = hashed.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)
    assert PASSWORD not in hashed


def test_logins_and_failures_are_audited_without_secrets(gateway: GatewayProcess) -> None:
    Api(gateway.url).login("alice", "a-wrong-password-xyz")
    Api(gateway.url).login("alice", PASSWORD)
    with psycopg.connect(gateway.database_url) as conn:
        rows = conn.execute("SELECT actor, action, detail::text FROM audit_log").fetchall()
    actions = {(actor, action) for actor, action, _ in rows}
    assert ("alice", "login.failed") in actions and ("alice", "login") in actions
    assert not any(PASSWORD in d or "a-wrong-password-xyz" in d for _, _, d in rows)


def test_repeated_failures_lock_the_user_for_a_while(gateway: GatewayProcess) -> None:
    gateway.cli("user", "add", "guessme", "--password", PASSWORD)
    api = Api(gateway.url)
    for _ in range(10):
        assert api.login("guessme", "wrong-guess-123").status_code == 401
    locked = api.login("guessme", PASSWORD)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "Too many failed logins" in locked.json()["error"]["message"]
    assert Api(gateway.url).login("alice", PASSWORD).status_code == 200  # others unaffected


def test_an_unknown_api_path_is_a_json_404_not_the_page(gateway: GatewayProcess) -> None:
    """A script (or the frontend) asking for an endpoint that does not exist must not get
    the frontend's page with 200, which would look like an empty successful answer."""
    api = Api(gateway.url)
    for path in ("/api/no-such-endpoint", "/api/projects/demo/no-such-thing", "/api"):
        response = api.http.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    page = api.http.get("/some/app/route")  # the app routes by hash; any other path is the app
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
