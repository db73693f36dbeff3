"""The redis engine across real ``nudges-warpcache`` processes: what a signed-in person
holds survives a restart, two processes on one Redis serve the same keys, and a rate
counter holds whichever process counts. On the session's Redis (``redis_server``), under a
key prefix of each test's own."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from nudges_devstack.infra import Redis, free_port
from nudges_devstack.pytest_plugin import ConsoleScript
from nudges_kit.warpcache import WarpCacheClient

from ..conftest import TEST_TOKEN, forget_prefix

#: The processes accept the tests' caller on every key.
CALLERS = json.dumps({"tests": {"token": TEST_TOKEN, "read_write": [""]}})


@pytest.fixture
async def prefix(redis_server: Redis) -> AsyncIterator[str]:
    """A key prefix no other test uses, emptied afterwards."""
    prefix = f"warpcache-test:{uuid.uuid4().hex}:"
    yield prefix
    await forget_prefix(redis_server.url, prefix)


class WarpcacheProcess:
    """``nudges-warpcache`` with the redis engine, as a child process on fixed free ports
    (so a restarted process answers where the first one did)."""

    def __init__(self, redis: Redis, prefix: str, log_dir: Path) -> None:
        self.grpc_port, http_port = free_port(), free_port()
        self.script = ConsoleScript(
            "nudges-warpcache",
            {
                "GRPC_PORT": str(self.grpc_port),
                "HTTP_PORT": str(http_port),
                "LOG_LEVEL": "WARNING",
                "WARPCACHE_ENGINE": "redis",
                "WARPCACHE_REDIS_URL": redis.url,
                "WARPCACHE_REDIS_KEY_PREFIX": prefix,
                "WARPCACHE_CALLERS": CALLERS,
            },
            http_port,
            log_dir / f"warpcache-{self.grpc_port}.log",
        )

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    async def start(self) -> None:
        await asyncio.to_thread(self.script.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self.script.stop)


@pytest.fixture
def processes(redis_server: Redis, prefix: str, tmp_path: Path) -> Iterator[list[WarpcacheProcess]]:
    """Two WarpCache processes on the same Redis and prefix (started by the test)."""
    both = [WarpcacheProcess(redis_server, prefix, tmp_path) for _ in range(2)]
    yield both
    for process in both:
        process.script.stop()


async def test_a_session_a_refresh_token_and_a_half_used_otp_survive_a_restart(
    processes: list[WarpcacheProcess], redis_server: Redis, prefix: str
) -> None:
    warpcache = processes[0]
    await warpcache.start()
    async with WarpCacheClient(warpcache.target, token=TEST_TOKEN) as cache:
        await cache.set("session:p1", b"session of person 1", ttl_seconds=3600)
        await cache.set("refresh:family-1", b"person 1, generation 3", ttl_seconds=86400)
        await cache.set("otp:p1", b"digest-of-123456", ttl_seconds=300)
        attempts = [await cache.count("otp-attempts:p1", ttl_seconds=300) for _ in range(2)]
    assert [a.value for a in attempts] == [1, 2]  # two of five attempts used

    await warpcache.stop()
    await warpcache.start()

    async with WarpCacheClient(warpcache.target, token=TEST_TOKEN) as cache:
        assert await cache.get("session:p1") == b"session of person 1"
        assert await cache.get("refresh:family-1") == b"person 1, generation 3"
        third = await cache.count("otp-attempts:p1", ttl_seconds=300)
        # The counter goes on from where it was, in the window it was created with.
        assert third.value == 3
        assert third.expires_in is not None
        assert attempts[1].expires_in is not None
        assert third.expires_in <= attempts[1].expires_in
        assert await cache.get_and_delete("otp:p1") == b"digest-of-123456"

    # They live in Redis under the configured prefix, with their TTLs.
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        assert 3500 < await client.ttl(f"{prefix}session:p1") <= 3600
        assert await client.get(f"{prefix}otp-attempts:p1") == b"3"
    finally:
        await client.aclose()


async def test_two_processes_serve_the_same_keys(processes: list[WarpcacheProcess]) -> None:
    await asyncio.gather(*(p.start() for p in processes))
    async with (
        WarpCacheClient(processes[0].target, timeout=10, token=TEST_TOKEN) as a,
        WarpCacheClient(processes[1].target, timeout=10, token=TEST_TOKEN) as b,
    ):
        await a.set("draft:1", b"hello", ttl_seconds=600)
        assert await b.get("draft:1") == b"hello"
        await b.set_many({"draft:2": b"two", "draft:3": b"three"}, ttl_seconds=600)
        assert await a.get_many(["draft:1", "draft:2", "draft:3"]) == {
            "draft:1": b"hello",
            "draft:2": b"two",
            "draft:3": b"three",
        }
        assert await b.delete("draft:1") is True
        assert await a.get("draft:1") is None

        # A one-time secret goes to exactly one of 100 callers spread over both processes.
        await a.set("otp:race", b"secret", ttl_seconds=60)
        taken = await asyncio.gather(
            *((a if i % 2 else b).get_and_delete("otp:race") for i in range(100))
        )
        assert taken.count(b"secret") == 1
        assert taken.count(None) == 99


async def test_a_rate_counter_holds_across_two_processes(
    processes: list[WarpcacheProcess],
) -> None:
    limit = 10
    await asyncio.gather(*(p.start() for p in processes))
    async with (
        WarpCacheClient(processes[0].target, timeout=10, token=TEST_TOKEN) as a,
        WarpCacheClient(processes[1].target, timeout=10, token=TEST_TOKEN) as b,
    ):
        counts = await asyncio.gather(
            *((a if i % 2 else b).count("rate:otp:+15550001", ttl_seconds=60) for i in range(40))
        )
        # Every request is counted once, whichever process counted it, in one window.
        assert sorted(c.value for c in counts) == list(range(1, 41))
        assert sum(c.value <= limit for c in counts) == limit
        assert all(c.expires_in is not None and 0 < c.expires_in <= 60 for c in counts)
        assert await a.get("rate:otp:+15550001") == await b.get("rate:otp:+15550001") == b"40"
