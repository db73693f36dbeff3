"""The claims of Nudges access tokens."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from nudges_kit.auth import Role
from nudges_kit.sessions import JWT_ID_CLAIM, LOGIN_CLAIM


@dataclass(frozen=True)
class TokenSubject:
    """Who a token is for. People have a phone hash (``subject`` is the user id derived from
    it); machines have only their name. The clear number is never part of a token."""

    subject: str
    role: Role
    locale: str = "en"
    phone_hash: str | None = None
    #: The number encrypted with the platform phone key (services create the user from it).
    phone_ciphertext: str | None = None
    #: OAuth2 scopes granted beyond the role (machine accounts: ``registry:write``).
    scopes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TokenSubject:
        return cls(**{**raw, "scopes": tuple(raw.get("scopes") or ())})


def access_claims(
    who: TokenSubject,
    *,
    issuer: str,
    audience: str,
    now: int,
    ttl_seconds: int,
    login_id: str | None = None,
) -> dict[str, Any]:
    """The claims of an access token for ``who``, valid ``ttl_seconds`` from ``now``; a token
    of a login names it (``sid``), so that ending the login revokes the token."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": who.subject,
        "roles": [who.role],
        "locale": who.locale,
        "iat": now,
        "exp": now + ttl_seconds,
        JWT_ID_CLAIM: uuid.uuid4().hex,
    }
    if login_id:
        claims[LOGIN_CLAIM] = login_id
    if who.phone_hash:
        claims["phone_hash"] = who.phone_hash
    if who.phone_ciphertext:
        claims["phone_ct"] = who.phone_ciphertext
    if who.scopes:
        claims["scope"] = " ".join(who.scopes)
    if who.role == "client":
        # A client's id is its user's id.
        claims["client_id"] = who.subject
    return claims
