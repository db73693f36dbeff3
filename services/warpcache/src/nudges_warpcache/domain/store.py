"""The storage port of WarpCache: what the gRPC servicer asks of a storage engine.

Two engines implement it (``adapters/memory_store.py``, ``adapters/redis_store.py``) with
the same semantics, the ones ``proto/warpcache/v1/cache.proto`` promises:

- a value is never returned after its TTL; ``set`` replaces value and TTL;
- ``count`` starts a missing counter from 0 with the TTL given, and an existing one keeps
  the TTL it was created with;
- of concurrent ``get_and_delete`` calls of one key, exactly one gets the value;
- ``set_many`` stores every entry or none;
- invalid input raises :class:`~nudges_warpcache.domain.cache.InvalidRequest` (the same
  checks and words on both engines), ``count`` of a non-counter raises ``NotACounter`` and
  an int64 overflow ``CounterOutOfRange``;
- when the storage cannot be reached, :class:`StoreUnavailable`: never a miss or a wrong
  value in its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from nudges_warpcache.domain.cache import CacheStats, Counted, Entry

Engine = Literal["memory", "redis"]


class StoreUnavailable(Exception):
    """The storage behind WarpCache could not be reached or did not answer in time; the
    caller cannot know what was read or written, and should try again later."""


class CacheStore(Protocol):
    """A storage engine of WarpCache (see the module docstring for the semantics)."""

    #: Which engine this is (``WARPCACHE_ENGINE``).
    engine: Engine

    @property
    def stats(self) -> CacheStats:
        """Hits and misses of reads since the engine started (evictions and expirations
        where the engine sees them)."""

    async def start(self) -> None:
        """Get ready to serve; raise :class:`StoreUnavailable` when the storage is not there."""

    async def close(self) -> None:
        """Stop background work and release connections."""

    async def check(self) -> None:
        """Raise :class:`StoreUnavailable` unless the storage answers now (readiness)."""

    async def get(self, key: str) -> bytes | None:
        """The value of ``key``, or None when absent or expired."""

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The values of those ``keys`` that are present."""

    async def get_and_delete(self, key: str) -> bytes | None:
        """Remove ``key`` and return its value; one winner among concurrent callers."""

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        """Store ``value`` under ``key``, replacing value and TTL (None: never expires)."""

    async def set_many(self, entries: Sequence[Entry]) -> None:
        """Store every entry, or none of them."""

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True when a live entry was removed."""

    async def count(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> Counted:
        """Add ``amount`` to the counter at ``key``; its new value and what it has left."""
