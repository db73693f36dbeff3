"""WarpCache over gRPC, through the kit client and raw stubs, against the running server:
what auth, webhooks and the gateway rely on. The behaviour suite of both storage engines:
``warpcache`` is parametrized over ``memory`` and ``redis`` (``tests/conftest.py``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from nudges_kit._generated.warpcache.v1 import cache_pb2, cache_pb2_grpc
from nudges_kit.warpcache import (
    CacheError,
    InvalidCacheRequest,
    NotACounter,
    WarpCacheClient,
)
from nudges_warpcache.entrypoints.grpc import SERVICE_NAME

from ..conftest import TEST_METADATA

if TYPE_CHECKING:
    from ..conftest import RunningWarpcache


@pytest.fixture
def key() -> str:
    """A key no other test uses."""
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
async def channel(warpcache: RunningWarpcache) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(warpcache.target) as channel:
        yield channel


@pytest.fixture(scope="module")
def stub(channel: grpc.aio.Channel) -> cache_pb2_grpc.WarpCacheStub:
    return cache_pb2_grpc.WarpCacheStub(channel)


async def metric(warpcache: RunningWarpcache, name: str) -> float:
    async with httpx.AsyncClient(base_url=warpcache.http_url) as http:
        text = (await http.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


# Reads and writes --------------------------------------------------------------------


async def test_set_then_get_returns_the_bytes(cache: WarpCacheClient, key: str) -> None:
    value = bytes(range(256)) * 4
    await cache.set(key, value, ttl_seconds=60)
    assert await cache.get(key) == value
    assert await cache.get(f"{key}:missing") is None


async def test_delete_says_whether_something_was_removed(cache: WarpCacheClient, key: str) -> None:
    await cache.set(key, b"token")
    assert await cache.delete(key) is True
    assert await cache.delete(key) is False
    assert await cache.get(key) is None


async def test_batches(cache: WarpCacheClient, key: str) -> None:
    entries = {f"{key}:{i}": f"value {i}".encode() for i in range(50)}
    await cache.set_many(entries, ttl_seconds=60)
    found = await cache.get_many([*entries, f"{key}:missing"])
    assert found == entries


async def test_set_many_stores_nothing_when_one_entry_is_bad(
    cache: WarpCacheClient, key: str
) -> None:
    with pytest.raises(InvalidCacheRequest):
        await cache.set_many({f"{key}:good": b"1", "": b"2"})
    assert await cache.get(f"{key}:good") is None


async def test_hits_and_misses_are_counted_in_metrics(
    warpcache: RunningWarpcache, cache: WarpCacheClient, key: str
) -> None:
    hits, misses = (
        await metric(warpcache, "warpcache_hits_total"),
        await metric(warpcache, "warpcache_misses_total"),
    )
    await cache.set(key, b"v")
    await cache.get(key)
    await cache.get(key)
    await cache.get(f"{key}:missing")
    assert await metric(warpcache, "warpcache_hits_total") == hits + 2
    assert await metric(warpcache, "warpcache_misses_total") == misses + 1


# Expiry (real time: Redis keeps its own clock) ---------------------------------------


async def test_ttl_expiry(cache: WarpCacheClient, key: str) -> None:
    await cache.set(key, b"123456", ttl_seconds=1.5)
    await cache.set_many({f"{key}:batch": b"1"}, ttl_seconds=1.5)
    await cache.set(f"{key}:kept", b"old", ttl_seconds=1.5)
    await cache.set(f"{key}:kept", b"new")  # a set replaces the TTL too: now none
    assert await cache.get(key) == b"123456"

    await asyncio.sleep(1.6)

    assert await cache.get(key) is None
    assert await cache.get_and_delete(key) is None
    assert await cache.get_many([f"{key}:batch"]) == {}
    assert await cache.delete(key) is False
    assert await cache.get(f"{key}:kept") == b"new"


async def test_increment_with_ttl_set_at_creation(cache: WarpCacheClient, key: str) -> None:
    first = await cache.count(key, ttl_seconds=1.5)
    assert first.value == 1
    assert first.expires_in is not None
    assert 0 < first.expires_in <= 1.5

    await asyncio.sleep(0.5)
    second = await cache.count(key, 4, ttl_seconds=60)

    # The counter keeps the TTL it was created with, not the 60 s asked now.
    assert second.value == 5
    assert second.expires_in is not None
    assert second.expires_in <= 1.0
    assert await cache.get(key) == b"5"
    await asyncio.sleep(second.expires_in + 0.1)  # the window is over
    assert await cache.increment(key, ttl_seconds=60) == 1


async def test_a_counter_without_ttl_never_expires(cache: WarpCacheClient, key: str) -> None:
    counted = await cache.count(key, 7)
    assert (counted.value, counted.expires_in) == (7, None)
    assert await cache.increment(key, -10) == -3
    assert await cache.get(key) == b"-3"


# Counters ----------------------------------------------------------------------------


async def test_one_thousand_concurrent_increments_count_exactly(
    warpcache: RunningWarpcache, key: str
) -> None:
    # What is tested is exactness, not latency: this process runs the server, its Redis
    # client and the 1,000 callers on two shared cores, so the deadline is roomy.
    async with warpcache.client(timeout=30) as cache:
        results = await asyncio.gather(*(cache.increment(key, ttl_seconds=60) for _ in range(1000)))
        assert sorted(results) == list(range(1, 1001))
        assert await cache.get(key) == b"1000"


async def test_increment_of_a_value_that_is_not_a_counter(
    cache: WarpCacheClient, stub: cache_pb2_grpc.WarpCacheStub, key: str
) -> None:
    await cache.set(key, b"a draft")
    with pytest.raises(NotACounter):
        await cache.increment(key)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Increment(cache_pb2.IncrementRequest(key=key, amount=1), metadata=TEST_METADATA)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_counter_overflow_is_out_of_range(
    cache: WarpCacheClient, stub: cache_pb2_grpc.WarpCacheStub, key: str
) -> None:
    await cache.increment(key, 2**63 - 1)
    with pytest.raises(CacheError) as error:
        await cache.increment(key)
    assert error.value.code == grpc.StatusCode.OUT_OF_RANGE
    assert await cache.get(key) == str(2**63 - 1).encode()


# One-time secrets --------------------------------------------------------------------


async def test_get_and_delete_hands_a_secret_to_exactly_one_of_200_callers(
    cache: WarpCacheClient, key: str
) -> None:
    await cache.set(key, b"one-time secret", ttl_seconds=60)

    results = await asyncio.gather(*(cache.get_and_delete(key) for _ in range(200)))

    assert results.count(b"one-time secret") == 1
    assert results.count(None) == 199
    assert await cache.get(key) is None


async def test_get_and_delete_once_across_separate_connections(
    warpcache: RunningWarpcache, key: str
) -> None:
    clients = [warpcache.client(timeout=30) for _ in range(4)]
    try:
        await clients[0].set(key, b"s")
        results = await asyncio.gather(*(clients[i % 4].get_and_delete(key) for i in range(200)))
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    assert results.count(b"s") == 1


# Refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "call"),
    [
        (cache_pb2.GetRequest(key=""), "Get"),
        (cache_pb2.GetRequest(key="k" * 513), "Get"),
        (cache_pb2.SetRequest(key="", value=b"v"), "Set"),
        (cache_pb2.SetRequest(key="é" * 257, value=b"v"), "Set"),
        (cache_pb2.SetRequest(key="k", value=b"x" * (1024 * 1024 + 1)), "Set"),
        (cache_pb2.SetRequest(key="k", value=b"v", ttl_seconds=-1), "Set"),
        (cache_pb2.SetRequest(key="k", value=b"v", ttl_seconds=0), "Set"),
        (cache_pb2.DeleteRequest(key=""), "Delete"),
        (cache_pb2.GetAndDeleteRequest(key="k" * 513), "GetAndDelete"),
        (cache_pb2.IncrementRequest(key="", amount=1), "Increment"),
        (cache_pb2.IncrementRequest(key="k", amount=1, ttl_seconds=-5), "Increment"),
        (cache_pb2.GetManyRequest(keys=["ok", ""]), "GetMany"),
        (cache_pb2.GetManyRequest(keys=[f"k{i}" for i in range(1001)]), "GetMany"),
        (
            cache_pb2.SetManyRequest(entries=[cache_pb2.SetRequest(key="k", ttl_seconds=-1)]),
            "SetMany",
        ),
    ],
    ids=[
        "get-empty-key",
        "get-513-byte-key",
        "set-empty-key",
        "set-514-byte-utf8-key",
        "set-value-over-limit",
        "set-negative-ttl",
        "set-zero-ttl",
        "delete-empty-key",
        "get-and-delete-long-key",
        "increment-empty-key",
        "increment-negative-ttl",
        "get-many-empty-key",
        "get-many-too-many",
        "set-many-negative-ttl",
    ],
)
async def test_bad_input_is_invalid_argument(
    stub: cache_pb2_grpc.WarpCacheStub, request_: object, call: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await getattr(stub, call)(request_, timeout=5, metadata=TEST_METADATA)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details()


async def test_client_raises_value_errors_for_bad_input(cache: WarpCacheClient) -> None:
    with pytest.raises(ValueError, match="empty"):
        await cache.get("")
    with pytest.raises(InvalidCacheRequest, match="512"):
        await cache.set("k" * 600, b"v")
    with pytest.raises(InvalidCacheRequest, match="ttl"):
        await cache.set("k", b"v", ttl_seconds=-1)
    with pytest.raises(InvalidCacheRequest, match="value"):
        await cache.set("k", b"x" * (1024 * 1024 + 1))


async def test_server_keeps_serving_after_refusals(cache: WarpCacheClient, key: str) -> None:
    for _ in range(20):
        with pytest.raises(InvalidCacheRequest):
            await cache.increment("", ttl_seconds=-1)
    await cache.set(key, b"fine")
    assert await cache.get(key) == b"fine"


# Health, reflection, readiness -------------------------------------------------------


async def test_health_service_reports_serving(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", SERVICE_NAME):
        answer = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_service(channel: grpc.aio.Channel) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def ask(request: reflection_pb2.ServerReflectionRequest) -> object:
        call = reflection.ServerReflectionInfo(iter([request]), timeout=5)
        async for answer in call:
            return answer
        raise AssertionError("no reflection answer")

    listed = await ask(reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {s.name for s in listed.list_services_response.service}  # type: ignore[attr-defined]
    assert {"warpcache.v1.WarpCache", "grpc.health.v1.Health"} <= names

    described = await ask(
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="warpcache.v1.WarpCache")
    )
    assert described.file_descriptor_response.file_descriptor_proto  # type: ignore[attr-defined]


async def test_readyz_reports_the_grpc_server(warpcache: RunningWarpcache) -> None:
    async with httpx.AsyncClient(base_url=warpcache.http_url) as http:
        ready = await http.get("/readyz")
        health = await http.get("/healthz")
    # The redis engine is ready only while Redis answers too.
    checks = {"grpc": "ok"} if warpcache.engine == "memory" else {"grpc": "ok", "redis": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": checks}
    assert health.json() == {"status": "ok", "service": "warpcache"}
