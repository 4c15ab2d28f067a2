"""The gateway's ASGI layers one by one, and their order in the composed app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ide_server.config import load_config
from ide_server.db import DatabaseUnavailable
from ide_server.gateway.accounts import User
from ide_server.gateway.app import create_app
from ide_server.gateway.middleware import AuthMiddleware, OriginMiddleware
from tests.gateway.asgi import Inner, call, header_of, http_scope, status_of, websocket_scope

ALICE = User(1, "alice", "Alice", "alice@example.com", False)
SAME_ORIGIN = {"host": "ide.example", "origin": "http://ide.example"}


class KnownTokens:
    """A login store that knows one token, and counts its lookups."""

    def __init__(self) -> None:
        self.lookups = 0

    async def resolve(self, token: str | None) -> User | None:
        self.lookups += 1
        return ALICE if token == "good" else None


class Unreachable:
    """A login store whose database is down."""

    async def resolve(self, token: str | None) -> User | None:
        raise DatabaseUnavailable("connection refused")


# -- OriginMiddleware -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"host": "ide.example"},  # no Origin: not a browser page of ours
        {"host": "ide.example", "origin": "http://evil.example"},
        {"host": "ide.example", "origin": "https://ide.example"},  # other scheme
        {"host": "ide.example", "origin": "null"},
    ],
)
async def test_a_foreign_or_missing_origin_cannot_open_a_websocket(headers) -> None:
    inner = Inner()
    sent = await call(
        OriginMiddleware(inner, ()), websocket_scope("/sessions/x/ide", headers=headers)
    )
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert inner.scopes == []


async def test_the_same_origin_opens_a_websocket() -> None:
    inner = Inner()
    sent = await call(OriginMiddleware(inner, ()), websocket_scope("/x", headers=SAME_ORIGIN))
    assert sent == [{"type": "websocket.accept"}]


async def test_configured_origins_replace_the_same_origin_rule() -> None:
    allowed = ("https://ide.corp.example",)
    ok = websocket_scope("/x", headers={"host": "pod", "origin": "https://ide.corp.example"})
    assert await call(OriginMiddleware(Inner(), allowed), ok) == [{"type": "websocket.accept"}]
    own = websocket_scope("/x", headers=SAME_ORIGIN)
    assert (await call(OriginMiddleware(Inner(), allowed), own))[0]["code"] == 1008


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_a_foreign_origin_cannot_write_over_http(method: str) -> None:
    inner = Inner()
    scope = http_scope(
        "/api/sessions", method=method, headers={"host": "ide.example", "origin": "http://evil"}
    )
    sent = await call(OriginMiddleware(inner, ()), scope)
    assert status_of(sent) == 403
    assert json.loads(sent[1]["body"])["error"]["code"] == "bad_origin"
    assert inner.scopes == []


async def test_reads_pass_and_same_origin_writes_pass_over_http() -> None:
    # A GET cannot change anything; a write passes with our Origin or, without one, with
    # the browser's word that it is same-origin.
    foreign = {"host": "ide.example", "origin": "http://evil"}
    fetch_same = {"host": "ide.example", "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors"}
    for scope in (
        http_scope("/api/me", headers=foreign),
        http_scope("/api/sessions", method="POST", headers=SAME_ORIGIN),
        http_scope("/api/sessions", method="POST", headers=fetch_same),
    ):
        assert status_of(await call(OriginMiddleware(Inner(), ()), scope)) == 204


@pytest.mark.parametrize(
    "headers",
    [
        {},  # neither Origin nor Sec-Fetch-Site: not provably ours
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},  # a sibling subdomain
        {"sec-fetch-site": "none"},
        {"sec-fetch-site": "same-origin", "sec-fetch-mode": "no-cors"},
        {"origin": "http://ide.example", "sec-fetch-site": "cross-site"},
        {"origin": "http://ide.example", "sec-fetch-mode": "no-cors"},
    ],
)
async def test_writes_not_provably_same_origin_are_refused(headers: dict[str, str]) -> None:
    inner = Inner()
    scope = http_scope("/api/sessions", method="POST", headers={"host": "ide.example", **headers})
    sent = await call(OriginMiddleware(inner, ()), scope)
    assert status_of(sent) == 403 and inner.scopes == []


# -- AuthMiddleware -------------------------------------------------------------------------
async def test_the_login_cookie_becomes_the_user_of_the_request() -> None:
    inner, logins = Inner(), KnownTokens()
    headers = {"cookie": "theme=dark; ide_session=good"}
    await call(
        AuthMiddleware(inner), http_scope("/api/me", headers=headers, state={"logins": logins})
    )
    assert inner.scopes[0]["user"] == ALICE


@pytest.mark.parametrize("cookie", ["ide_session=forged", "other=1", "ide_session=", "%%%;;="])
async def test_an_unknown_or_odd_cookie_is_nobody(cookie: str) -> None:
    inner = Inner()
    scope = http_scope("/api/me", headers={"cookie": cookie}, state={"logins": KnownTokens()})
    await call(AuthMiddleware(inner), scope)
    assert inner.scopes[0]["user"] is None


async def test_static_files_cost_no_login_lookup() -> None:
    inner, logins = Inner(), KnownTokens()
    scope = http_scope(
        "/assets/app.js", headers={"cookie": "ide_session=good"}, state={"logins": logins}
    )
    await call(AuthMiddleware(inner), scope)
    assert logins.lookups == 0
    assert inner.scopes[0]["user"] is None


async def test_a_database_outage_is_503_over_http_and_1013_on_a_websocket() -> None:
    state = {"logins": Unreachable()}
    cookie = {"cookie": "ide_session=good"}
    sent = await call(AuthMiddleware(Inner()), http_scope("/api/me", headers=cookie, state=state))
    assert status_of(sent) == 503
    assert header_of(sent, "retry-after") == "2"
    scope = websocket_scope("/sessions/x/ide", headers=cookie, state=state)
    sent = await call(AuthMiddleware(Inner()), scope)
    # Accepted first: a close before the accept reaches the client as an HTTP 403.
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
    assert sent[1]["code"] == 1013


# -- the composed app -----------------------------------------------------------------------
@pytest.fixture
def app(tmp_path: Path):
    config = {"data_dir": str(tmp_path), "allowed_origins": ("http://ide.example",)}
    return create_app(load_config(config, env={}))


async def test_the_origin_check_runs_before_any_login_lookup(app) -> None:
    # The lifespan has not run: a layer that read the login store would fail here.
    scope = websocket_scope(
        "/sessions/x/ide", headers={"host": "ide.example", "origin": "http://evil"}, state={}
    )
    assert await call(app, scope) == [{"type": "websocket.close", "code": 1008}]


async def test_the_composed_app_resolves_logins_from_the_lifespan_state(app) -> None:
    state = {"logins": Unreachable()}
    headers = {"host": "ide.example", "cookie": "ide_session=good"}
    scope = http_scope("/api/me", headers=headers, state=state)
    assert status_of(await call(app, scope)) == 503
    assert status_of(await call(app, http_scope("/healthz", state=state))) == 200


async def test_the_proxy_refuses_a_websocket_of_nobody_before_accepting(app) -> None:
    scope = websocket_scope(
        "/sessions/0123456789abcdef0123456789abcdef/ide",
        headers=SAME_ORIGIN,
        state={"logins": KnownTokens()},
    )
    sent = await call(app, scope)
    assert [m["type"] for m in sent] == ["websocket.close"]
    assert sent[0]["code"] == 1008
