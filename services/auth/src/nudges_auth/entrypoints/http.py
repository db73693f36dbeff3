"""The AuthApi HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from nudges_kit.http import create_app

from nudges_auth.settings import AuthSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def build_app(settings: AuthSettings | None = None) -> FastAPI:
    """The AuthApi application."""
    return create_app(settings or AuthSettings(), title="Nudges AuthApi", lifespan=lifespan)
