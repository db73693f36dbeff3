"""What AuthApi keeps in WarpCache: codes, attempt and rate counters, sessions, refresh-token
families and OIDC logins in progress. Every key is listed here; the gateway reads only
``session:<id>`` and ``revoked:...`` (:mod:`nudges_kit.sessions`)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable
from dataclasses import dataclass

import orjson

from nudges_auth.domain.otp import IssuedCode
from nudges_auth.domain.rate_limit import Verdict, Window
from nudges_auth.domain.tokens import TokenSubject
from nudges_kit.sessions import revoked_login_key, revoked_token_key, session_key
from nudges_kit.warpcache import (
    CacheEntry,
    DeleteOp,
    GetAndDeleteOp,
    GetOp,
    IncrementOp,
    SetOp,
    WarpCacheClient,
)


class OtpStore:
    """Codes under ``otp:<role>:<phone hash>`` (one live code per role and number) and the
    attempts at the live code under ``otp-attempts:<role>:<phone hash>`` (set to 0 with each
    new code, so that a code's attempts are read with the code, in one call)."""

    def __init__(self, cache: WarpCacheClient) -> None:
        self._cache = cache

    @staticmethod
    def _key(role: str, phone_hash: str) -> str:
        return f"otp:{role}:{phone_hash}"

    @staticmethod
    def _attempts_key(role: str, phone_hash: str) -> str:
        return f"otp-attempts:{role}:{phone_hash}"

    async def put(self, role: str, phone_hash: str, code: IssuedCode, ttl_seconds: int) -> None:
        """Keep ``code`` (replacing any earlier one) for ``ttl_seconds``, with no attempt
        at it yet."""
        await self._cache.set_entries(
            [
                CacheEntry(self._key(role, phone_hash), code.to_bytes(), ttl_seconds),
                CacheEntry(self._attempts_key(role, phone_hash), b"0", ttl_seconds),
            ]
        )

    async def get(self, role: str, phone_hash: str) -> IssuedCode | None:
        raw = await self._cache.get(self._key(role, phone_hash))
        return IssuedCode.from_bytes(raw) if raw is not None else None

    async def get_counting_attempt(
        self, role: str, phone_hash: str, ttl_seconds: int
    ) -> tuple[IssuedCode | None, int]:
        """The live code, and the attempts at it with this one counted, in one call."""
        raw, attempts = await self._cache.batch(
            [
                GetOp(self._key(role, phone_hash)),
                IncrementOp(self._attempts_key(role, phone_hash), 1, ttl_seconds),
            ]
        )
        return (IssuedCode.from_bytes(raw) if raw is not None else None), attempts.value

    async def take_and_save(
        self, role: str, phone_hash: str, entries: list[CacheEntry]
    ) -> IssuedCode | None:
        """Remove the code and return it (of concurrent callers, only one gets it), and
        store ``entries`` (a session) in the same call: the caller that gets no code must
        remove them (:meth:`SessionStore.forget`)."""
        taken, *_ = await self._cache.batch(
            [
                GetAndDeleteOp(self._key(role, phone_hash)),
                DeleteOp(self._attempts_key(role, phone_hash)),
                *(SetOp(*entry) for entry in entries),
            ]
        )
        return IssuedCode.from_bytes(taken) if taken is not None else None

    async def take(self, role: str, phone_hash: str) -> IssuedCode | None:
        """Remove the code and return it: of concurrent callers, only one gets it."""
        raw = await self._cache.get_and_delete(self._key(role, phone_hash))
        return IssuedCode.from_bytes(raw) if raw is not None else None

    async def discard(self, role: str, phone_hash: str, code_id: str | None = None) -> None:
        """Remove the code (only if it is still ``code_id``, when given)."""
        if code_id is not None:
            current = await self.get(role, phone_hash)
            if current is None or current.code_id != code_id:
                return
        await self._cache.delete(self._key(role, phone_hash))


class RateLimiter:
    """Fixed windows starting at a subject's first request: a counter ``rl:<window>:<subject>``
    created by that request and expiring with the window, so that what the counter has left
    is what the window has left (one call per request, refused or not)."""

    def __init__(self, cache: WarpCacheClient) -> None:
        self._cache = cache

    async def hit(self, window: Window, subject: str) -> Verdict:
        """Count a request of ``subject`` in ``window``; refused past the limit."""
        return (await self.hit_all([(window, subject)]))[0]

    async def hit_all(self, hits: list[tuple[Window, str]]) -> list[Verdict]:
        """Count a request in each window of its subject, in one call."""
        counts = await self._cache.batch(
            [IncrementOp(f"rl:{w.name}:{subject}", 1, w.seconds) for w, subject in hits]
        )
        return [
            Verdict(True)
            if window.allows(counted.value)
            else Verdict(False, window.retry_after_remaining(counted.expires_in))
            for (window, _), counted in zip(hits, counts, strict=True)
        ]


def refresh_hash(refresh_token: str) -> str:
    """Refresh tokens are kept only as their SHA-256 (they are 256 random bits)."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()


@dataclass(frozen=True)
class Family:
    """One login's chain of refresh tokens: whose it is, its live session and the hash of its
    one unused refresh token."""

    family_id: str
    who: TokenSubject
    session_id: str
    refresh_hash: str

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "family_id": self.family_id,
                "who": self.who.to_dict(),
                "session_id": self.session_id,
                "refresh_hash": self.refresh_hash,
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Family:
        data = orjson.loads(raw)
        return cls(
            data["family_id"],
            TokenSubject.from_dict(data["who"]),
            data["session_id"],
            data["refresh_hash"],
        )


class SessionStore:
    """Sessions (``session:<id>`` -> the JWT, ``session-family:<id>`` -> its family) and
    refresh families (``refresh-family:<family>``, ``refresh:<hash>`` -> family while unused,
    ``refresh-used:<hash>`` -> family once used, ``refresh-revoked:<family>``) and revoked
    access tokens (``revoked:sid:<family>``, ``revoked:jti:<jti>``)."""

    def __init__(self, cache: WarpCacheClient) -> None:
        self._cache = cache

    async def save(self, entries: list[CacheEntry]) -> None:
        """Save a login's entries (:meth:`login_entries`) in one call: all of them, or none."""
        await self._cache.set_entries(entries)

    async def forget(self, entries: list[CacheEntry]) -> None:
        """Remove the entries of a login that was not given out."""
        await self._cache.batch([DeleteOp(entry.key) for entry in entries])

    @staticmethod
    def login_entries(
        token_id: str, jwt: str, ttl_seconds: int, family: Family, family_ttl_seconds: int
    ) -> list[CacheEntry]:
        """What a login keeps: its session (for ``ttl_seconds``) and its refresh family (for
        ``family_ttl_seconds``)."""
        return [
            CacheEntry(session_key(token_id), jwt.encode(), ttl_seconds),
            CacheEntry(f"session-family:{token_id}", family.family_id.encode(), ttl_seconds),
            CacheEntry(f"refresh-family:{family.family_id}", family.to_bytes(), family_ttl_seconds),
            CacheEntry(
                f"refresh:{family.refresh_hash}", family.family_id.encode(), family_ttl_seconds
            ),
        ]

    async def session_jwt(self, token_id: str) -> str | None:
        raw = await self._cache.get(session_key(token_id))
        return raw.decode() if raw is not None else None

    async def session_family(self, token_id: str) -> str | None:
        raw = await self._cache.get(f"session-family:{token_id}")
        return raw.decode() if raw is not None else None

    async def end_session(self, token_id: str) -> None:
        await asyncio.gather(
            self._cache.delete(session_key(token_id)),
            self._cache.delete(f"session-family:{token_id}"),
        )

    async def family(self, family_id: str) -> Family | None:
        raw = await self._cache.get(f"refresh-family:{family_id}")
        return Family.from_bytes(raw) if raw is not None else None

    async def claim_refresh(self, hashed: str) -> str | None:
        """The family of an unused refresh token, which is used up by this call (only one of
        concurrent callers gets it)."""
        raw = await self._cache.get_and_delete(f"refresh:{hashed}")
        return raw.decode() if raw is not None else None

    async def peek_refresh(self, hashed: str) -> str | None:
        raw = await self._cache.get(f"refresh:{hashed}")
        return raw.decode() if raw is not None else None

    async def mark_used(self, hashed: str, family_id: str, ttl_seconds: int) -> None:
        await self._cache.set(f"refresh-used:{hashed}", family_id.encode(), ttl_seconds)

    async def used_by(self, hashed: str) -> str | None:
        raw = await self._cache.get(f"refresh-used:{hashed}")
        return raw.decode() if raw is not None else None

    async def revoke_family(
        self, family_id: str, ttl_seconds: int, access_ttl_seconds: int
    ) -> None:
        """End the family: its record, its unused refresh token, its live session, and every
        access token issued in it (``revoked:sid:<family>`` for ``access_ttl_seconds``, as long
        as the last of them lives)."""
        # Marked first: a refresh that saves a session after this reads the mark and undoes
        # it, and one that saved before is in the family read next.
        await self._cache.set_entries(
            [
                CacheEntry(f"refresh-revoked:{family_id}", b"1", ttl_seconds),
                CacheEntry(revoked_login_key(family_id), b"1", access_ttl_seconds),
            ]
        )
        family = await self.family(family_id)
        ends: list[Awaitable[object]] = [self._cache.delete(f"refresh-family:{family_id}")]
        if family is not None:
            ends += [
                self._cache.delete(f"refresh:{family.refresh_hash}"),
                self.end_session(family.session_id),
            ]
        await asyncio.gather(*ends)

    async def revoke_token(self, jti: str, ttl_seconds: float) -> None:
        """Refuse the access token ``jti`` for ``ttl_seconds`` (the rest of its life)."""
        await self._cache.set(revoked_token_key(jti), b"1", ttl_seconds)

    async def is_revoked(self, family_id: str) -> bool:
        return await self._cache.get(f"refresh-revoked:{family_id}") is not None


class OidcStateStore:
    """OIDC logins in progress: ``oidc:<state>`` -> the PKCE verifier."""

    def __init__(self, cache: WarpCacheClient) -> None:
        self._cache = cache

    async def put(self, state: str, verifier: str, ttl_seconds: int) -> None:
        await self._cache.set(f"oidc:{state}", verifier.encode(), ttl_seconds)

    async def take(self, state: str) -> str | None:
        """The verifier of ``state``, usable once."""
        raw = await self._cache.get_and_delete(f"oidc:{state}")
        return raw.decode() if raw is not None else None
