"""The ProductApi HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from nudges_kit.http import create_app, database_resources

from nudges_product.settings import ProductSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with database_resources(app):
        yield


def build_app(settings: ProductSettings | None = None) -> FastAPI:
    """The ProductApi application."""
    return create_app(settings or ProductSettings(), title="Nudges ProductApi", lifespan=lifespan)
