"""JWT verification from a JWKS (issuer, audience, expiry, signature) into a typed principal."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID, uuid5

import httpx
import jwt
from jwt import PyJWKSet

Role = Literal["admin", "client", "subscriber", "service"]
ROLES: tuple[Role, ...] = ("admin", "client", "subscriber", "service")

#: The scope a machine token needs to change GraphMonitor's subgraphs (register, refresh,
#: remove); AuthApi grants it to the subgraphs' machine accounts.
REGISTRY_WRITE_SCOPE = "registry:write"


#: Namespace of the user ids derived from phone hashes.
USER_NAMESPACE = UUID("6e756467-6573-4e75-8467-657300000001")


def user_id_for(phone_hash: str) -> str:
    """The Nudges user id of a phone number: the same whichever identity provider signed
    the token (the built-in issuer or Keycloak), so every service can compute it."""
    return str(uuid5(USER_NAMESPACE, phone_hash))


class InvalidToken(Exception):
    """The token is missing, forged, expired, or meant for someone else."""


@dataclass(frozen=True)
class Principal:
    """The caller, as the token describes them."""

    subject: str
    roles: frozenset[Role]
    locale: str = "en"
    phone_hash: str | None = None
    #: The caller's number encrypted with the platform phone key (claim ``phone_ct``).
    phone_ciphertext: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def user_id(self) -> str:
        """The Nudges user id: derived from the phone hash, else the subject (machines)."""
        return user_id_for(self.phone_hash) if self.phone_hash else self.subject

    def has_role(self, *roles: Role) -> bool:
        """True when the principal holds any of ``roles``."""
        return bool(self.roles.intersection(roles))

    @property
    def scopes(self) -> frozenset[str]:
        """The OAuth2 scopes the token grants (claim ``scope``, space separated, or ``scp``)."""
        raw = self.claims.get("scope") or self.claims.get("scp") or ()
        found = raw.split() if isinstance(raw, str) else [str(s) for s in raw]
        return frozenset(found)

    def has_scope(self, scope: str) -> bool:
        """True when the token grants ``scope``."""
        return scope in self.scopes


def _roles_of(claims: dict[str, Any]) -> frozenset[Role]:
    found: list[Any] = list(claims.get("roles") or [])
    # Keycloak puts realm roles under realm_access.roles.
    found += list((claims.get("realm_access") or {}).get("roles") or [])
    return frozenset(r for r in found if r in ROLES)


#: Tokens a verifier remembers as verified (a few hundred bytes each).
VERIFIED_TOKENS = 4096


class JwtVerifier:
    """Verifies tokens with the keys published at ``jwks_url``: cached for ``cache_seconds``,
    and fetched again for a token whose ``kid`` is not among them, at most once every
    ``refetch_seconds`` (tokens with made-up kids cannot make every request fetch the keys);
    concurrent callers that need the keys share one fetch.

    Each key verifies only its own ``alg`` (RS256 or EdDSA, as the JWKS says), so an issuer
    rotating from one kind of key to the other has tokens of both verified. A token already
    verified (the same string, signature included) is not verified again while it is live
    and the keys are the same: the signature check costs more than the rest of most
    requests. Its expiry is still checked on every use."""

    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        audience: str,
        cache_seconds: float = 300.0,
        leeway: float = 5.0,
        http: httpx.AsyncClient | None = None,
        refetch_seconds: float = 30.0,
    ) -> None:
        self._jwks_url = jwks_url
        self._issuer = issuer
        self._audience = audience
        self._cache_seconds = cache_seconds
        self._leeway = leeway
        self._http = http
        self._refetch_seconds = refetch_seconds
        self._keys: PyJWKSet | None = None
        self._fetched_at = 0.0
        #: When an unknown kid last made the keys be fetched (None: never).
        self._missed_at: float | None = None
        self._fetching: asyncio.Future[None] | None = None
        #: Token -> its principal, for tokens verified with the current keys (LRU order).
        self._verified: OrderedDict[str, Principal] = OrderedDict()
        self._jwks: dict[str, Any] | None = None

    def use_jwks(self, jwks: dict[str, Any]) -> None:
        """Use these keys (for an issuer in the same process)."""
        self._keys = PyJWKSet.from_dict(jwks)
        self._fetched_at = time.monotonic()
        if jwks != self._jwks:
            # A key withdrawn from the set must stop vouching for what it signed.
            self._verified.clear()
            self._jwks = jwks

    async def _fetch(self) -> None:
        client = self._http or httpx.AsyncClient(timeout=5.0)
        try:
            response = await client.get(self._jwks_url)
            response.raise_for_status()
            self.use_jwks(response.json())
        finally:
            if self._http is None:
                await client.aclose()

    def _under_way(self) -> asyncio.Future[None] | None:
        fetching = self._fetching
        if (
            fetching is None
            or fetching.done()
            or fetching.get_loop() is not asyncio.get_running_loop()
        ):
            return None
        return fetching

    async def _refresh(self) -> PyJWKSet:
        """Fetch the keys, or wait for the fetch already under way."""
        fetching = self._under_way()
        if fetching is None:
            fetching = self._fetching = asyncio.ensure_future(self._fetch())
        # Shielded: a caller that is cancelled does not cancel the others' fetch.
        await asyncio.shield(fetching)
        assert self._keys is not None
        return self._keys

    def _find(self, kid: str | None) -> Any:
        assert self._keys is not None
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key
        return None

    def _may_refetch(self) -> bool:
        now = time.monotonic()
        if self._missed_at is not None and now - self._missed_at < self._refetch_seconds:
            return False
        self._missed_at = now
        return True

    async def _key_for(self, kid: str | None) -> Any:
        if self._keys is None or self._stale():
            await self._refresh()
        key = self._find(kid)
        if key is None and (self._under_way() is not None or self._may_refetch()):
            # The issuer may have rotated its key since the last fetch.
            await self._refresh()
            key = self._find(kid)
        if key is None:
            raise InvalidToken("token signed with an unknown key")
        return key

    async def verify(self, token: str) -> Principal:
        """The principal of a valid ``token``; raises :class:`InvalidToken` otherwise."""
        known = self._verified.get(token)
        if known is not None and not self._stale():
            if known.claims["exp"] + self._leeway > time.time():
                self._verified.move_to_end(token)
                return known
            del self._verified[token]
        principal = await self._verify(token)
        self._verified[token] = principal
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return principal

    def _stale(self) -> bool:
        return time.monotonic() - self._fetched_at > self._cache_seconds

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        if header.get("alg") in (None, "none") or str(header.get("alg")).startswith("HS"):
            raise InvalidToken("token algorithm not accepted")
        try:
            key = await self._key_for(header.get("kid"))
        except httpx.HTTPError as exc:
            raise InvalidToken(f"signing keys unavailable: {exc}") from exc
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[header["alg"]],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return Principal(
            subject=str(claims["sub"]),
            roles=_roles_of(claims),
            locale=str(claims.get("locale") or "en"),
            phone_hash=claims.get("phone_hash"),
            phone_ciphertext=claims.get("phone_ct"),
            claims=claims,
        )
