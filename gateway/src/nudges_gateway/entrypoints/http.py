"""The Gateway HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nudges_gateway.settings import GatewaySettings
from nudges_kit.http import create_app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def build_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The Gateway application."""
    return create_app(settings or GatewaySettings(), title="Nudges Gateway", lifespan=lifespan)
