"""The GraphMonitor HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nudges_kit.http import create_app
from nudges_registry.settings import RegistrySettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def build_app(settings: RegistrySettings | None = None) -> FastAPI:
    """The GraphMonitor application."""
    return create_app(
        settings or RegistrySettings(), title="Nudges GraphMonitor", lifespan=lifespan
    )
