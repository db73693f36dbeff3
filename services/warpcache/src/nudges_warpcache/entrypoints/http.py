"""The WarpCache HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from nudges_kit.http import create_app

from nudges_warpcache.settings import WarpcacheSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def build_app(settings: WarpcacheSettings | None = None) -> FastAPI:
    """The WarpCache application."""
    return create_app(settings or WarpcacheSettings(), title="Nudges WarpCache", lifespan=lifespan)
