"""Browser sessions of AuthApi, as the gateway reads them.

AuthApi keeps each session's JWT in WarpCache under ``session_key(token_id)`` for as long as
the JWT lives, and gives the browser only the opaque ``token_id`` (the ``TokenId`` cookie, or
an ``Authorization: Bearer <token_id>`` header). The gateway resolves the id to the JWT with
one WarpCache ``Get`` (:func:`resolve_session`) and forwards the JWT to the subgraphs; a
missing key means the session ended (logout, refresh, expiry).

An access JWT outlives its session unless it is revoked: each one carries its login's id
(claim ``sid``, the refresh family) and its own id (``jti``). When AuthApi ends a login
(logout, refresh-token reuse) it writes ``revoked:sid:<sid>`` (and ``revoked:jti:<jti>`` for the
session's own token) for as long as those tokens live, and the gateway refuses a token any of
whose :func:`revocation_keys` is present (:func:`is_revoked`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any, Final, Protocol

import jwt

#: The HttpOnly cookie holding the opaque session id.
SESSION_COOKIE: Final = "TokenId"
#: Prefix of the WarpCache keys of sessions.
SESSION_KEY_PREFIX: Final = "session:"
#: Prefix of the WarpCache keys marking revoked access tokens (AuthApi writes, the gateway reads).
REVOKED_KEY_PREFIX: Final = "revoked:"
#: The access-token claim holding the id of the login (refresh family) it was issued in.
LOGIN_CLAIM: Final = "sid"
#: The access-token claim holding the token's own id.
JWT_ID_CLAIM: Final = "jti"
#: A revocation outlives the tokens it revokes by this much: verifiers accept a token a few
#: seconds past its expiry, and the clocks of the machines differ.
REVOCATION_MARGIN_SECONDS: Final = 60

# AuthApi's ids are 43 characters of URL-safe base64 (32 random bytes); a JWT has dots.
_TOKEN_ID = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


def session_key(token_id: str) -> str:
    """The WarpCache key holding the JWT of session ``token_id``."""
    return f"{SESSION_KEY_PREFIX}{token_id}"


def is_token_id(value: str) -> bool:
    """True when ``value`` looks like an opaque session id rather than a JWT."""
    return bool(_TOKEN_ID.match(value))


def revoked_login_key(login_id: str) -> str:
    """The WarpCache key whose presence revokes every access token of login ``login_id``."""
    return f"{REVOKED_KEY_PREFIX}{LOGIN_CLAIM}:{login_id}"


def revoked_token_key(token_id: str) -> str:
    """The WarpCache key whose presence revokes the access token whose ``jti`` is ``token_id``."""
    return f"{REVOKED_KEY_PREFIX}{JWT_ID_CLAIM}:{token_id}"


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, its signature unchecked (None when it is not a readable JWT).
    Fit only for refusing a token: every subgraph still verifies what it is given."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None


def revocation_keys(claims: Mapping[str, Any]) -> list[str]:
    """The keys any of which, when present, revokes the token with these ``claims``."""
    keys: list[str] = []
    if isinstance(login := claims.get(LOGIN_CLAIM), str) and login:
        keys.append(revoked_login_key(login))
    if isinstance(token := claims.get(JWT_ID_CLAIM), str) and token:
        keys.append(revoked_token_key(token))
    return keys


class _Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...


async def is_revoked(cache: _Cache, claims: Mapping[str, Any]) -> bool:
    """True when the token with these ``claims`` was revoked. The lookups are made together,
    so that a coalescing client sends them (with other callers' lookups) as one request; a
    cache that cannot answer raises, and the token is not taken for live."""
    keys = revocation_keys(claims)
    if not keys:
        return False
    found = await asyncio.gather(*(cache.get(key) for key in keys))
    return any(value is not None for value in found)


async def resolve_session(cache: _Cache, token_id: str) -> str | None:
    """The JWT of session ``token_id`` (from a :class:`~nudges_kit.warpcache.WarpCacheClient`),
    or None when there is no such live session."""
    if not is_token_id(token_id):
        return None
    value = await cache.get(session_key(token_id))
    return value.decode() if value is not None else None
