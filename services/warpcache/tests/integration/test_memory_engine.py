"""What only the memory engine has: its own clock (exact TTLs, tested by moving it), the
sweep that reclaims expired entries nobody reads, and the entry and byte gauges."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from nudges_kit.warpcache import WarpCacheClient

from .test_cache_service import metric

if TYPE_CHECKING:
    from ..conftest import RunningWarpcache


@pytest.fixture
def key() -> str:
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
async def cache(memory_warpcache: RunningWarpcache) -> AsyncIterator[WarpCacheClient]:
    async with memory_warpcache.client() as client:
        yield client


async def test_ttl_expiry_to_the_second(
    memory_warpcache: RunningWarpcache, cache: WarpCacheClient, key: str
) -> None:
    await cache.set(key, b"123456", ttl_seconds=300)
    await cache.set_many({f"{key}:batch": b"1"}, ttl_seconds=300)
    memory_warpcache.clock.advance(299)
    assert await cache.get(key) == b"123456"

    memory_warpcache.clock.advance(1)

    assert await cache.get(key) is None
    assert await cache.get_and_delete(key) is None
    assert await cache.get_many([f"{key}:batch"]) == {}


async def test_counter_window_to_the_second(
    memory_warpcache: RunningWarpcache, cache: WarpCacheClient, key: str
) -> None:
    assert await cache.increment(key, ttl_seconds=60) == 1
    memory_warpcache.clock.advance(30)
    assert await cache.increment(key, 4, ttl_seconds=60) == 5
    memory_warpcache.clock.advance(30)  # 60 s after creation: the window is over
    assert await cache.increment(key, ttl_seconds=60) == 1


async def test_expired_entries_are_reclaimed_without_being_read(
    memory_warpcache: RunningWarpcache, cache: WarpCacheClient, key: str
) -> None:
    keys = {f"{key}:{i}" for i in range(20)}
    expirations = await metric(memory_warpcache, "warpcache_expirations_total")
    await cache.set_many(dict.fromkeys(keys, b"x"), ttl_seconds=60)
    assert keys <= set(memory_warpcache.cache.keys())

    memory_warpcache.clock.advance(60)

    # Nobody reads them: the periodic sweep (every 50 ms here) reclaims them.
    for _ in range(200):
        if not keys & set(memory_warpcache.cache.keys()):
            break
        await asyncio.sleep(0.05)
    assert not keys & set(memory_warpcache.cache.keys())
    assert await metric(memory_warpcache, "warpcache_expirations_total") >= expirations + 20


async def test_entries_and_bytes_are_gauges(
    memory_warpcache: RunningWarpcache, cache: WarpCacheClient, key: str
) -> None:
    await cache.set(key, b"v")
    assert await metric(memory_warpcache, "warpcache_entries") >= 1
    assert await metric(memory_warpcache, "warpcache_bytes") >= len(key) + 1
