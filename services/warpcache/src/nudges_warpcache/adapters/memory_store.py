"""The memory engine (``WARPCACHE_ENGINE=memory``): the bounded LRU :class:`Cache` of this
process, with its expiry sweep. Nothing survives the process."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from nudges_warpcache.adapters.metrics import CACHE_METRICS
from nudges_warpcache.domain.cache import Cache, CacheStats, Counted, Entry
from nudges_warpcache.domain.store import Engine
from nudges_warpcache.service_layer.expiry import reclaim_expired


class MemoryStore:
    """:class:`~nudges_warpcache.domain.store.CacheStore` over one in-process :class:`Cache`.

    Each call runs the cache's operation without awaiting anything, so on the server's
    single event loop every call (``count`` and ``get_and_delete`` included) is atomic.
    """

    engine: Engine = "memory"

    def __init__(self, cache: Cache, sweep_interval_seconds: float) -> None:
        self.cache = cache
        self._sweep_interval = sweep_interval_seconds
        self._sweep_stop = asyncio.Event()
        self._sweep: asyncio.Task[None] | None = None

    @property
    def stats(self) -> CacheStats:
        return self.cache.stats

    async def start(self) -> None:
        CACHE_METRICS.track(self.cache)
        self._sweep_stop.clear()
        sweep = reclaim_expired(self.cache, self._sweep_interval, self._sweep_stop)
        self._sweep = asyncio.create_task(sweep, name="warpcache-sweep")

    async def close(self) -> None:
        self._sweep_stop.set()
        if self._sweep is not None:
            await asyncio.gather(self._sweep, return_exceptions=True)
            self._sweep = None
        CACHE_METRICS.untrack(self.cache)

    async def check(self) -> None:
        return None

    async def get(self, key: str) -> bytes | None:
        return self.cache.get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        return self.cache.get_many(keys)

    async def get_and_delete(self, key: str) -> bytes | None:
        return self.cache.get_and_delete(key)

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        self.cache.set(key, value, ttl_seconds)

    async def set_many(self, entries: Sequence[Entry]) -> None:
        self.cache.set_many(entries)

    async def delete(self, key: str) -> bool:
        return self.cache.delete(key)

    async def count(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> Counted:
        return self.cache.count(key, amount, ttl_seconds)
