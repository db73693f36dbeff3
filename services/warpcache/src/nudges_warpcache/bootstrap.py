"""Wires WarpCache once: the storage engine ``WARPCACHE_ENGINE`` names, the gRPC server over
it (with its callers' access policy) and the HTTP app of health and metrics, in one process
and one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import uvicorn

from nudges_kit.http import server_options
from nudges_kit.logging import get_logger
from nudges_warpcache.adapters.memory_store import MemoryStore
from nudges_warpcache.adapters.redis_store import RedisStore
from nudges_warpcache.domain.cache import Cache, Clock
from nudges_warpcache.domain.store import CacheStore
from nudges_warpcache.entrypoints.grpc import GrpcServer
from nudges_warpcache.entrypoints.http import build_app
from nudges_warpcache.settings import WarpcacheSettings

log = get_logger(__name__)


class _HttpServer(uvicorn.Server):
    """uvicorn without signal handlers of its own: the process stops both servers together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_cache(settings: WarpcacheSettings, clock: Clock = time.monotonic) -> Cache:
    """The cache with the bounds of ``settings``."""
    return Cache(
        max_entries=settings.max_entries,
        max_bytes=settings.max_bytes,
        max_value_bytes=settings.max_value_bytes,
        max_batch_keys=settings.max_batch_keys,
        clock=clock,
    )


def build_store(settings: WarpcacheSettings, clock: Clock = time.monotonic) -> CacheStore:
    """The storage engine ``WARPCACHE_ENGINE`` names, configured from ``settings``."""
    if settings.warpcache_engine == "redis":
        return RedisStore.from_settings(settings)
    return MemoryStore(build_cache(settings, clock), settings.sweep_interval_seconds)


class WarpcacheService:
    """The running service: the gRPC server and the HTTP app over one storage engine, in
    one event loop."""

    def __init__(self, settings: WarpcacheSettings, store: CacheStore | None = None) -> None:
        self.settings = settings
        self.store = store or build_store(settings)
        self.grpc = GrpcServer(settings, self.store)
        self._http = _HttpServer(
            uvicorn.Config(
                build_app(settings, self.grpc, self.store),
                **{
                    **server_options(settings),
                    "timeout_graceful_shutdown": int(settings.shutdown_grace_seconds),
                },
            )
        )
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def http_port(self) -> int:
        """The port the HTTP app listens on (the chosen one when configured as 0)."""
        port: int = self._http.servers[0].sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Start serving gRPC and HTTP; return once both accept connections.

        Raises :class:`StoreUnavailable` before serving anything when the storage is not
        there (the redis engine's Redis cannot be reached).
        """
        await self.store.start()
        await self.grpc.start()
        http = asyncio.create_task(self._http.serve(), name="warpcache-http")
        self._tasks = [http]
        while not self._http.started:
            if http.done():
                await self.stop()
                raise RuntimeError("the HTTP server of WarpCache did not start")
            await asyncio.sleep(0.01)
        log.info("warpcache.started", grpc_port=self.grpc.port, http_port=self.http_port)

    async def wait(self) -> None:
        """Return when the HTTP server stops of its own accord (it should not)."""
        await self._tasks[0]

    async def stop(self) -> None:
        """Report NOT_SERVING, let calls in flight finish within the grace period, stop."""
        log.info("warpcache.stopping")
        self._http.should_exit = True
        await self.grpc.stop(self.settings.shutdown_grace_seconds)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.store.close()
        log.info("warpcache.stopped")


def bootstrap(settings: WarpcacheSettings, store: CacheStore | None = None) -> WarpcacheService:
    """WarpCache wired from ``settings`` (``store`` replaces the configured engine in tests)."""
    return WarpcacheService(settings, store)
