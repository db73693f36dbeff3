"""Reclaiming expired entries that nobody reads again."""

from __future__ import annotations

import asyncio
import contextlib

from nudges_warpcache.domain.cache import Cache

#: Entries reclaimed between two yields to the event loop, so calls are not held up.
SWEEP_SLICE = 1000


async def reclaim_expired(cache: Cache, interval: float, stop: asyncio.Event) -> None:
    """Every ``interval`` seconds until ``stop`` is set, remove every expired entry."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        reclaimed = SWEEP_SLICE
        while reclaimed == SWEEP_SLICE:
            reclaimed = cache.sweep(limit=SWEEP_SLICE)
            await asyncio.sleep(0)
