"""Numbers' pending opt-ins in WarpCache: one per number (a new JOIN replaces it), taken by
YES at most once."""

from __future__ import annotations

import contextlib

from nudges_kit.warpcache import WarpCacheClient
from nudges_webhooks.domain.dialogue import OptIn


def _pending_key(phone_hash: str) -> str:
    return f"dialogue:opt-in:v1:{phone_hash}"


def _joined_key(phone_hash: str) -> str:
    return f"dialogue:joined:v1:{phone_hash}"


class OptInStore:
    """The JOIN of each number waiting for YES (``ttl_seconds``, a day by default) and the
    opt-in YES last accepted, remembered for ``joined_window_seconds`` so that a repeated YES
    is answered as the first one."""

    def __init__(
        self, cache: WarpCacheClient, ttl_seconds: float, joined_window_seconds: float
    ) -> None:
        self._cache = cache
        self._ttl = ttl_seconds
        self._joined_window = joined_window_seconds

    async def start(self, phone_hash: str, opt_in: OptIn) -> None:
        """Keep ``opt_in`` waiting for the number's YES, replacing any other."""
        await self._cache.set(_pending_key(phone_hash), opt_in.to_bytes(), self._ttl)

    async def pending(self, phone_hash: str) -> OptIn | None:
        raw = await self._cache.get(_pending_key(phone_hash))
        return OptIn.from_bytes(raw) if raw is not None else None

    async def take(self, phone_hash: str) -> OptIn | None:
        """Remove and return the pending opt-in: of two concurrent YES one gets it."""
        raw = await self._cache.get_and_delete(_pending_key(phone_hash))
        return OptIn.from_bytes(raw) if raw is not None else None

    async def put_back(self, phone_hash: str, opt_in: OptIn) -> None:
        """Return a taken opt-in after a failure, so that the next YES retries it (best
        effort: the cache may be what failed; joining is idempotent in UserApi)."""
        with contextlib.suppress(Exception):
            await self._cache.set(_pending_key(phone_hash), opt_in.to_bytes(), self._ttl)

    async def discard(self, phone_hash: str) -> None:
        """STOP: no opt-in waits any more, and no YES is answered as a join."""
        await self._cache.delete(_pending_key(phone_hash))
        await self._cache.delete(_joined_key(phone_hash))

    async def remember_joined(self, phone_hash: str, opt_in: OptIn) -> None:
        await self._cache.set(_joined_key(phone_hash), opt_in.to_bytes(), self._joined_window)

    async def last_joined(self, phone_hash: str) -> OptIn | None:
        """The opt-in the number accepted within the window."""
        raw = await self._cache.get(_joined_key(phone_hash))
        return OptIn.from_bytes(raw) if raw is not None else None
