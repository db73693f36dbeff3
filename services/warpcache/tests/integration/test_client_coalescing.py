"""The kit client's coalescing: concurrent gets and sets travel as one GetMany or SetMany,
and each caller still gets exactly its own answer or its own error."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from nudges_devstack.infra import free_port
from nudges_kit.warpcache import (
    CacheEntry,
    CacheUnavailable,
    InvalidCacheRequest,
    WarpCacheClient,
)
from nudges_warpcache.entrypoints.grpc import WarpCacheServicer

from ..conftest import running_warpcache

MAX_VALUE_BYTES = 1024


@pytest.fixture
def rpcs(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many of each RPC the servers started by the test answered."""
    seen: Counter[str] = Counter()

    def counted(name: str) -> Callable[..., Any]:
        handler = getattr(WarpCacheServicer, name)

        async def handle(self: WarpCacheServicer, request: Any, context: Any) -> Any:
            seen[name] += 1
            return await handler(self, request, context)

        return handle

    for name in ("Get", "Set", "GetMany", "SetMany", "Increment"):
        monkeypatch.setattr(WarpCacheServicer, name, counted(name))
    return seen


def keys(n: int) -> list[str]:
    prefix = uuid.uuid4().hex
    return [f"coalesce:{prefix}:{i}" for i in range(n)]


async def test_concurrent_gets_are_one_get_many(rpcs: Counter[str]) -> None:
    names = keys(50)
    async with running_warpcache() as server, server.client() as cache:
        await cache.set_many({name: name.encode() for name in names[:40]})
        rpcs.clear()
        # Every key twice, and ten keys that are absent.
        answers = await asyncio.gather(*(cache.get(name) for name in names + names))
    assert answers == [name.encode() if i < 40 else None for i, name in enumerate(names)] * 2
    assert rpcs == {"GetMany": 1}


async def test_concurrent_sets_are_one_set_many_with_each_ttl(rpcs: Counter[str]) -> None:
    short, long, forever = keys(3)
    async with running_warpcache() as server, server.client() as cache:
        await asyncio.gather(
            cache.set(short, b"s", ttl_seconds=10),
            cache.set(long, b"l", ttl_seconds=100),
            cache.set(forever, b"f"),
        )
        assert rpcs == {"SetMany": 1}
        server.clock.advance(50)
        assert await cache.get(short) is None
        assert await cache.get(long) == b"l"
        server.clock.advance(100)
        assert await cache.get(long) is None
        assert await cache.get(forever) == b"f"


async def test_a_lone_call_is_a_plain_rpc(rpcs: Counter[str]) -> None:
    (name,) = keys(1)
    async with running_warpcache() as server, server.client() as cache:
        await cache.set(name, b"v")
        assert await cache.get(name) == b"v"
    assert rpcs == {"Set": 1, "Get": 1}


async def test_sequential_calls_keep_their_order(rpcs: Counter[str]) -> None:
    (name,) = keys(1)
    async with running_warpcache() as server, server.client() as cache:
        for n in range(5):
            await cache.set(name, str(n).encode())
            assert await cache.get(name) == str(n).encode()


async def test_an_invalid_get_fails_only_its_caller(rpcs: Counter[str]) -> None:
    names = keys(5)
    async with running_warpcache() as server, server.client() as cache:
        await cache.set_many({name: b"v" for name in names})
        answers = await asyncio.gather(
            *(cache.get(name) for name in [*names, "", "k" * 600]), return_exceptions=True
        )
    assert answers[:5] == [b"v"] * 5
    assert all(isinstance(a, InvalidCacheRequest) for a in answers[5:])


async def test_an_invalid_set_fails_only_its_caller(rpcs: Counter[str]) -> None:
    names = keys(4)
    async with (
        running_warpcache(max_value_bytes=MAX_VALUE_BYTES) as server,
        server.client() as cache,
    ):
        answers = await asyncio.gather(
            cache.set(names[0], b"a"),
            cache.set(names[1], b"x" * (MAX_VALUE_BYTES + 1)),
            cache.set(names[2], b"c", ttl_seconds=-1),
            cache.set(names[3], b"d", ttl_seconds=60),
            return_exceptions=True,
        )
        assert answers[0] is None
        assert answers[3] is None
        assert isinstance(answers[1], InvalidCacheRequest)
        assert isinstance(answers[2], InvalidCacheRequest)
        assert await cache.get_many(names) == {names[0]: b"a", names[3]: b"d"}


async def test_a_batch_that_cannot_reach_the_cache_fails_every_caller() -> None:
    async with WarpCacheClient(f"127.0.0.1:{free_port()}", retries=0) as cache:
        answers = await asyncio.gather(
            *(cache.get(name) for name in keys(3)),
            *(cache.set(name, b"v") for name in keys(3)),
            return_exceptions=True,
        )
    assert all(isinstance(a, CacheUnavailable) for a in answers)
    assert len({id(a) for a in answers}) == 6  # an exception of its own for each caller


async def test_a_cancelled_caller_leaves_the_others_their_answers(rpcs: Counter[str]) -> None:
    names = keys(3)
    async with running_warpcache() as server, server.client() as cache:
        await cache.set_many({name: b"v" for name in names})
        calls = [asyncio.ensure_future(cache.get(name)) for name in names]
        calls[1].cancel()
        answers = await asyncio.gather(*calls, return_exceptions=True)
    assert answers[0] == answers[2] == b"v"
    assert isinstance(answers[1], asyncio.CancelledError)


async def test_without_coalescing_every_call_is_its_own_rpc(rpcs: Counter[str]) -> None:
    names = keys(10)
    async with running_warpcache() as server, server.client(coalesce=False) as cache:
        await asyncio.gather(*(cache.set(name, b"v") for name in names))
        assert await asyncio.gather(*(cache.get(name) for name in names)) == [b"v"] * 10
    assert rpcs == {"Set": 10, "Get": 10}


async def test_set_entries_stores_each_ttl_in_one_call(rpcs: Counter[str]) -> None:
    short, long = keys(2)
    async with running_warpcache() as server, server.client() as cache:
        await cache.set_entries([CacheEntry(short, b"s", 10), CacheEntry(long, b"l", 100)])
        assert rpcs == {"SetMany": 1}
        server.clock.advance(50)
        assert await cache.get_many([short, long]) == {long: b"l"}


async def test_count_says_how_long_the_counter_has_left() -> None:
    name, forever = keys(2)
    async with running_warpcache() as server, server.client() as cache:
        first = await cache.count(name, ttl_seconds=60)
        server.clock.advance(20)
        second = await cache.count(name, 2, ttl_seconds=60)
        assert (first.value, second.value) == (1, 3)
        assert first.expires_in is not None
        assert 59 < first.expires_in <= 60
        assert second.expires_in is not None
        assert 39 < second.expires_in <= 40
        assert (await cache.count(forever)).expires_in is None
