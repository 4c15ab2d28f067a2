"""Single sign-on as one service of the gateway: the provider, the identities and the
refresh loop, built from the settings when ``IDE_AUTH_MODE`` is ``oidc`` or ``both``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .credentials import OIDC_CLIENT_SECRET
from .oidc import OidcProvider, OidcSettings
from .sso import Identities, SsoPolicy
from .sso_logins import SsoLogins

if TYPE_CHECKING:
    from .services import Services

log = logging.getLogger(__name__)

AUTH_MODES = ("local", "oidc", "both")


@dataclass
class SingleSignOn:
    provider: OidcProvider
    identities: Identities
    logins: SsoLogins

    @property
    def name(self) -> str:
        return self.logins.services.config.oidc_provider_name  # type: ignore[no-any-return]

    async def stop(self) -> None:
        await self.logins.stop()
        await self.provider.close()


def public_url(services: Services) -> str:
    config = services.config
    if config.public_url:
        return str(config.public_url).rstrip("/")
    scheme = "https" if config.tls else "http"
    return f"{scheme}://{config.host}:{config.port}"


async def client_secret(services: Services) -> str:
    """The client secret, sealed in the database the first time it is given (and again
    when it changes), so the environment need not keep it."""
    given = services.config.oidc_client_secret
    stored = await services.credentials.get(OIDC_CLIENT_SECRET)
    if given and given != stored:
        await services.credentials.put(OIDC_CLIENT_SECRET, given)
        return str(given)
    return stored or ""


async def build_sso(services: Services) -> SingleSignOn | None:
    config = services.config
    if config.auth_mode not in AUTH_MODES:
        raise SystemExit(f"IDE_AUTH_MODE must be one of {', '.join(AUTH_MODES)}")
    if config.auth_mode == "local":
        return None
    if not config.oidc_issuer or not config.oidc_client_id:
        raise SystemExit(
            f"IDE_AUTH_MODE={config.auth_mode} needs IDE_OIDC_ISSUER and IDE_OIDC_CLIENT_ID"
        )
    scopes = str(config.oidc_scopes)
    if "openid" not in scopes.split():
        scopes = f"openid {scopes}".strip()
    provider = OidcProvider(
        OidcSettings(
            issuer=config.oidc_issuer,
            client_id=config.oidc_client_id,
            client_secret=await client_secret(services),
            redirect_uri=f"{public_url(services)}/api/auth/oidc/callback",
            scopes=scopes,
            timeout=float(config.oidc_timeout),
        )
    )
    return SingleSignOn(
        provider=provider,
        identities=Identities(services.db, SsoPolicy.from_config(config)),
        logins=SsoLogins(services, provider),
    )


async def end_session_url(services: Services, login_token: str) -> str | None:
    """Where to send the browser so the login also ends at the provider (None: local)."""
    if services.sso is None:
        return None
    tokens = await services.sso.logins.tokens_of(login_token)
    if tokens is None:
        return None
    return await services.sso.provider.end_session_url(tokens.id_token, f"{public_url(services)}/")


async def session_start_allowed(services: Services, login_token: str | None) -> bool:
    """Before a session starts, an SSO login is checked at the provider (a local one
    passes); False when the check has just ended the login."""
    if services.sso is None or not login_token:
        return True
    return await services.sso.logins.check_now(login_token)
