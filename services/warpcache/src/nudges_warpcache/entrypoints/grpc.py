"""The WarpCache gRPC server: the cache service, standard health checking and reflection.

Every call of the cache service must present a caller's token (``authorization: Bearer
<token>``) and may touch only that caller's key prefixes (:class:`CallerAccess`); health
checks and reflection, which hold no data, are open.
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
from nudges_warpcache.domain.access import AccessPolicy, Caller
from nudges_warpcache.domain.cache import (
    CounterOutOfRange,
    Entry,
    InvalidRequest,
    NotACounter,
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


def _answers_refusals(
    handler: _Handler[_Request, _Response],
) -> Callable[
    [WarpCacheServicer, _Request, grpc.aio.ServicerContext], Coroutine[Any, Any, _Response]
]:
    """Turn the cache's refusals into gRPC statuses instead of internal errors."""

    @functools.wraps(handler)
    async def handle(
        self: WarpCacheServicer, request: _Request, context: grpc.aio.ServicerContext
    ) -> _Response:
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

    def __init__(self, store: CacheStore) -> None:
        self._store = store

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


_CACHE_METHODS = f"/{SERVICE_NAME}/"


def _key(request: Any) -> tuple[str]:
    return (request.key,)


#: Per method of the cache: whether it writes, and the keys its request touches.
_KEYS_OF_METHOD: dict[str, tuple[bool, Callable[[Any], Iterable[str]]]] = {
    "Get": (False, _key),
    "GetMany": (False, lambda request: request.keys),
    "Set": (True, _key),
    "Delete": (True, _key),
    "GetAndDelete": (True, _key),
    "Increment": (True, _key),
    "SetMany": (True, lambda request: [entry.key for entry in request.entries]),
}


def _token_of(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key == TOKEN_METADATA_KEY and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            return token if scheme.lower() == "bearer" else None
    return None


async def _refuse_unauthenticated(request: object, context: grpc.aio.ServicerContext) -> None:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a valid WarpCache caller token is needed")


class CallerAccess(grpc.aio.ServerInterceptor):  # type: ignore[misc]  # grpc is untyped
    """Authenticates each call of the cache service by its token (UNAUTHENTICATED without a
    valid one) and lets it touch only its caller's prefixes (PERMISSION_DENIED otherwise):
    reads need a readable prefix, writes (GetAndDelete and Increment included) a writable
    one, and a batch every one of its keys. The cost per call is the token comparisons and
    one prefix check per key."""

    def __init__(self, policy: AccessPolicy) -> None:
        self._policy = policy
        self._unauthenticated = grpc.unary_unary_rpc_method_handler(_refuse_unauthenticated)
        # Built once per caller and method: the server's handlers never change.
        self._guarded: dict[tuple[str, str], grpc.RpcMethodHandler | None] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method: str = handler_call_details.method
        if not method.startswith(_CACHE_METHODS):
            return await continuation(handler_call_details)
        token = _token_of(handler_call_details.invocation_metadata)
        caller = self._policy.caller_of(token) if token else None
        if caller is None:
            log.warning("warpcache.unauthenticated", method=method)
            return self._unauthenticated
        try:
            guarded = self._guarded[caller.name, method]
        except KeyError:
            guarded = _guard(caller, method, await continuation(handler_call_details))
            self._guarded[caller.name, method] = guarded
        return guarded  # None: an unknown method, which the server answers UNIMPLEMENTED


def _guard(
    caller: Caller, method: str, handler: grpc.RpcMethodHandler | None
) -> grpc.RpcMethodHandler | None:
    """``handler`` answering PERMISSION_DENIED when ``caller`` may not touch the keys."""
    if handler is None:
        return None
    rule = _KEYS_OF_METHOD.get(method.rsplit("/", 1)[-1])
    if rule is None:
        # A method reaches no key until it is given a rule above.
        return grpc.unary_unary_rpc_method_handler(_refuse_unruled)
    writes, keys_of = rule
    allowed = caller.may_write if writes else caller.may_read
    # No part of the key is echoed: a key may hold a secret (a session id is a credential).
    refusal = f"{caller.name} may not {'write' if writes else 'read'} these keys"
    inner = handler.unary_unary

    async def behavior(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if not allowed(keys_of(request)):
            log.warning("warpcache.permission_denied", caller=caller.name, method=method)
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, refusal)
        return await inner(request, context)

    return grpc.unary_unary_rpc_method_handler(
        behavior,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


async def _refuse_unruled(request: object, context: grpc.aio.ServicerContext) -> None:
    await context.abort(grpc.StatusCode.PERMISSION_DENIED, "this method has no access rule")


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
        # Last, so that it sees the server's own handlers (and spans include refusals).
        interceptors.append(CallerAccess(settings.access_policy()))
        self._server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", message_bytes),
                ("grpc.max_send_message_length", message_bytes),
                # A port already taken must fail here, not be shared with another server.
                ("grpc.so_reuseport", 0),
            ],
        )
        cache_pb2_grpc.add_WarpCacheServicer_to_server(WarpCacheServicer(store), self._server)
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
