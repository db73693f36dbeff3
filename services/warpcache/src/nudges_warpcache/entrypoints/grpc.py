"""The WarpCache gRPC server: the cache service, standard health checking and reflection.

Every call of the cache service must present a caller's token (``authorization: Bearer
<token>``) and may touch only that caller's key prefixes (checked by each handler of
:class:`WarpCacheServicer`); health checks and reflection, which hold no data, are open.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from nudges_kit._generated.warpcache.v1 import cache_pb2, cache_pb2_grpc
from nudges_kit.logging import get_logger
from nudges_kit.warpcache import TOKEN_METADATA_KEY
from nudges_warpcache.domain.access import AccessPolicy
from nudges_warpcache.domain.cache import (
    CounterOutOfRange,
    Entry,
    InvalidRequest,
    NotACounter,
    check_amount,
    check_batch,
    check_key,
    check_ttl,
    check_value,
)
from nudges_warpcache.domain.store import CacheStore, StoreUnavailable
from nudges_warpcache.settings import WarpcacheSettings

#: ``warpcache.v1.WarpCache``, as health checks and reflection name it.
SERVICE_NAME: str = cache_pb2.DESCRIPTOR.services_by_name["WarpCache"].full_name

log = get_logger(__name__)

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")
_Handler = Callable[["WarpCacheServicer", _Request, grpc.aio.ServicerContext], Awaitable[_Response]]

_STATUS_OF_ERROR: dict[type[Exception], grpc.StatusCode] = {
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    NotACounter: grpc.StatusCode.FAILED_PRECONDITION,
    CounterOutOfRange: grpc.StatusCode.OUT_OF_RANGE,
    # Callers retry it and then answer 503: never a miss in place of a value not reached.
    StoreUnavailable: grpc.StatusCode.UNAVAILABLE,
}


def _key(request: Any) -> tuple[str]:
    return (request.key,)


def _nothing(request: Any) -> tuple[str, ...]:
    return ()


def _batch_reads(request: cache_pb2.BatchRequest) -> list[str]:
    return [op.get.key for op in request.operations if op.WhichOneof("kind") == "get"]


def _batch_writes(request: cache_pb2.BatchRequest) -> list[str]:
    writes = []
    for op in request.operations:
        kind = op.WhichOneof("kind")
        # An operation that names no kind touches no key: the batch is refused as invalid.
        if kind is not None and kind != "get":
            writes.append(getattr(op, kind).key)
    return writes


_KeysOf = Callable[[Any], Iterable[str]]

#: Per method of the cache: the keys its request reads, and those it writes (GetAndDelete
#: and Increment write).
_KEYS_OF_METHOD: dict[str, tuple[_KeysOf, _KeysOf]] = {
    "Get": (_key, _nothing),
    "GetMany": (lambda request: request.keys, _nothing),
    "Set": (_nothing, _key),
    "Delete": (_nothing, _key),
    "GetAndDelete": (_nothing, _key),
    "Increment": (_nothing, _key),
    "SetMany": (_nothing, lambda request: [entry.key for entry in request.entries]),
    "Batch": (_batch_reads, _batch_writes),
}


def _token_of(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key == TOKEN_METADATA_KEY and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            return token if scheme.lower() == "bearer" else None
    return None


def _answers_refusals(
    handler: _Handler[_Request, _Response],
) -> Callable[
    [WarpCacheServicer, _Request, grpc.aio.ServicerContext], Coroutine[Any, Any, _Response]
]:
    """Let only a known caller in (UNAUTHENTICATED otherwise), and only to its prefixes
    (PERMISSION_DENIED otherwise): reads need a readable prefix, writes (GetAndDelete and
    Increment included) a writable one, a batch every one of its keys. Then turn the
    cache's refusals into gRPC statuses instead of internal errors.

    Checked in the handler rather than by a server interceptor: the same checks, without
    the interceptor pipeline grpc would run around every call (an extra coroutine and
    handler lookup each). The cost per call is the token comparisons and one prefix check
    per key."""
    method = handler.__name__
    reads_of, writes_of = _KEYS_OF_METHOD[method]

    @functools.wraps(handler)
    async def handle(
        self: WarpCacheServicer, request: _Request, context: grpc.aio.ServicerContext
    ) -> _Response:
        token = _token_of(context.invocation_metadata())
        caller = self._policy.caller_of(token) if token else None
        if caller is None:
            log.warning("warpcache.unauthenticated", method=method)
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "a valid WarpCache caller token is needed"
            )
            raise AssertionError("unreachable: abort raises")
        if not (caller.may_read(reads_of(request)) and caller.may_write(writes_of(request))):
            log.warning("warpcache.permission_denied", caller=caller.name, method=method)
            # No part of the key is echoed: a key may hold a secret (a session id is one).
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, f"{caller.name} may not reach these keys"
            )
        try:
            return await handler(self, request, context)
        except (InvalidRequest, NotACounter, CounterOutOfRange, StoreUnavailable) as exc:
            await context.abort(_STATUS_OF_ERROR[type(exc)], str(exc))
            raise  # abort raises; this line only satisfies the type checker

    return handle


def _ttl(request: cache_pb2.SetRequest | cache_pb2.IncrementRequest) -> float | None:
    return request.ttl_seconds if request.HasField("ttl_seconds") else None


class WarpCacheServicer(cache_pb2_grpc.WarpCacheServicer):
    """``warpcache.v1.WarpCache`` over one storage engine (:class:`CacheStore`), which makes
    each call atomic (see ``domain/store.py``)."""

    def __init__(
        self,
        store: CacheStore,
        policy: AccessPolicy,
        max_value_bytes: int = 1 << 20,
        max_batch_keys: int = 1000,
    ) -> None:
        self._store = store
        self._policy = policy
        self._max_value_bytes = max_value_bytes
        self._max_batch_keys = max_batch_keys

    @_answers_refusals
    async def Get(
        self, request: cache_pb2.GetRequest, context: grpc.aio.ServicerContext
    ) -> cache_pb2.GetResponse:
        value = await self._store.get(request.key)
        if value is None:
            return cache_pb2.GetResponse(found=False)
        return cache_pb2.GetResponse(found=True, value=value)

    @_answers_refusals
    async def Set(
        self, request: cache_pb2.SetRequest, context: grpc.aio.ServicerContext
    ) -> cache_pb2.SetResponse:
        await self._store.set(request.key, request.value, _ttl(request))
        return cache_pb2.SetResponse()

    @_answers_refusals
    async def Delete(
        self, request: cache_pb2.DeleteRequest, context: grpc.aio.ServicerContext
    ) -> cache_pb2.DeleteResponse:
        return cache_pb2.DeleteResponse(deleted=await self._store.delete(request.key))

    @_answers_refusals
    async def GetAndDelete(
        self, request: cache_pb2.GetAndDeleteRequest, context: grpc.aio.ServicerContext
    ) -> cache_pb2.GetAndDeleteResponse:
        value = await self._store.get_and_delete(request.key)
        if value is None:
            return cache_pb2.GetAndDeleteResponse(found=False)
        return cache_pb2.GetAndDeleteResponse(found=True, value=value)

    @_answers_refusals
    async def Increment(
        self, request: cache_pb2.IncrementRequest, context: grpc.aio.ServicerContext
    ) -> cache_pb2.IncrementResponse:
        counted = await self._store.count(request.key, request.amount, _ttl(request))
        if counted.expires_in is None:
            return cache_pb2.IncrementResponse(value=counted.value)
        return cache_pb2.IncrementResponse(
            value=counted.value, expires_in_seconds=counted.expires_in
        )

    @_answers_refusals
    async def GetMany(
        self, request: cache_pb2.GetManyRequest, context: grpc.aio.ServicerContext
    ) -> cache_pb2.GetManyResponse:
        return cache_pb2.GetManyResponse(values=await self._store.get_many(request.keys))

    @_answers_refusals
    async def SetMany(
        self, request: cache_pb2.SetManyRequest, context: grpc.aio.ServicerContext
    ) -> cache_pb2.SetManyResponse:
        await self._store.set_many([Entry(e.key, e.value, _ttl(e)) for e in request.entries])
        return cache_pb2.SetManyResponse()

    @_answers_refusals
    async def Batch(
        self, request: cache_pb2.BatchRequest, context: grpc.aio.ServicerContext
    ) -> cache_pb2.BatchResponse:
        operations = request.operations
        check_batch(len(operations), self._max_batch_keys)
        for operation in operations:
            self._check(operation)
        outcomes = [await self._apply(operation) for operation in operations]
        return cache_pb2.BatchResponse(outcomes=outcomes)

    def _check(self, operation: cache_pb2.Operation) -> None:
        """Refuse an invalid operation before any of its batch is applied."""
        kind = operation.WhichOneof("kind")
        if kind is None:
            raise InvalidRequest("an operation of the batch names no kind")
        request = getattr(operation, kind)
        check_key(request.key)
        if kind == "set":
            check_value(request.value, self._max_value_bytes)
            check_ttl(_ttl(request))
        elif kind == "increment":
            check_amount(request.amount)
            check_ttl(_ttl(request))

    async def _apply(self, operation: cache_pb2.Operation) -> cache_pb2.Outcome:
        kind = operation.WhichOneof("kind")
        if kind == "get":
            value = await self._store.get(operation.get.key)
            found = cache_pb2.GetResponse(found=value is not None, value=value or b"")
            return cache_pb2.Outcome(get=found)
        if kind == "set":
            await self._store.set(operation.set.key, operation.set.value, _ttl(operation.set))
            return cache_pb2.Outcome(set=cache_pb2.SetResponse())
        if kind == "delete":
            deleted = await self._store.delete(operation.delete.key)
            return cache_pb2.Outcome(delete=cache_pb2.DeleteResponse(deleted=deleted))
        if kind == "get_and_delete":
            value = await self._store.get_and_delete(operation.get_and_delete.key)
            taken = cache_pb2.GetAndDeleteResponse(found=value is not None, value=value or b"")
            return cache_pb2.Outcome(get_and_delete=taken)
        increment = operation.increment
        counted = await self._store.count(increment.key, increment.amount, _ttl(increment))
        answer = cache_pb2.IncrementResponse(value=counted.value)
        if counted.expires_in is not None:
            answer.expires_in_seconds = counted.expires_in
        return cache_pb2.Outcome(increment=answer)


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


class GrpcServer:
    """The gRPC server of WarpCache, bound to its port once constructed."""

    def __init__(self, settings: WarpcacheSettings, store: CacheStore) -> None:
        message_bytes = settings.grpc_max_message_bytes
        interceptors: list[grpc.aio.ServerInterceptor] = []
        if settings.otel_exporter_otlp_endpoint:
            # Spans per cache call cost real time, so only when they are exported.
            from opentelemetry.instrumentation.grpc import aio_server_interceptor

            interceptors.append(aio_server_interceptor())  # type: ignore[no-untyped-call]
        self._server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", message_bytes),
                ("grpc.max_send_message_length", message_bytes),
                # A port already taken must fail here, not be shared with another server.
                ("grpc.so_reuseport", 0),
            ],
        )
        servicer = WarpCacheServicer(
            store, settings.access_policy(), settings.max_value_bytes, settings.max_batch_keys
        )
        cache_pb2_grpc.add_WarpCacheServicer_to_server(servicer, self._server)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        reflection.enable_server_reflection(
            [SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME], self._server
        )
        self.host = settings.grpc_host
        self.port: int = self._server.add_insecure_port(_host_port(self.host, settings.grpc_port))
        self._probe: grpc.aio.Channel | None = None

    @property
    def target(self) -> str:
        """Where a client on this machine reaches the server."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        return _host_port(host, self.port)

    async def start(self) -> None:
        """Start serving and report SERVING to health checks."""
        await self._server.start()
        for service in ("", SERVICE_NAME):
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        log.info("warpcache.grpc.serving", port=self.port, host=self.host)

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING, then stop, letting calls in flight finish within ``grace``."""
        await self.health.enter_graceful_shutdown()
        if self._probe is not None:
            await self._probe.close()
        await self._server.stop(grace)
        log.info("warpcache.grpc.stopped")

    async def check_serving(self) -> None:
        """Ask the server's own health service over the network; raise unless SERVING."""
        if self._probe is None:
            self._probe = grpc.aio.insecure_channel(self.target)
        answer = await health_pb2_grpc.HealthStub(self._probe).Check(
            health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=1.0
        )
        if answer.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError(f"gRPC health of {SERVICE_NAME} is {answer.status}")
