"""Wires AuthApi's use cases to their adapters, once, from the settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from nudges_auth.adapters.cache_stores import OidcStateStore, OtpStore, RateLimiter, SessionStore
from nudges_auth.adapters.events import EventPublisher
from nudges_auth.adapters.identity import (
    BuiltInIdentity,
    IdentityProvider,
    KeycloakIdentity,
    MachineAccounts,
)
from nudges_auth.adapters.signing_keys import KeyRing, key_ring_for
from nudges_auth.adapters.user_directory import TIMEOUT_SECONDS, UserDirectory
from nudges_auth.domain.rate_limit import Window
from nudges_auth.domain.tokens import TokenSubject
from nudges_auth.service_layer.admin_login import AdminLogin
from nudges_auth.service_layer.machines import MachineTokens
from nudges_auth.service_layer.otp_login import OtpLogin, OtpPolicy
from nudges_auth.service_layer.sessions import Sessions, TokenService
from nudges_auth.settings import AuthSettings
from nudges_kit.localization import LocalizationClient
from nudges_kit.operations import Subgraph
from nudges_kit.phone import PhoneVault
from nudges_kit.service_auth import ServiceTokenProvider
from nudges_kit.service_client import ServiceClient
from nudges_kit.warpcache import WarpCacheClient

#: The subject of the service token AuthApi signs for its own calls to UserApi.
SELF = "auth"


@dataclass
class AuthApi:
    """Everything the HTTP entrypoint calls, and what must be closed at shutdown."""

    settings: AuthSettings
    cache: WarpCacheClient
    l10n: LocalizationClient
    http: httpx.AsyncClient
    publisher: EventPublisher
    identity: IdentityProvider
    keys: KeyRing
    tokens: TokenService
    sessions: Sessions
    otp: OtpLogin
    machines: MachineTokens
    admin_login: AdminLogin

    async def close(self) -> None:
        await self.publisher.drain()
        await self.publisher.close()
        await self.identity.close()
        await self.http.aclose()
        await self.l10n.close()
        await self.cache.close()


def identity_provider(settings: AuthSettings) -> IdentityProvider:
    """Keycloak when ``KEYCLOAK_URL`` is set, else the built-in provider."""
    if settings.keycloak_url:
        return KeycloakIdentity(
            settings.keycloak_url,
            settings.keycloak_realm,
            settings.keycloak_client_id,
            settings.keycloak_client_secret.get_secret_value(),
        )
    return BuiltInIdentity()


def bootstrap(
    settings: AuthSettings,
    *,
    identity: IdentityProvider | None = None,
    clock: Callable[[], float] = time.time,
) -> AuthApi:
    """AuthApi wired from ``settings`` (``identity`` replaces the provider in unit tests)."""
    cache = WarpCacheClient(
        settings.warpcache_url,
        timeout=settings.warpcache_timeout_seconds,
        token=settings.warpcache_caller_token(),
    )
    l10n = LocalizationClient(settings.localization_url)
    http = httpx.AsyncClient()
    publisher = EventPublisher(settings, settings.kafka_publish_timeout_seconds)
    identity = identity or identity_provider(settings)
    keys = key_ring_for(
        settings.jwt_signing_keys.get_secret_value(),
        settings.jwt_keys_file,
        settings.jwt_key_rotation_seconds,
        clock,
    )
    tokens = TokenService(
        keys, settings.jwt_issuer, settings.jwt_audience, settings.access_token_ttl_seconds, clock
    )
    service_token = ServiceTokenProvider.signed_by(lambda: _self_token(tokens), SELF)
    user_api = ServiceClient(
        {Subgraph.USER: settings.user_url}, service_token, timeout=TIMEOUT_SECONDS, http=http
    )
    directory = UserDirectory(user_api)

    async def still_admin(phone_hash: str) -> bool:
        return (await directory.phone_identity(phone_hash)).is_admin

    sessions = Sessions(
        SessionStore(cache), tokens, settings.refresh_token_ttl_seconds, still_admin
    )
    vault = PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )
    policy = OtpPolicy(
        ttl_seconds=settings.otp_ttl_seconds,
        max_attempts=settings.otp_max_attempts,
        per_phone=Window(
            "otp-phone", settings.otp_per_phone_limit, settings.otp_per_phone_window_seconds
        ),
        per_ip=Window("otp-ip", settings.otp_per_ip_limit, settings.otp_per_ip_window_seconds),
        supported_locales=settings.supported_locales,
        default_locale=settings.default_locale,
        default_region=settings.default_phone_region,
    )
    otp = OtpLogin(
        policy=policy,
        mac_secret=settings.otp_hmac_secret.get_secret_value().encode(),
        codes=OtpStore(cache),
        limiter=RateLimiter(cache),
        vault=vault,
        l10n=l10n,
        publisher=publisher,
        directory=directory,
        identity=identity,
        sessions=sessions,
        clock=clock,
    )
    admin_login = AdminLogin(
        identity=identity,
        states=OidcStateStore(cache),
        sessions=sessions,
        publisher=publisher,
        redirect_uri=settings.oidc_redirect_url,
        state_ttl_seconds=settings.oidc_state_ttl_seconds,
        enabled=bool(settings.keycloak_url),
    )
    return AuthApi(
        settings=settings,
        cache=cache,
        l10n=l10n,
        http=http,
        publisher=publisher,
        identity=identity,
        keys=keys,
        tokens=tokens,
        sessions=sessions,
        otp=otp,
        machines=MachineTokens(
            MachineAccounts(settings.machine_secrets), tokens, settings.machine_scopes
        ),
        admin_login=admin_login,
    )


def _self_token(tokens: TokenService) -> tuple[str, int]:
    issued = tokens.sign(TokenSubject(subject=SELF, role="service"))
    return issued.access_token, issued.expires_in
