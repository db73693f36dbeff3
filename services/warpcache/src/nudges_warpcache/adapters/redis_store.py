"""The redis engine (``WARPCACHE_ENGINE=redis``): every WarpCache process on one Redis
serves the same keys, and what they hold survives their restarts.

Each operation is one Redis command or one atomic unit, so the semantics hold across
processes, not only within one event loop: ``GETDEL`` for one-time secrets (exactly one
winner), ``SET ... PX`` for TTLs (milliseconds, rounded up), a Lua script for counters
(create with the TTL, or keep the existing TTL, in one step) and ``MULTI``/``EXEC`` for
``set_many`` (all or nothing). Input is checked by the same functions as the memory engine
before anything is sent.

Memory is bounded by Redis itself: ``maxmemory`` with ``maxmemory-policy volatile-lru``
(README, "Storage engines"). Any failure to reach Redis, a timeout, a read-only replica
during a failover or Redis out of memory raises ``StoreUnavailable`` (gRPC UNAVAILABLE),
never a miss.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from nudges_kit.logging import get_logger
from nudges_warpcache.adapters.metrics import CACHE_METRICS
from nudges_warpcache.domain.cache import (
    CacheStats,
    Counted,
    CounterOutOfRange,
    Entry,
    NotACounter,
    check_amount,
    check_batch,
    check_key,
    check_ttl,
    check_value,
)
from nudges_warpcache.domain.store import Engine, StoreUnavailable
from nudges_warpcache.settings import WarpcacheSettings

log = get_logger(__name__)

#: The eviction policy WarpCache is meant to run on (README, "The redis engine").
RECOMMENDED_POLICY = "volatile-lru"
#: Longest TTL sent to Redis (100 years, in ms): a longer one is as good as forever, and
#: Redis refuses expiry times past its own limit.
MAX_TTL_MS = 100 * 365 * 24 * 3600 * 1000

# Creates the counter with its TTL only when missing (SET NX), then adds: an existing
# counter keeps its TTL. INCRBY refuses a non-integer and an int64 overflow before writing.
# The value goes back as the stored decimal string, since Lua numbers are doubles.
_COUNT = """
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], '0', 'NX')
else
  redis.call('SET', KEYS[1], '0', 'NX', 'PX', ARGV[2])
end
redis.call('INCRBY', KEYS[1], ARGV[1])
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
"""


def _px(ttl_seconds: float | None) -> int | None:
    if ttl_seconds is None:
        return None
    return min(MAX_TTL_MS, max(1, math.ceil(ttl_seconds * 1000)))


def redacted(url: str) -> str:
    """``url`` without its password, fit for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def redis_client(settings: WarpcacheSettings) -> Redis:
    """A redis-py asyncio client for ``settings``: TLS and AUTH token when configured,
    commands bounded by ``WARPCACHE_REDIS_TIMEOUT_SECONDS``."""
    timeout = settings.warpcache_redis_timeout_seconds
    options: dict[str, Any] = {
        "max_connections": settings.warpcache_redis_max_connections,
        # Waiting for a free connection is bounded too: then the call is UNAVAILABLE.
        "timeout": timeout,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # One immediate retry on a broken connection (a pooled socket to a Redis that has
        # restarted); a timed-out command is not retried, as it may have run.
        "retry": Retry(NoBackoff(), 1, supported_errors=(redis_errors.ConnectionError,)),
        "client_name": "warpcache",
    }
    if settings.warpcache_redis_auth_token is not None:
        options["password"] = settings.warpcache_redis_auth_token.get_secret_value()
    if settings.warpcache_redis_ca_file:
        options["ssl_ca_certs"] = settings.warpcache_redis_ca_file
    pool = BlockingConnectionPool.from_url(settings.warpcache_redis_url, **options)
    return Redis(connection_pool=pool)


