"""The Consumers HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from nudges_kit.http import create_app, database_resources

from nudges_consumers.settings import ConsumersSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with database_resources(app):
        yield


def build_app(settings: ConsumersSettings | None = None) -> FastAPI:
    """The Consumers application."""
    return create_app(settings or ConsumersSettings(), title="Nudges Consumers", lifespan=lifespan)
