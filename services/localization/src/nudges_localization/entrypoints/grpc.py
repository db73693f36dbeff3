"""The LocalizationApi gRPC server: ``localization.v1.LocalizationService``, the standard
health service and server reflection."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeAlias

import grpc
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from nudges_kit._generated.localization.v1 import localization_pb2 as pb
from nudges_kit._generated.localization.v1 import localization_pb2_grpc as pb_grpc
from nudges_kit.localization import (
    ERROR_METADATA,
    KEY_METADATA,
    PARAMETER_METADATA,
    InvalidParameter,
    LocalizationError,
    MissingMessage,
    MissingParameter,
)
from nudges_kit.logging import get_logger
from nudges_localization.metrics import RPC_SECONDS
from nudges_localization.service_layer.rendering import RenderingService, error_reason
from nudges_localization.settings import LocalizationSettings

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["LocalizationService"].full_name

log = get_logger(__name__)

Context: TypeAlias = "aio.ServicerContext[Any, Any]"


class LocalizationServicer(pb_grpc.LocalizationServiceServicer):
    """Maps the gRPC calls to the rendering use cases, and their errors to statuses."""

    def __init__(self, service: RenderingService) -> None:
        self.service = service

    async def Render(self, request: pb.RenderRequest, context: Context) -> pb.RenderResponse:
        """One text in one locale."""
        started = time.perf_counter()
        try:
            rendering = self.service.render(request.key, request.locale, dict(request.params))
        except LocalizationError as exc:
            await _abort(context, request.key, exc)
        finally:
            RPC_SECONDS.labels("Render").observe(time.perf_counter() - started)
        return pb.RenderResponse(text=rendering.text, locale=rendering.locale)

    async def RenderMany(
        self, request: pb.RenderManyRequest, context: Context
    ) -> pb.RenderManyResponse:
        """One text in many locales, each catalog rendering it once."""
        started = time.perf_counter()
        try:
            renderings = self.service.render_many(
                request.key, request.locales, dict(request.params)
            )
        except LocalizationError as exc:
            await _abort(context, request.key, exc)
        finally:
            RPC_SECONDS.labels("RenderMany").observe(time.perf_counter() - started)
        return pb.RenderManyResponse(
            renderings={
                locale: pb.Rendering(text=r.text, locale=r.locale)
                for locale, r in renderings.items()
            }
        )


async def _abort(context: Context, key: str, exc: LocalizationError) -> NoReturn:
    """End the call with the status of ``exc``; the message names the key or parameter."""
    metadata: list[tuple[str, str]] = [(ERROR_METADATA, error_reason(exc)), (KEY_METADATA, key)]
    code = grpc.StatusCode.INTERNAL
    if isinstance(exc, MissingMessage):
        code = grpc.StatusCode.NOT_FOUND
    elif isinstance(exc, MissingParameter | InvalidParameter):
        code = grpc.StatusCode.INVALID_ARGUMENT
        metadata.append((PARAMETER_METADATA, exc.parameter))
    await context.abort(code, str(exc), trailing_metadata=tuple(metadata))
    raise AssertionError("unreachable: abort raises")


@dataclass
class GrpcServer:
    """A started server: the port it listens on, and its health status."""

    server: aio.Server
    health: health.aio.HealthServicer
    port: int
    channel: aio.Channel

    async def check_serving(self) -> None:
        """Ask the server's own health service over the network; raise unless SERVING."""
        stub = health_pb2_grpc.HealthStub(self.channel)
        response = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError(f"gRPC health is {response.status}")


@asynccontextmanager
async def serving_grpc(
    settings: LocalizationSettings, service: RenderingService
) -> AsyncIterator[GrpcServer]:
    """Serve LocalizationApi over gRPC on the current event loop while the block runs."""
    # Spans per render cost more than the render itself: only when they are exported.
    interceptors = (
        [aio_server_interceptor()]  # type: ignore[no-untyped-call]
        if settings.otel_exporter_otlp_endpoint
        else []
    )
    server = aio.server(
        interceptors=interceptors,
        # Without this a second server on the same port would silently share it.
        options=[("grpc.so_reuseport", 0)],
    )
    pb_grpc.add_LocalizationServiceServicer_to_server(LocalizationServicer(service), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    await server.start()
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    channel = aio.insecure_channel(f"{_reachable(settings.grpc_host)}:{port}")
    log.info("gRPC serving", port=port, locales=list(service.renderer.locales))
    try:
        yield GrpcServer(server, health_servicer, port, channel)
    finally:
        await health_servicer.enter_graceful_shutdown()
        await channel.close()
        await server.stop(settings.shutdown_grace_seconds)
        log.info("gRPC stopped")


def _reachable(host: str) -> str:
    """The address this process reaches its own server at (a wildcard means loopback)."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host
