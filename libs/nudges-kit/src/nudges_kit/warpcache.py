"""The async client of WarpCache (``proto/warpcache/v1/cache.proto``).

One channel per client, reused by every call; each call has a deadline, and a call the
cache could not take (UNAVAILABLE) is retried with backoff before :class:`CacheUnavailable`
is raised. ::

    async with WarpCacheClient(settings.warpcache_url) as cache:
        await cache.set("otp:123", b"secret", ttl_seconds=300)
        attempts = await cache.increment("otp-attempts:123", ttl_seconds=300)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar, cast

import grpc
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from nudges_kit._generated.warpcache.v1 import cache_pb2, cache_pb2_grpc

if TYPE_CHECKING:
    from nudges_kit._generated.warpcache.v1.cache_pb2_grpc import WarpCacheAsyncStub

_Response = TypeVar("_Response")

#: Wait before the first retry; each later one waits twice as long (at most a second).
FIRST_BACKOFF_SECONDS = 0.05
#: Largest message the client accepts (a GetMany answer is one message).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class CacheError(Exception):
    """WarpCache refused or failed a call."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.code = code


class CacheUnavailable(CacheError):
    """WarpCache could not be reached (or did not answer in time), after the retries."""


class InvalidCacheRequest(CacheError, ValueError):
    """The request was invalid: empty or over-long key, value too large, TTL not positive,
    batch too large."""


class NotACounter(CacheError):
    """``increment`` of a key whose value is not an integer counter."""


def _is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, grpc.aio.AioRpcError) and exc.code() == grpc.StatusCode.UNAVAILABLE


def _error_of(exc: grpc.aio.AioRpcError, target: str) -> CacheError:
    code = exc.code()
    details = exc.details() or code.name
    if code == grpc.StatusCode.UNAVAILABLE:
        return CacheUnavailable(f"WarpCache at {target} is unavailable: {details}", code)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return CacheUnavailable(f"WarpCache at {target} did not answer in time", code)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidCacheRequest(details, code)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return NotACounter(details, code)
    return CacheError(f"WarpCache call failed ({code.name}): {details}", code)


def _ttl(ttl_seconds: float | None) -> dict[str, float]:
    return {} if ttl_seconds is None else {"ttl_seconds": ttl_seconds}


class WarpCacheClient:
    """Typed async access to WarpCache at ``target`` (``host:port``).

    ``timeout`` is the deadline of each attempt in seconds; ``retries`` is how many more
    attempts follow one that found the cache UNAVAILABLE (with exponential backoff from
    50 ms, doubling). Only UNAVAILABLE is retried: a call that timed out may have taken
    effect, so it raises :class:`CacheUnavailable` at once. A TTL of None never expires.
    """

    def __init__(self, target: str, timeout: float = 1.0, retries: int = 3) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must not be negative")
        self.target = target
        self.timeout = timeout
        self.retries = retries
        self._channel: grpc.aio.Channel | None = None
        self._stub: WarpCacheAsyncStub | None = None

    def _connected_stub(self) -> WarpCacheAsyncStub:
        # Created on first use, inside the event loop that will run the calls.
        if self._stub is None:
            self._channel = grpc.aio.insecure_channel(
                self.target,
                options=[
                    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                    # Reconnect soon after a restart, so that retries can reach it.
                    ("grpc.initial_reconnect_backoff_ms", 100),
                    ("grpc.max_reconnect_backoff_ms", 1000),
                ],
            )
            self._stub = cast("WarpCacheAsyncStub", cache_pb2_grpc.WarpCacheStub(self._channel))
        return self._stub

    async def _call(self, call: Callable[[float], Awaitable[_Response]]) -> _Response:
        try:
            return await call(self.timeout)
        except grpc.aio.AioRpcError as exc:
            if not _is_unavailable(exc) or self.retries == 0:
                raise _error_of(exc, self.target) from exc
        # Only a call that found the cache unavailable pays for the retry machinery.
        await asyncio.sleep(FIRST_BACKOFF_SECONDS)
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_unavailable),
            stop=stop_after_attempt(self.retries),
            wait=wait_exponential(multiplier=2 * FIRST_BACKOFF_SECONDS, max=1.0),
            reraise=True,
        )

        async def attempt() -> _Response:
            return await call(self.timeout)

        try:
            return await retrying(attempt)
        except grpc.aio.AioRpcError as exc:
            raise _error_of(exc, self.target) from exc

    async def get(self, key: str) -> bytes | None:
        """The value of ``key``, or None when it is absent or expired."""
        stub = self._connected_stub()
        request = cache_pb2.GetRequest(key=key)
        answer: cache_pb2.GetResponse = await self._call(
            lambda timeout: stub.Get(request, timeout=timeout)
        )
        return answer.value if answer.found else None

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        """Store ``value`` under ``key``, expiring after ``ttl_seconds`` (None: never)."""
        stub = self._connected_stub()
        request = cache_pb2.SetRequest(key=key, value=value, **_ttl(ttl_seconds))
        await self._call(lambda timeout: stub.Set(request, timeout=timeout))

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True when it was there."""
        stub = self._connected_stub()
        request = cache_pb2.DeleteRequest(key=key)
        answer: cache_pb2.DeleteResponse = await self._call(
            lambda timeout: stub.Delete(request, timeout=timeout)
        )
        return answer.deleted

    async def get_and_delete(self, key: str) -> bytes | None:
        """Remove ``key`` and return its value: of concurrent callers, only one gets it."""
        stub = self._connected_stub()
        request = cache_pb2.GetAndDeleteRequest(key=key)
        answer: cache_pb2.GetAndDeleteResponse = await self._call(
            lambda timeout: stub.GetAndDelete(request, timeout=timeout)
        )
        return answer.value if answer.found else None

    async def increment(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> int:
        """Add ``amount`` to the counter at ``key`` and return the new value. A new counter
        starts from 0 and expires after ``ttl_seconds``; an existing one keeps its expiry."""
        stub = self._connected_stub()
        request = cache_pb2.IncrementRequest(key=key, amount=amount, **_ttl(ttl_seconds))
        answer: cache_pb2.IncrementResponse = await self._call(
            lambda timeout: stub.Increment(request, timeout=timeout)
        )
        return answer.value

    async def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The values of those ``keys`` that are present."""
        stub = self._connected_stub()
        request = cache_pb2.GetManyRequest(keys=list(keys))
        answer: cache_pb2.GetManyResponse = await self._call(
            lambda timeout: stub.GetMany(request, timeout=timeout)
        )
        return dict(answer.values)

    async def set_many(
        self, entries: Mapping[str, bytes], ttl_seconds: float | None = None
    ) -> None:
        """Store every entry with the same TTL, or none of them when one is invalid."""
        stub = self._connected_stub()
        request = cache_pb2.SetManyRequest(
            entries=[
                cache_pb2.SetRequest(key=key, value=value, **_ttl(ttl_seconds))
                for key, value in entries.items()
            ]
        )
        await self._call(lambda timeout: stub.SetMany(request, timeout=timeout))

    async def close(self) -> None:
        """Close the channel; a later call opens a new one."""
        if self._channel is not None:
            channel, self._channel, self._stub = self._channel, None, None
            await channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
