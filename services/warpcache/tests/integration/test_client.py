"""The kit's ``WarpCacheClient`` when the cache is down, late or silent: it fails promptly
with ``CacheUnavailable``, retries what the cache could not take, and never waits past its
deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import pytest

from nudges_devstack.infra import free_port
from nudges_kit.settings import NudgesSettings
from nudges_kit.warpcache import CacheUnavailable, WarpCacheClient

from ..conftest import TEST_TOKEN, running_warpcache


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A port that accepts connections and never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


def test_settings_name_the_cache() -> None:
    assert NudgesSettings().warpcache_url == "127.0.0.1:50051"
    assert NudgesSettings(warpcache_url="warpcache:50051").warpcache_url == "warpcache:50051"


async def test_cache_unavailable_promptly_when_nothing_listens() -> None:
    async with WarpCacheClient(f"127.0.0.1:{free_port()}", timeout=1.0, retries=3) as cache:
        started = time.monotonic()
        with pytest.raises(CacheUnavailable) as raised:
            await cache.get("otp:1")
        elapsed = time.monotonic() - started
        with pytest.raises(CacheUnavailable):
            await cache.increment("attempts:1", ttl_seconds=300)

    assert raised.value.code == grpc.StatusCode.UNAVAILABLE
    # Three retries back off 50 + 100 + 200 ms; no call waits for its deadline.
    assert 0.3 <= elapsed < 2.0


async def test_without_retries_it_fails_at_once() -> None:
    async with WarpCacheClient(f"127.0.0.1:{free_port()}", retries=0) as cache:
        started = time.monotonic()
        with pytest.raises(CacheUnavailable):
            await cache.set("k", b"v")
    assert time.monotonic() - started < 1.0


async def test_retries_reach_a_cache_that_starts_late() -> None:
    port = free_port()
    async with WarpCacheClient(f"127.0.0.1:{port}", retries=8, token=TEST_TOKEN) as cache:
        call = asyncio.create_task(cache.increment("attempts", ttl_seconds=60))
        await asyncio.sleep(0.2)
        assert not call.done()  # still retrying
        async with running_warpcache(grpc_port=port):
            assert await call == 1
            assert await cache.get("attempts") == b"1"


async def test_a_silent_cache_raises_at_the_deadline_without_retrying(silent_port: int) -> None:
    async with WarpCacheClient(f"127.0.0.1:{silent_port}", timeout=0.5, retries=3) as cache:
        started = time.monotonic()
        with pytest.raises(CacheUnavailable, match="in time") as raised:
            await cache.get_and_delete("secret")
        elapsed = time.monotonic() - started

    assert raised.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0.5 <= elapsed < 1.8  # one attempt: four would take over 2 s


async def test_one_channel_serves_every_call_until_closed() -> None:
    async with running_warpcache() as server:
        cache = server.client()
        await cache.set("a", b"1")
        channel = cache._channel
        await asyncio.gather(*(cache.get("a") for _ in range(20)))
        assert cache._channel is channel
        await cache.close()
        assert await cache.get("a") == b"1"  # a later call opens a new channel
        await cache.close()
