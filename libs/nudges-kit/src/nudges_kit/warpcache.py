"""The async client of WarpCache (``proto/warpcache/v1/cache.proto``).

One channel per client, reused by every call; each call has a deadline, and a call the
cache could not take (UNAVAILABLE) is retried with backoff before :class:`CacheUnavailable`
is raised. ::

    token = settings.warpcache_caller_token()
    async with WarpCacheClient(settings.warpcache_url, token=token) as cache:
        await cache.set("otp:123", b"secret", ttl_seconds=300)
        attempts = await cache.increment("otp-attempts:123", ttl_seconds=300)

Every call carries the caller's token (``authorization: Bearer <token>`` metadata); the cache
answers UNAUTHENTICATED without a valid one and PERMISSION_DENIED for a key outside the
caller's prefixes, both raised as :class:`CacheAccessDenied`.

Coalescing (on unless ``coalesce=False``): the ``get`` calls made in the same turn of the
event loop travel as one ``GetMany``, and the ``set`` calls as one ``SetMany`` (each entry
with its own TTL), the way a DataLoader batches loads or a Redis pipeline batches commands.
Nothing changes for a caller: each awaits its own answer, a lone call is still a plain
``Get`` or ``Set``, and a batch the cache refuses as invalid is retried call by call, so
that a caller's own invalid key or value fails only that caller. A batch has one deadline
and its UNAVAILABLE retries; a failure of the batch reaches every caller in it. Concurrent
calls have no order among themselves, so batching them changes no outcome a caller could
rely on; calls made one after another are still sent one after another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Self, TypeVar, cast

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from nudges_kit._generated.warpcache.v1 import cache_pb2, cache_pb2_grpc
from nudges_kit.telemetry import exporting

if TYPE_CHECKING:
    from nudges_kit._generated.warpcache.v1.cache_pb2_grpc import WarpCacheAsyncStub

_Response = TypeVar("_Response")

#: Wait before the first retry; each later one waits twice as long (at most a second).
FIRST_BACKOFF_SECONDS = 0.05
#: Largest message the client accepts (a GetMany answer is one message).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: Most calls coalesced into one batch (the server's default limit is 1000 keys).
MAX_COALESCED_CALLS = 256
#: Most value bytes coalesced into one SetMany; a larger value travels on its own.
MAX_COALESCED_BYTES = 1024 * 1024


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


class CacheAccessDenied(CacheError):
    """The cache refused the caller: no valid token (``code`` UNAUTHENTICATED), or a key
    outside the caller's prefixes (``code`` PERMISSION_DENIED)."""


#: The metadata key of the caller's token (``Bearer <token>``).
TOKEN_METADATA_KEY = "authorization"  # noqa: S105  (a header name, not a secret)


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
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return CacheAccessDenied(f"WarpCache refused the call ({code.name}): {details}", code)
    return CacheError(f"WarpCache call failed ({code.name}): {details}", code)


def _ttl(ttl_seconds: float | None) -> dict[str, float]:
    return {} if ttl_seconds is None else {"ttl_seconds": ttl_seconds}


def _copy_of(error: CacheError) -> CacheError:
    # Each caller of a failed batch raises an exception of its own (tracebacks differ).
    copy = type(error)(str(error), error.code)
    copy.__cause__ = error.__cause__
    return copy


class CacheEntry(NamedTuple):
    """One entry of :meth:`WarpCacheClient.set_entries`."""

    key: str
    value: bytes
    #: Seconds until the entry expires; None never expires.
    ttl_seconds: float | None = None


class GetOp(NamedTuple):
    """In :meth:`WarpCacheClient.batch`: the value of ``key`` (bytes, or None)."""

    key: str


class SetOp(NamedTuple):
    """In :meth:`WarpCacheClient.batch`: store ``value`` under ``key`` (answers None)."""

    key: str
    value: bytes
    ttl_seconds: float | None = None


class DeleteOp(NamedTuple):
    """In :meth:`WarpCacheClient.batch`: remove ``key`` (answers whether it was there)."""

    key: str


class GetAndDeleteOp(NamedTuple):
    """In :meth:`WarpCacheClient.batch`: remove ``key`` and answer its value (or None)."""

    key: str


