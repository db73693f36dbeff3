"""Admin login with OIDC (authorization code with PKCE S256) against Keycloak."""

from __future__ import annotations

from nudges_auth.adapters.cache_stores import OidcStateStore
from nudges_auth.adapters.events import EventPublisher
from nudges_auth.adapters.identity import (
    IdentityProvider,
    IdentityUnavailable,
    OidcLoginFailed,
    OidcNotConfigured,
)
from nudges_auth.domain import pkce
from nudges_auth.domain.tokens import TokenSubject
from nudges_auth.metrics import LOGINS
from nudges_auth.service_layer.errors import (
    CodeRejected,
    Forbidden,
    NotConfigured,
    Unavailable,
)
from nudges_auth.service_layer.otp_login import publish_login
from nudges_auth.service_layer.sessions import IssuedSession, Sessions

NOT_CONFIGURED = (
    "OIDC login is not configured: set KEYCLOAK_URL (and KEYCLOAK_CLIENT_SECRET) to sign "
    "admins in through Keycloak; without it admins sign in with a phone code "
    "(POST /auth/otp with role admin)"
)


class AdminLogin:
    """``start`` sends the browser to Keycloak; ``finish`` turns its callback into a session
    for a holder of the ``admin`` realm role."""

    def __init__(
        self,
        *,
        identity: IdentityProvider,
        states: OidcStateStore,
        sessions: Sessions,
        publisher: EventPublisher,
        redirect_uri: str,
        state_ttl_seconds: int,
        enabled: bool,
    ) -> None:
        self._identity = identity
        self._states = states
        self._sessions = sessions
        self._publisher = publisher
        self._redirect_uri = redirect_uri
        self._state_ttl = state_ttl_seconds
        self._enabled = enabled

    def _require_enabled(self) -> None:
        if not self._enabled:
            raise NotConfigured(NOT_CONFIGURED)

    async def start(self) -> str:
        """The Keycloak URL to send the browser to; its state and verifier are kept."""
        self._require_enabled()
        state, verifier = pkce.new_state(), pkce.new_verifier()
        await self._states.put(state, verifier, self._state_ttl)
        try:
            return await self._identity.authorization_url(
                state=state,
                code_challenge=pkce.challenge_s256(verifier),
                redirect_uri=self._redirect_uri,
            )
        except OidcNotConfigured as exc:
            raise NotConfigured(NOT_CONFIGURED) from exc
        except IdentityUnavailable as exc:
            raise Unavailable(f"Keycloak is unavailable: {exc}") from exc

    async def finish(self, code: str, state: str) -> IssuedSession:
        """The session of the admin Keycloak sent back with ``code`` for ``state``."""
        self._require_enabled()
        verifier = await self._states.take(state)
        if verifier is None:
            raise CodeRejected("unknown or expired login state: start again at /auth/login")
        try:
            found = await self._identity.exchange_code(
                code=code, code_verifier=verifier, redirect_uri=self._redirect_uri
            )
        except OidcLoginFailed as exc:
            raise CodeRejected(f"the login could not be completed: {exc}") from exc
        except IdentityUnavailable as exc:
            raise Unavailable(f"Keycloak is unavailable: {exc}") from exc
        if "admin" not in found.roles:
            LOGINS.labels("admin", "not_admin").inc()
            raise Forbidden("this account does not hold the admin role")
        who = TokenSubject(
            subject=found.user_id, role="admin", locale=found.locale, phone_hash=found.phone_hash
        )
        session = await self._sessions.start(who)
        publish_login(self._publisher, who)
        LOGINS.labels("admin", "ok").inc()
        return session
