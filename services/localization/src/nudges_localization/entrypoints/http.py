"""The LocalizationApi HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from nudges_kit.http import create_app

from nudges_localization.settings import LocalizationSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def build_app(settings: LocalizationSettings | None = None) -> FastAPI:
    """The LocalizationApi application."""
    return create_app(
        settings or LocalizationSettings(), title="Nudges LocalizationApi", lifespan=lifespan
    )