class IncrementOp(NamedTuple):
    """In :meth:`WarpCacheClient.batch`: count ``amount`` at ``key`` (answers
    :class:`Counted`)."""

    key: str
    amount: int = 1
    ttl_seconds: float | None = None


#: One operation of a mixed batch.
Operation = GetOp | SetOp | DeleteOp | GetAndDeleteOp | IncrementOp


def _operation(op: Operation) -> cache_pb2.Operation:
    if isinstance(op, GetOp):
        return cache_pb2.Operation(get=cache_pb2.GetRequest(key=op.key))
    if isinstance(op, SetOp):
        request = cache_pb2.SetRequest(key=op.key, value=op.value, **_ttl(op.ttl_seconds))
        return cache_pb2.Operation(set=request)
    if isinstance(op, DeleteOp):
        return cache_pb2.Operation(delete=cache_pb2.DeleteRequest(key=op.key))
    if isinstance(op, GetAndDeleteOp):
        return cache_pb2.Operation(get_and_delete=cache_pb2.GetAndDeleteRequest(key=op.key))
    counted = cache_pb2.IncrementRequest(key=op.key, amount=op.amount, **_ttl(op.ttl_seconds))
    return cache_pb2.Operation(increment=counted)


def _outcome(outcome: cache_pb2.Outcome) -> object:
    kind = outcome.WhichOneof("kind")
    if kind == "get":
        return outcome.get.value if outcome.get.found else None
    if kind == "get_and_delete":
        taken = outcome.get_and_delete
        return taken.value if taken.found else None
    if kind == "delete":
        return outcome.delete.deleted
    if kind == "increment":
        return _counted(outcome.increment)
    return None


def _counted(answer: cache_pb2.IncrementResponse) -> Counted:
    expires_in = answer.expires_in_seconds if answer.HasField("expires_in_seconds") else None
    return Counted(answer.value, expires_in)


@dataclass(frozen=True)
class Counted:
    """A counter just incremented: its new value, and seconds until it expires (None: never)."""

    value: int
    expires_in: float | None


_Pending = TypeVar("_Pending")
_Result = TypeVar("_Result")


class _Coalescer(Generic[_Pending, _Result]):
    """Calls of one kind made in the same event-loop turn, sent as batches of at most
    ``max_calls`` calls and ``max_bytes`` bytes by ``send`` (which settles every future)."""

    def __init__(
        self,
        send: Callable[[list[tuple[_Pending, asyncio.Future[_Result]]]], Awaitable[None]],
        max_calls: int,
        max_bytes: int,
        size: Callable[[_Pending], int],
    ) -> None:
        self._send = send
        self._max_calls = max_calls
        self._max_bytes = max_bytes
        self._size = size
        self._pending: list[tuple[_Pending, asyncio.Future[_Result]]] = []
        self._batches: set[asyncio.Task[None]] = set()

    def submit(self, item: _Pending) -> asyncio.Future[_Result]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Result] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((item, future))
        return future

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        batch: list[tuple[_Pending, asyncio.Future[_Result]]] = []
        batch_bytes = 0
        for call in pending:
            size = self._size(call[0])
            if batch and (len(batch) >= self._max_calls or batch_bytes + size > self._max_bytes):
                self._start(batch)
                batch, batch_bytes = [], 0
            batch.append(call)
            batch_bytes += size
        if batch:
            self._start(batch)

    def _start(self, batch: list[tuple[_Pending, asyncio.Future[_Result]]]) -> None:
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._batches.add(task)
        task.add_done_callback(self._batches.discard)

    async def _run(self, batch: list[tuple[_Pending, asyncio.Future[_Result]]]) -> None:
        try:
            await self._send(batch)
        except BaseException as exc:
            # Whatever went wrong, no caller is left waiting.
            for _, future in batch:
                if not future.done():
                    if isinstance(exc, asyncio.CancelledError):
                        future.cancel()
                    else:
                        future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise


