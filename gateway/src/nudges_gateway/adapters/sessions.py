"""Who is calling: the ``TokenId`` cookie (or a bearer token that is not a JWT) is an opaque
session id whose JWT AuthApi keeps in WarpCache under ``session:<id>``; a bearer JWT is
forwarded as it is."""

from __future__ import annotations

import base64
import binascii
from typing import Protocol

import orjson

from nudges_kit.sessions import is_token_id
from nudges_kit.warpcache import CacheError, InvalidCacheRequest


class SessionStoreUnavailable(Exception):
    """WarpCache could not be asked: the caller cannot be told apart from anonymous."""


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
        Raises :class:`SessionStoreUnavailable` when WarpCache cannot answer."""
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
