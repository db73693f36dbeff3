"""The PaymentApi HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from nudges_kit.http import create_app, database_resources

from nudges_payment.settings import PaymentSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with database_resources(app):
        yield


def build_app(settings: PaymentSettings | None = None) -> FastAPI:
    """The PaymentApi application."""
    return create_app(settings or PaymentSettings(), title="Nudges PaymentApi", lifespan=lifespan)