class WarpCacheClient:
    """Typed async access to WarpCache at ``target`` (``host:port``).

    ``timeout`` is the deadline of each attempt in seconds; ``retries`` is how many more
    attempts follow one that found the cache UNAVAILABLE (with exponential backoff from
    50 ms, doubling). Only UNAVAILABLE is retried: a call that timed out may have taken
    effect, so it raises :class:`CacheUnavailable` at once. A TTL of None never expires.

    With ``coalesce`` (the default), concurrent ``get`` and ``set`` calls of one event-loop
    turn are sent as one ``GetMany`` or ``SetMany`` (see the module's documentation);
    ``coalesce=False`` sends every call as its own RPC.

    ``token`` authenticates every call as one caller service (None sends no token, which
    the cache refuses).
    """

    def __init__(
        self,
        target: str,
        timeout: float = 1.0,
        retries: int = 3,
        *,
        coalesce: bool = True,
        token: str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must not be negative")
        self.target = target
        self.timeout = timeout
        self.retries = retries
        self.coalesce = coalesce
        self._metadata: tuple[tuple[str, str], ...] | None = (
            ((TOKEN_METADATA_KEY, f"Bearer {token}"),) if token else None
        )
        self._channel: grpc.aio.Channel | None = None
        self._stub: WarpCacheAsyncStub | None = None
        self._gets: _Coalescer[str, bytes | None] = _Coalescer(
            self._send_gets, MAX_COALESCED_CALLS, MAX_MESSAGE_BYTES, lambda key: 0
        )
        self._sets: _Coalescer[cache_pb2.SetRequest, None] = _Coalescer(
            self._send_sets,
            MAX_COALESCED_CALLS,
            MAX_COALESCED_BYTES,
            lambda request: len(request.value),
        )

    def _connected_stub(self) -> WarpCacheAsyncStub:
        # Created on first use, inside the event loop that will run the calls.
        if self._stub is None:
            self._channel = grpc.aio.insecure_channel(
                self.target,
                # The caller's trace joins WarpCache's spans; only when spans are exported (a
                # span per cache call costs more than most calls).
                interceptors=aio_client_interceptors() if exporting() else None,  # type: ignore[no-untyped-call]
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
        if self.coalesce:
            return await self._gets.submit(key)
        return await self._get_one(key)

    async def _get_one(self, key: str) -> bytes | None:
        stub = self._connected_stub()
        request = cache_pb2.GetRequest(key=key)
        answer: cache_pb2.GetResponse = await self._call(
            lambda timeout: stub.Get(request, timeout=timeout, metadata=self._metadata)
        )
        return answer.value if answer.found else None

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        """Store ``value`` under ``key``, expiring after ``ttl_seconds`` (None: never)."""
        request = cache_pb2.SetRequest(key=key, value=value, **_ttl(ttl_seconds))
        if self.coalesce:
            await self._sets.submit(request)
        else:
            await self._set_one(request)

    async def _set_one(self, request: cache_pb2.SetRequest) -> None:
        stub = self._connected_stub()
        await self._call(
            lambda timeout: stub.Set(request, timeout=timeout, metadata=self._metadata)
        )

    async def _send_gets(self, batch: list[tuple[str, asyncio.Future[bytes | None]]]) -> None:
        if len(batch) == 1:
            await _settle(batch, lambda key: self._get_one(key))
            return
        stub = self._connected_stub()
        request = cache_pb2.GetManyRequest(keys=list(dict.fromkeys(key for key, _ in batch)))
        try:
            answer: cache_pb2.GetManyResponse = await self._call(
                lambda timeout: stub.GetMany(request, timeout=timeout, metadata=self._metadata)
            )
        except CacheError as exc:
            if not _caller_specific(exc):
                _fail(batch, exc)
                return
            # Some caller's key is invalid, or the answer too large: each key on its own.
            await _settle(batch, lambda key: self._get_one(key))
        else:
            values = answer.values
            for key, future in batch:
                if not future.done():
                    future.set_result(values.get(key))

    async def _send_sets(
        self, batch: list[tuple[cache_pb2.SetRequest, asyncio.Future[None]]]
    ) -> None:
        if len(batch) == 1:
            await _settle(batch, self._set_one)
            return
        stub = self._connected_stub()
        request = cache_pb2.SetManyRequest(entries=[entry for entry, _ in batch])
        try:
            await self._call(
                lambda timeout: stub.SetMany(request, timeout=timeout, metadata=self._metadata)
            )
        except CacheError as exc:
            if not _caller_specific(exc):
                _fail(batch, exc)
                return
            # SetMany stored nothing; each entry alone fails or succeeds on its own merits.
            await _settle(batch, self._set_one)
        else:
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True when it was there."""
        stub = self._connected_stub()
        request = cache_pb2.DeleteRequest(key=key)
        answer: cache_pb2.DeleteResponse = await self._call(
            lambda timeout: stub.Delete(request, timeout=timeout, metadata=self._metadata)
        )
        return answer.deleted

    async def get_and_delete(self, key: str) -> bytes | None:
        """Remove ``key`` and return its value: of concurrent callers, only one gets it."""
        stub = self._connected_stub()
        request = cache_pb2.GetAndDeleteRequest(key=key)
        answer: cache_pb2.GetAndDeleteResponse = await self._call(
            lambda timeout: stub.GetAndDelete(request, timeout=timeout, metadata=self._metadata)
        )
        return answer.value if answer.found else None

    async def increment(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> int:
        """Add ``amount`` to the counter at ``key`` and return the new value. A new counter
        starts from 0 and expires after ``ttl_seconds``; an existing one keeps its expiry."""
        return (await self.count(key, amount, ttl_seconds)).value

    async def count(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> Counted:
        """:meth:`increment`, also saying how long the counter has left (None: forever)."""
        stub = self._connected_stub()
        request = cache_pb2.IncrementRequest(key=key, amount=amount, **_ttl(ttl_seconds))
        answer: cache_pb2.IncrementResponse = await self._call(
            lambda timeout: stub.Increment(request, timeout=timeout, metadata=self._metadata)
        )
        return _counted(answer)

    async def batch(self, operations: Sequence[Operation]) -> list[Any]:
        """Apply ``operations`` of any kinds in one call, in order, and answer each at its
        position: bytes or None for :class:`GetOp` and :class:`GetAndDeleteOp`, None for
        :class:`SetOp`, a bool for :class:`DeleteOp`, :class:`Counted` for
        :class:`IncrementOp`. Nothing is applied when one of them is invalid or out of the
        caller's reach; an operation refused once applied (a non-counter, an overflow, the
        storage unreachable) raises, and the earlier ones stay applied."""
        stub = self._connected_stub()
        request = cache_pb2.BatchRequest(operations=[_operation(op) for op in operations])
        answer: cache_pb2.BatchResponse = await self._call(
            lambda timeout: stub.Batch(request, timeout=timeout, metadata=self._metadata)
        )
        return [_outcome(outcome) for outcome in answer.outcomes]

    async def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The values of those ``keys`` that are present."""
        stub = self._connected_stub()
        request = cache_pb2.GetManyRequest(keys=list(keys))
        answer: cache_pb2.GetManyResponse = await self._call(
            lambda timeout: stub.GetMany(request, timeout=timeout, metadata=self._metadata)
        )
        return dict(answer.values)

    async def set_many(
        self, entries: Mapping[str, bytes], ttl_seconds: float | None = None
    ) -> None:
        """Store every entry with the same TTL, or none of them when one is invalid."""
        await self.set_entries(
            CacheEntry(key, value, ttl_seconds) for key, value in entries.items()
        )

    async def set_entries(self, entries: Iterable[CacheEntry]) -> None:
        """Store every entry with its own TTL in one call, or none of them when one is
        invalid."""
        stub = self._connected_stub()
        request = cache_pb2.SetManyRequest(
            entries=[
                cache_pb2.SetRequest(key=key, value=value, **_ttl(ttl_seconds))
                for key, value, ttl_seconds in entries
            ]
        )
        await self._call(
            lambda timeout: stub.SetMany(request, timeout=timeout, metadata=self._metadata)
        )

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


async def _settle(
    batch: list[tuple[_Pending, asyncio.Future[_Result]]],
    call: Callable[[_Pending], Awaitable[_Result]],
) -> None:
    """Make each call of ``batch`` on its own, concurrently, settling its future."""

    async def one(item: _Pending, future: asyncio.Future[_Result]) -> None:
        try:
            result = await call(item)
        except CacheError as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)

    await asyncio.gather(*(one(item, future) for item, future in batch))


def _caller_specific(error: CacheError) -> bool:
    """A batch refused for what one of its calls asked, rather than for the cache's state."""
    return error.code in (
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.PERMISSION_DENIED,
    )


def _fail(batch: list[tuple[_Pending, asyncio.Future[_Result]]], error: CacheError) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(_copy_of(error))
