"""Browser sessions of AuthApi, as the gateway reads them.

AuthApi keeps each session's JWT in WarpCache under ``session_key(token_id)`` for as long as
the JWT lives, and gives the browser only the opaque ``token_id`` (the ``TokenId`` cookie, or
an ``Authorization: Bearer <token_id>`` header). The gateway resolves the id to the JWT with
one WarpCache ``Get`` (:func:`resolve_session`) and forwards the JWT to the subgraphs; a
missing key means the session ended (logout, refresh, expiry).
"""

from __future__ import annotations

import re
from typing import Final, Protocol

#: The HttpOnly cookie holding the opaque session id.
SESSION_COOKIE: Final = "TokenId"
#: Prefix of the WarpCache keys of sessions.
SESSION_KEY_PREFIX: Final = "session:"

# AuthApi's ids are 43 characters of URL-safe base64 (32 random bytes); a JWT has dots.
_TOKEN_ID = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


def session_key(token_id: str) -> str:
    """The WarpCache key holding the JWT of session ``token_id``."""
    return f"{SESSION_KEY_PREFIX}{token_id}"


def is_token_id(value: str) -> bool:
    """True when ``value`` looks like an opaque session id rather than a JWT."""
    return bool(_TOKEN_ID.match(value))


class _Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...


async def resolve_session(cache: _Cache, token_id: str) -> str | None:
    """The JWT of session ``token_id`` (from a :class:`~nudges_kit.warpcache.WarpCacheClient`),
    or None when there is no such live session."""
    if not is_token_id(token_id):
        return None
    value = await cache.get(session_key(token_id))
    return value.decode() if value is not None else None
