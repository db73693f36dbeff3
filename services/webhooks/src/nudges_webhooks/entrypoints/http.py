"""The Webhooks HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from nudges_kit.http import create_app

from nudges_webhooks.settings import WebhooksSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def build_app(settings: WebhooksSettings | None = None) -> FastAPI:
    """The Webhooks application."""
    return create_app(settings or WebhooksSettings(), title="Nudges Webhooks", lifespan=lifespan)
