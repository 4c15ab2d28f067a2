"""The OpenID Provider as the gateway sees it: discovery, the code flow with PKCE, and
verification of the ID and logout tokens it signs.

The OAuth 2.0 exchanges (authorization URL, code for tokens, refresh) go through authlib's
httpx client; the JSON Web Tokens are verified with joserfc against the provider's JWKS,
with the algorithms pinned to asymmetric ones the provider announces: ``none`` and the
HMAC family are never accepted, and a key is only ever taken from the fetched JWKS, found
by the token's ``kid`` (a ``jwk``, ``jku`` or ``x5u`` header is never followed).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import authlib.deprecate  # noqa: F401 - installs authlib's warning filter before ours
import httpx
from authlib.common.security import generate_token
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import AsyncOAuth2Client

# authlib's httpx client warns at import that it would rather have the `httpx2` fork; the
# project uses httpx, which authlib still supports, and the warning would open every log.
# The client is imported where it is used, after this filter.
warnings.filterwarnings("ignore", message="The httpx module is deprecated")

log = logging.getLogger(__name__)

# Asymmetric algorithms only: an HMAC token would be signed with the client secret, which
# more parties than the provider know.
SAFE_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
_CLOCK_SKEW = 120  # seconds of clock difference tolerated on iat/exp
_MAX_LOGOUT_TOKEN_AGE = 600  # seconds after iat a logout token is still accepted
_JWKS_REFETCH_INTERVAL = 60.0  # seconds: an unknown kid refetches the JWKS at most this often


class ProviderError(Exception):
    """Base of what can go wrong with the provider; the message is for a person."""


class ProviderUnavailable(ProviderError):
    """The provider did not answer usefully (timeout, refused connection, 5xx): an outage."""


class ProviderRefused(ProviderError):
    """The provider said no (``invalid_grant``, 401): the grant or the account is gone."""


class InvalidToken(ProviderError):
    """A token failed verification (signature, algorithm, claims)."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str
    timeout: float


@dataclass
class Tokens:
    """What the token endpoint returned, kept (sealed) with the login."""

    access_token: str = ""
    refresh_token: str = ""
    id_token: str = ""
    expires_at: float = 0.0

    @classmethod
    def from_response(cls, token: dict[str, Any], previous: Tokens | None = None) -> Tokens:
        expires_in = token.get("expires_in")
        return cls(
            access_token=str(token.get("access_token") or ""),
            # A provider that does not rotate refresh tokens omits it from a refresh.
            refresh_token=str(
                token.get("refresh_token") or (previous and previous.refresh_token) or ""
            ),
            id_token=str(token.get("id_token") or (previous and previous.id_token) or ""),
            expires_at=time.time() + float(expires_in) if expires_in else 0.0,
        )


