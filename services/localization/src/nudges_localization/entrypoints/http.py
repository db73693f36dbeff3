"""The LocalizationApi HTTP app: health, readiness and metrics; its lifespan runs the gRPC
server on the same event loop, so that one process serves both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nudges_kit.http import add_readiness_check, create_app
from nudges_localization.bootstrap import build_rendering_service
from nudges_localization.entrypoints.grpc import serving_grpc
from nudges_localization.service_layer.rendering import RenderingService
from nudges_localization.settings import LocalizationSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: LocalizationSettings = app.state.settings
    service = build_rendering_service(settings)
    async with serving_grpc(settings, service) as grpc_server:
        app.state.rendering = service
        app.state.grpc = grpc_server

        async def catalogs_loaded() -> None:
            _check_catalogs(service)

        add_readiness_check(app, "catalogs", catalogs_loaded)
        add_readiness_check(app, "grpc", grpc_server.check_serving)
        yield


def _check_catalogs(service: RenderingService) -> None:
    default = service.renderer.catalogs.get(service.renderer.default_locale)
    if default is None or not default.entries:
        raise RuntimeError("the default catalog is empty")


def build_app(settings: LocalizationSettings | None = None) -> FastAPI:
    """The LocalizationApi application (HTTP, and gRPC while it runs)."""
    return create_app(
        settings or LocalizationSettings(), title="Nudges LocalizationApi", lifespan=lifespan
    )
