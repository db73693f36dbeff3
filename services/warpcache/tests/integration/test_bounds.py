"""A WarpCache with small bounds, over gRPC: true LRU eviction past the entry bound and the
byte bound, and the configured value limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from nudges_kit.warpcache import InvalidCacheRequest, WarpCacheClient

from ..conftest import running_warpcache

if TYPE_CHECKING:
    from ..conftest import RunningWarpcache

MAX_ENTRIES = 5
MAX_BYTES = 4096
MAX_VALUE_BYTES = 1024


@pytest.fixture(scope="module")
async def small() -> AsyncIterator[RunningWarpcache]:
    async with running_warpcache(
        max_entries=MAX_ENTRIES, max_bytes=MAX_BYTES, max_value_bytes=MAX_VALUE_BYTES
    ) as server:
        yield server


@pytest.fixture(scope="module")
async def cache(small: RunningWarpcache) -> AsyncIterator[WarpCacheClient]:
    async with small.client() as client:
        yield client


async def test_entry_bound_evicts_the_least_recently_used(
    small: RunningWarpcache, cache: WarpCacheClient
) -> None:
    for i in range(1, 6):
        await cache.set(f"lru{i}", b"v")
    assert await cache.get("lru1") == b"v"  # lru1 becomes the most recently used
    await cache.set("lru2", b"w")  # and then lru2: a write is a use
    evictions = small.cache.stats.evictions

    await cache.set("lru6", b"v")
    await cache.set("lru7", b"v")

    # lru3 and lru4 were the least recently used.
    assert small.cache.stats.evictions == evictions + 2
    assert small.cache.keys() == ["lru5", "lru1", "lru2", "lru6", "lru7"]
    assert await cache.get_many([f"lru{i}" for i in range(1, 8)]) == {
        "lru1": b"v",
        "lru2": b"w",
        "lru5": b"v",
        "lru6": b"v",
        "lru7": b"v",
    }


async def test_byte_bound_evicts_the_least_recently_used(
    small: RunningWarpcache, cache: WarpCacheClient
) -> None:
    value = b"x" * 1000
    for i in range(1, 5):  # 4 x 1002 bytes (key and value): 4008 of 4096
        await cache.set(f"b{i}", value)
    assert {"b1", "b2", "b3", "b4"} <= set(small.cache.keys())
    assert await cache.get("b1") == value

    await cache.set("b5", value)  # 5010 bytes would be over: b2, the least recent, goes

    assert await cache.get("b2") is None
    assert await cache.get_many(["b1", "b3", "b4", "b5"]) == dict.fromkeys(
        ["b1", "b3", "b4", "b5"], value
    )
    assert small.cache.total_bytes == 4 * 1002 <= MAX_BYTES


async def test_value_over_the_configured_limit_is_refused(cache: WarpCacheClient) -> None:
    await cache.set("largest", b"x" * MAX_VALUE_BYTES)
    with pytest.raises(InvalidCacheRequest, match="1024"):
        await cache.set("too-large", b"x" * (MAX_VALUE_BYTES + 1))
    assert await cache.get("too-large") is None