class RedisStore:
    """:class:`~nudges_warpcache.domain.store.CacheStore` on Redis, keys under ``key_prefix``."""

    engine: Engine = "redis"

    def __init__(
        self,
        client: Redis,
        *,
        url: str,
        key_prefix: str,
        max_value_bytes: int,
        max_batch_keys: int,
    ) -> None:
        self.stats = CacheStats()
        self.url = redacted(url)
        self._redis = client
        self._prefix = key_prefix
        self._max_value_bytes = max_value_bytes
        self._max_batch_keys = max_batch_keys
        self._count = client.register_script(_COUNT)

    @classmethod
    def from_settings(cls, settings: WarpcacheSettings) -> RedisStore:
        """The store on the Redis of ``WARPCACHE_REDIS_URL``."""
        return cls(
            redis_client(settings),
            url=settings.warpcache_redis_url,
            key_prefix=settings.warpcache_redis_key_prefix,
            max_value_bytes=settings.max_value_bytes,
            max_batch_keys=settings.max_batch_keys,
        )

    # Lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self.check()
        except StoreUnavailable as exc:
            raise StoreUnavailable(
                f"cannot reach Redis at WARPCACHE_REDIS_URL={self.url}: {exc}"
            ) from exc
        CACHE_METRICS.track(self)
        try:
            memory = await self._redis.info("memory")
        except redis_errors.RedisError as exc:
            # Only informative: a Redis whose ACL withholds INFO still serves the cache.
            log.warning("warpcache.redis.info_unavailable", url=self.url, error=str(exc))
            return
        maxmemory, policy = int(memory.get("maxmemory", 0)), memory.get("maxmemory_policy")
        log.info("warpcache.redis.connected", url=self.url, maxmemory=maxmemory, policy=policy)
        if not maxmemory or policy != RECOMMENDED_POLICY:
            # Unbounded, it grows until the host runs out; other policies drop keys meant to
            # stay (allkeys-*), reset busy rate limits first (volatile-ttl) or refuse writes.
            log.warning(
                "warpcache.redis.memory_unbounded_or_policy_differs",
                maxmemory=maxmemory,
                policy=policy,
                recommended=f"maxmemory > 0 and maxmemory-policy {RECOMMENDED_POLICY}",
            )

    async def close(self) -> None:
        CACHE_METRICS.untrack(self)
        await self._redis.aclose()
        await self._redis.connection_pool.disconnect()

    async def check(self) -> None:
        with self._reaching_redis():
            await self._redis.ping()

    # Reads -------------------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        check_key(key)
        with self._reaching_redis():
            value = cast(bytes | None, await self._redis.get(self._prefix + key))
        self._seen(value is not None)
        return value

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        check_batch(len(keys), self._max_batch_keys)
        for key in keys:
            check_key(key)
        if not keys:
            return {}
        with self._reaching_redis():
            values = cast(
                list[bytes | None], await self._redis.mget([self._prefix + k for k in keys])
            )
        found = {key: value for key, value in zip(keys, values, strict=True) if value is not None}
        self.stats.hits += sum(value is not None for value in values)
        self.stats.misses += sum(value is None for value in values)
        return found

    async def get_and_delete(self, key: str) -> bytes | None:
        check_key(key)
        with self._reaching_redis():
            value = cast(bytes | None, await self._redis.getdel(self._prefix + key))
        self._seen(value is not None)
        return value

    # Writes ------------------------------------------------------------------------------

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        check_key(key)
        check_value(value, self._max_value_bytes)
        check_ttl(ttl_seconds)
        with self._reaching_redis():
            await self._redis.set(self._prefix + key, value, px=_px(ttl_seconds))

    async def set_many(self, entries: Sequence[Entry]) -> None:
        check_batch(len(entries), self._max_batch_keys)
        for entry in entries:
            check_key(entry.key)
            check_value(entry.value, self._max_value_bytes)
            check_ttl(entry.ttl_seconds)
        if not entries:
            return
        with self._reaching_redis():
            # MULTI/EXEC: Redis applies the queued SETs together or (EXECABORT) not at all.
            async with self._redis.pipeline(transaction=True) as pipe:
                for entry in entries:
                    pipe.set(self._prefix + entry.key, entry.value, px=_px(entry.ttl_seconds))
                await pipe.execute()

    async def delete(self, key: str) -> bool:
        check_key(key)
        with self._reaching_redis():
            removed: int = await self._redis.delete(self._prefix + key)
        return removed > 0

    async def count(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> Counted:
        check_key(key)
        check_ttl(ttl_seconds)
        check_amount(amount)
        px = _px(ttl_seconds)
        try:
            with self._reaching_redis():
                value, pttl = await self._count(
                    keys=[self._prefix + key], args=[amount, "" if px is None else px]
                )
        except redis_errors.ResponseError as exc:
            if "overflow" in str(exc):
                raise CounterOutOfRange(
                    f"incrementing {key!r} would overflow a 64-bit counter"
                ) from exc
            if "not an integer" in str(exc):
                raise NotACounter(f"the value of {key!r} is not an integer counter") from exc
            raise
        # PTTL is -1 for a key without expiry.
        return Counted(int(value), None if pttl < 0 else pttl / 1000)

    # Internals ---------------------------------------------------------------------------

    def _seen(self, found: bool) -> None:
        if found:
            self.stats.hits += 1
        else:
            self.stats.misses += 1

    @contextmanager
    def _reaching_redis(self) -> Iterator[None]:
        """Turn every way of not reaching Redis into ``StoreUnavailable``.

        A script's refusal of a counter (a ``ResponseError`` naming it) goes through for
        ``count`` to translate; any other ``ResponseError`` (out of memory, a read-only
        replica during a failover, a busy script) is Redis not serving the call either.
        """
        try:
            yield
        except redis_errors.ResponseError as exc:
            message = str(exc)
            if "not an integer" in message or "overflow" in message:
                raise
            log.warning("warpcache.redis.refused", url=self.url, error=message)
            raise StoreUnavailable(f"Redis refused the call: {message}") from exc
        except redis_errors.RedisError as exc:
            # Connection refused or reset, timeouts, authentication, no free connection.
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
        except OSError as exc:
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