@dataclass
class Authorization:
    """A login just begun: where to send the browser and what to remember until it returns."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass
class _Metadata:
    document: dict[str, Any]
    algorithms: tuple[str, ...]
    keys: KeySet
    keys_fetched: float = field(default=0.0)


def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class OidcProvider:
    """One provider. Constructed without I/O; ``metadata()`` reads discovery on first use
    (and again after a failure), so a provider down at start does not stop the gateway."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._ssl = _ssl_context()
        self._http = httpx.AsyncClient(verify=self._ssl, timeout=settings.timeout)
        self._metadata: _Metadata | None = None
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    def _oauth(self, *, with_scope: bool = True) -> AsyncOAuth2Client:
        from authlib.integrations.httpx_client import AsyncOAuth2Client

        # One client per exchange: authlib's client keeps the last token it saw, which must
        # never be another user's.
        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scope=self.settings.scopes if with_scope else None,
            redirect_uri=self.settings.redirect_uri,
            code_challenge_method="S256",
            verify=self._ssl,
            timeout=self.settings.timeout,
        )

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"{url}: {exc.__class__.__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"{url} answered {response.status_code}")
        if response.status_code != 200:
            raise ProviderError(f"{url} answered {response.status_code}")
        try:
            value = response.json()
        except ValueError:
            raise ProviderUnavailable(f"{url} did not answer JSON") from None
        if not isinstance(value, dict):
            raise ProviderError(f"{url} did not answer a JSON object")
        return value

    async def metadata(self) -> _Metadata:
        if self._metadata is not None:
            return self._metadata
        async with self._lock:
            if self._metadata is None:
                issuer = self.settings.issuer.rstrip("/")
                document = await self._get_json(f"{issuer}/.well-known/openid-configuration")
                if document.get("issuer") != self.settings.issuer:
                    raise ProviderError(
                        f"discovery names issuer {document.get('issuer')!r}, "
                        f"not {self.settings.issuer!r}"
                    )
                offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
                algorithms = tuple(a for a in offered if a in SAFE_ALGORITHMS)
                if not algorithms:
                    raise ProviderError(f"the provider signs ID tokens only with {offered}")
                keys = await self._fetch_keys(document)
                self._metadata = _Metadata(document, algorithms, keys, time.monotonic())
        return self._metadata

    async def _fetch_keys(self, document: dict[str, Any]) -> KeySet:
        raw = await self._get_json(str(document["jwks_uri"]))
        # Only public signing keys; anything else in the set is ignored.
        usable = [
            k
            for k in raw.get("keys", [])
            if isinstance(k, dict)
            and k.get("kty") in ("RSA", "EC", "OKP")
            and k.get("use", "sig") == "sig"
        ]
        return KeySet.import_key_set({"keys": usable})

    async def _key_set_for(self, token: str) -> tuple[KeySet, tuple[str, ...]]:
        meta = await self.metadata()
        try:
            header = jws.extract_compact(token.encode()).protected
        except JoseError:
            raise InvalidToken("the token is not a compact JWS") from None
        if header.get("alg") not in meta.algorithms:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        kid = header.get("kid")
        known = {k.kid for k in meta.keys.keys}
        if kid not in known and time.monotonic() - meta.keys_fetched > _JWKS_REFETCH_INTERVAL:
            # The provider may have rotated its keys.
            meta.keys = await self._fetch_keys(meta.document)
            meta.keys_fetched = time.monotonic()
        return meta.keys, meta.algorithms

    async def _decode(self, token: str) -> dict[str, Any]:
        keys, algorithms = await self._key_set_for(token)
        try:
            decoded = jwt.decode(token, keys, algorithms=list(algorithms))
        except (JoseError, ValueError) as exc:
            raise InvalidToken(f"the token's signature does not verify: {exc}") from None
        return dict(decoded.claims)

    def _check_common(self, claims: dict[str, Any]) -> None:
        now = time.time()
        if claims.get("iss") != self.settings.issuer:
            raise InvalidToken("the token was issued by another issuer")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.settings.client_id not in audiences:
            raise InvalidToken("the token is meant for another client")
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise InvalidToken("the token names other audiences and another authorized party")
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or iat > now + _CLOCK_SKEW:
            raise InvalidToken("the token has no valid issue time")
        exp = claims.get("exp")
        if exp is not None and (not isinstance(exp, int | float) or exp < now - _CLOCK_SKEW):
            raise InvalidToken("the token has expired")

    async def verify_id_token(self, token: str, *, nonce: str | None) -> dict[str, Any]:
        """The claims of a valid ID token (``nonce``: the one sent with this login, or
        None for a token from a refresh, which carries none to compare)."""
        claims = await self._decode(token)
        self._check_common(claims)
        if not isinstance(claims.get("exp"), int | float):
            raise InvalidToken("the ID token has no expiry")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidToken("the ID token names no subject")
        if nonce is not None and claims.get("nonce") != nonce:
            raise InvalidToken("the ID token's nonce is not this login's")
        return claims

    async def verify_logout_token(self, token: str) -> dict[str, Any]:
        """The claims of a valid back-channel logout token (replay is the caller's check)."""
        claims = await self._decode(token)
        self._check_common(claims)
        if time.time() - float(claims["iat"]) > _MAX_LOGOUT_TOKEN_AGE:
            raise InvalidToken("the logout token is too old")
        events = claims.get("events")
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
            raise InvalidToken("the token is not a back-channel logout event")
        if "nonce" in claims:
            raise InvalidToken("a logout token carries no nonce")
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise InvalidToken("the logout token has no jti")
        if not claims.get("sub") and not claims.get("sid"):
            raise InvalidToken("the logout token names neither a subject nor a session")
        return claims

    async def authorization(self) -> Authorization:
        meta = await self.metadata()
        state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
        async with self._oauth() as client:
            url, _ = client.create_authorization_url(
                str(meta.document["authorization_endpoint"]),
                state=state,
                nonce=nonce,
                code_verifier=verifier,
            )
        return Authorization(url, state, nonce, verifier)

    async def exchange_code(self, code: str, code_verifier: str) -> Tokens:
        meta = await self.metadata()
        async with self._oauth() as client:
            token = await _token_call(
                client.fetch_token(
                    str(meta.document["token_endpoint"]),
                    code=code,
                    code_verifier=code_verifier,
                    grant_type="authorization_code",
                )
            )
        return Tokens.from_response(token)

    async def refresh(self, tokens: Tokens) -> Tokens:
        meta = await self.metadata()
        # No scope on a refresh: the grant keeps what the user consented to at sign-in.
        async with self._oauth(with_scope=False) as client:
            token = await _token_call(
                client.refresh_token(
                    str(meta.document["token_endpoint"]), refresh_token=tokens.refresh_token
                )
            )
        return Tokens.from_response(token, previous=tokens)

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        meta = await self.metadata()
        endpoint = meta.document.get("userinfo_endpoint")
        if not endpoint:
            return {}
        try:
            response = await self._http.get(
                str(endpoint),
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"userinfo: {exc.__class__.__name__}") from None
        if response.status_code in (401, 403):
            raise ProviderRefused(f"userinfo answered {response.status_code}")
        if response.status_code != 200:
            raise ProviderUnavailable(f"userinfo answered {response.status_code}")
        try:
            value = response.json()
        except ValueError:
            raise ProviderUnavailable("userinfo did not answer JSON") from None
        return value if isinstance(value, dict) else {}

    async def end_session_url(self, id_token: str, post_logout_redirect_uri: str) -> str | None:
        try:
            meta = await self.metadata()
        except ProviderError:
            return None
        endpoint = meta.document.get("end_session_endpoint")
        if not endpoint:
            return None
        query = {"client_id": self.settings.client_id}
        if id_token:
            query["id_token_hint"] = id_token
        if post_logout_redirect_uri:
            query["post_logout_redirect_uri"] = post_logout_redirect_uri
        separator = "&" if "?" in str(endpoint) else "?"
        return f"{endpoint}{separator}{urlencode(query)}"


async def _token_call(call: Any) -> dict[str, Any]:
    """Run one token-endpoint call, sorting its failures into refusal and outage."""
    from authlib.integrations.base_client.errors import OAuthError

    try:
        token = await call
    except OAuthError as exc:
        if exc.error in ("invalid_grant", "invalid_client", "unauthorized_client", "access_denied"):
            raise ProviderRefused(f"{exc.error}: {exc.description or ''}".strip()) from None
        if exc.error in ("server_error", "temporarily_unavailable"):
            raise ProviderUnavailable(str(exc.error)) from None
        raise ProviderError(f"{exc.error}: {exc.description or ''}") from None
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        if status in (400, 401):
            raise ProviderRefused(f"token endpoint answered {status}") from None
        raise ProviderUnavailable(f"token endpoint answered {status}") from None
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderUnavailable(f"token endpoint: {exc.__class__.__name__}") from None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise ProviderUnavailable("the token endpoint answered no token")
    return dict(token)
