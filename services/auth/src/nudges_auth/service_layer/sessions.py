"""Sessions: an access token kept in WarpCache behind an opaque id, and a family of rotating
refresh tokens. Reusing a spent refresh token revokes its whole family. Ending a family
revokes every access token issued in it (their ``sid`` claim), at the gateway at once."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nudges_auth.adapters.cache_stores import Family, SessionStore, refresh_hash
from nudges_auth.adapters.signing_keys import KeyRing
from nudges_auth.domain.tokens import TokenSubject, access_claims
from nudges_auth.service_layer.errors import Unauthenticated
from nudges_kit.logging import get_logger
from nudges_kit.sessions import JWT_ID_CLAIM, REVOCATION_MARGIN_SECONDS, unverified_claims
from nudges_kit.warpcache import CacheEntry

log = get_logger(__name__)

#: Asked on each refresh of an admin: is this phone hash still an admin?
AdminCheck = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True)
class IssuedSession:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    token_id: str
    who: TokenSubject


@dataclass(frozen=True)
class NewLogin:
    """A session made but not yet stored: what to give out, and the entries to store."""

    session: IssuedSession
    entries: list[CacheEntry]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


class TokenService:
    """Signs access tokens with the issuer's key ring."""

    def __init__(
        self,
        keys: KeyRing,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self._issuer = issuer
        self._audience = audience
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def sign(
        self, who: TokenSubject, ttl_seconds: int | None = None, login_id: str | None = None
    ) -> IssuedToken:
        """An access token for ``who``; one signed for login ``login_id`` dies with it."""
        ttl = ttl_seconds or self.ttl_seconds
        claims = access_claims(
            who,
            issuer=self._issuer,
            audience=self._audience,
            now=int(self._clock()),
            ttl_seconds=ttl,
            login_id=login_id,
        )
        return IssuedToken(self.keys.sign(claims), ttl)

    def now(self) -> float:
        """The issuer's clock (seconds since the epoch)."""
        return self._clock()


class Sessions:
    """Starts, refreshes, resolves and ends sessions."""

    def __init__(
        self,
        store: SessionStore,
        tokens: TokenService,
        refresh_ttl_seconds: int,
        still_admin: AdminCheck | None = None,
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._refresh_ttl = refresh_ttl_seconds
        self._still_admin = still_admin

    async def start(self, who: TokenSubject) -> IssuedSession:
        """A new session and refresh family for ``who``."""
        login = self.new_login(who)
        await self._store.save(login.entries)
        return login.session

    def new_login(self, who: TokenSubject, family_id: str | None = None) -> NewLogin:
        """A session and refresh family for ``who``, signed but not stored: its entries are
        for the caller to store (with other writes of the same call) or :meth:`forget`."""
        family_id = family_id or secrets.token_urlsafe(16)
        token = self._tokens.sign(who, login_id=family_id)
        token_id = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        entries = self._store.login_entries(
            token_id,
            token.access_token,
            token.expires_in,
            Family(family_id, who, token_id, refresh_hash(refresh)),
            self._refresh_ttl,
        )
        session = IssuedSession(
            token.access_token, token.expires_in, refresh, self._refresh_ttl, token_id, who
        )
        return NewLogin(session, entries)

    async def forget(self, login: NewLogin) -> None:
        """Remove the stored entries of a login that was not given out."""
        await self._store.forget(login.entries)

    async def _issue(self, who: TokenSubject, family_id: str) -> IssuedSession:
        login = self.new_login(who, family_id)
        await self._store.save(login.entries)
        return login.session

    async def refresh(self, refresh_token: str) -> IssuedSession:
        """A new access token and a new refresh token for an unused ``refresh_token``; the
        old session ends. A refresh token used before revokes its family."""
        hashed = refresh_hash(refresh_token)
        family_id = await self._store.claim_refresh(hashed)
        if family_id is None:
            reused_family = await self._store.used_by(hashed)
            if reused_family is not None:
                await self._revoke(reused_family)
                log.warning("refresh token reused: family revoked", family=reused_family)
                raise Unauthenticated(
                    "this refresh token was already used, so every session of its login has "
                    "been revoked: sign in again"
                )
            raise Unauthenticated("the refresh token is invalid or has expired: sign in again")
        await self._store.mark_used(hashed, family_id, self._refresh_ttl)
        family = await self._store.family(family_id)
        if family is None or await self._store.is_revoked(family_id):
            raise Unauthenticated("this login was signed out: sign in again")
        who = family.who
        if (
            who.role == "admin"
            and who.phone_hash
            and self._still_admin is not None
            and not await self._still_admin(who.phone_hash)
        ):
            await self._revoke(family_id)
            raise Unauthenticated("this number is no longer an admin")
        await self._store.end_session(family.session_id)
        issued = await self._issue(who, family_id)
        # A reuse detected while this refresh ran revokes what it just issued, too.
        if await self._store.is_revoked(family_id):
            await self._revoke(family_id)
            raise Unauthenticated("this login was signed out: sign in again")
        return issued

    async def _revoke(self, family_id: str) -> None:
        await self._store.revoke_family(
            family_id, self._refresh_ttl, self._tokens.ttl_seconds + REVOCATION_MARGIN_SECONDS
        )

    async def resolve(self, token_id: str) -> str:
        """The JWT of the live session ``token_id``."""
        jwt = await self._store.session_jwt(token_id)
        if jwt is None:
            raise Unauthenticated("no such session: it ended or expired; sign in again")
        return jwt

    async def end(self, token_id: str | None, refresh_token: str | None) -> None:
        """End session ``token_id`` and the refresh family of it or of ``refresh_token``."""
        families: set[str] = set()
        if token_id:
            family_id, jwt = await asyncio.gather(
                self._store.session_family(token_id), self._store.session_jwt(token_id)
            )
            if family_id:
                families.add(family_id)
            if jwt:
                await self._revoke_token(jwt)
            await self._store.end_session(token_id)
        if refresh_token:
            hashed = refresh_hash(refresh_token)
            family_id = await self._store.peek_refresh(hashed) or await self._store.used_by(hashed)
            if family_id:
                families.add(family_id)
        for family_id in families:
            await self._revoke(family_id)

    async def _revoke_token(self, jwt: str) -> None:
        """Refuse the session's own access token by its ``jti`` too (a token signed before
        tokens named their login has no ``sid``)."""
        claims = unverified_claims(jwt) or {}
        jti, expires = claims.get(JWT_ID_CLAIM), claims.get("exp")
        if not isinstance(jti, str) or not isinstance(expires, int | float):
            return
        remaining = expires - self._tokens.now() + REVOCATION_MARGIN_SECONDS
        if remaining > 0:
            await self._store.revoke_token(jti, remaining)
