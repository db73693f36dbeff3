"""The UserApi HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from nudges_kit.http import create_app, database_resources

from nudges_user.settings import UserSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with database_resources(app):
        yield


def build_app(settings: UserSettings | None = None) -> FastAPI:
    """The UserApi application."""
    return create_app(settings or UserSettings(), title="Nudges UserApi", lifespan=lifespan)
