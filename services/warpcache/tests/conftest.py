"""WarpCache servers for the tests: the service's own ``WarpcacheService`` (gRPC, HTTP and
expiry sweep) started in the test session's event loop on free ports."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from nudges_kit.warpcache import WarpCacheClient
from nudges_warpcache.main import WarpcacheService, build_cache
from nudges_warpcache.settings import WarpcacheSettings

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
    service = WarpcacheService(config, build_cache(config, clock=clock))
    await service.start()
    try:
        yield RunningWarpcache(service, clock)
    finally:
        await service.stop()


@pytest.fixture(scope="session")
async def warpcache() -> AsyncIterator[RunningWarpcache]:
    """WarpCache with roomy bounds, shared by the session (tests use keys of their own)."""
    async with running_warpcache(sweep_interval_seconds=0.05) as server:
        yield server


@pytest.fixture(scope="session")
async def cache(warpcache: RunningWarpcache) -> AsyncIterator[WarpCacheClient]:
    """A kit client of the session's WarpCache."""
    async with warpcache.client() as client:
        yield client
