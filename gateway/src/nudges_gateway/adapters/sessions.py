"""Who is calling: the ``TokenId`` cookie (or a bearer token that is not a JWT) is an opaque
session id whose JWT AuthApi keeps in WarpCache under ``session:<id>``; a bearer JWT is
forwarded as it is. Either JWT is refused when AuthApi revoked it (its login or itself,
``revoked:...`` in WarpCache): a token outlives its session only until it is revoked."""

from __future__ import annotations

import base64
import binascii
from typing import Protocol

import orjson

from nudges_kit.sessions import is_revoked, is_token_id, unverified_claims
from nudges_kit.warpcache import CacheError, InvalidCacheRequest


class SessionStoreUnavailable(Exception):
    """WarpCache could not be asked: the caller cannot be told apart from anonymous."""


class RevokedToken(Exception):
    """The caller's JWT was revoked (signed out, or its login revoked): refused, not taken
    for anonymous."""


class SessionCache(Protocol):
    async def get(self, key: str) -> bytes | None: ...


def looks_like_jwt(token: str) -> bool:
    """A JWS compact serialisation: three base64url parts, the first a JSON header."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return False
    head = parts[0] + "=" * (-len(parts[0]) % 4)
    try:
        header = orjson.loads(base64.urlsafe_b64decode(head))
    except (binascii.Error, ValueError):
        return False
    return isinstance(header, dict) and "alg" in header


class SessionResolver:
    """Resolves the credentials of a request to the JWT to forward (or None: anonymous)."""

    def __init__(self, cache: SessionCache | None, key_prefix: str = "session:") -> None:
        self.cache = cache
        self.key_prefix = key_prefix

    async def jwt_for(self, bearer: str | None, session_id: str | None) -> str | None:
        """The JWT of a bearer token or session id; None when there is none or it is unknown.
        Raises :class:`RevokedToken` when that JWT was revoked, and
        :class:`SessionStoreUnavailable` when WarpCache cannot answer."""
        jwt = await self._session_jwt(bearer, session_id)
        if jwt is not None:
            await self._refuse_revoked(jwt)
        return jwt

    async def _refuse_revoked(self, jwt: str) -> None:
        claims = unverified_claims(jwt)
        # An unreadable token is no one's: the subgraphs refuse it themselves.
        if claims is None or self.cache is None:
            return
        try:
            revoked = await is_revoked(self.cache, claims)
        except InvalidCacheRequest:
            # A claim no key can be made of was never revoked by AuthApi (it names no login
            # or token of its own); the subgraphs still verify the token.
            return
        except CacheError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc
        if revoked:
            raise RevokedToken("the token was revoked")

    async def _session_jwt(self, bearer: str | None, session_id: str | None) -> str | None:
        if bearer and looks_like_jwt(bearer):
            return bearer
        opaque = bearer or session_id
        # Only what could be a session id is looked up: anything else is no session.
        if not opaque or self.cache is None or not is_token_id(opaque):
            return None
        try:
            value = await self.cache.get(self.key_prefix + opaque)
        except InvalidCacheRequest:
            return None
        except CacheError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc
        if not value:
            return None
        token = value.decode(errors="replace").strip()
        return token or None
