"""The ProductApi HTTP app: health, readiness, metrics and the ``/graphql`` subgraph."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nudges_kit.auth import JwtVerifier
from nudges_kit.graphql import mount_graphql, registered_subgraph
from nudges_kit.http import background, create_app, database_resources
from nudges_product.adapters.plan_changes import plan_change_listener
from nudges_product.entrypoints.graphql.schema import build_schema
from nudges_product.settings import ProductSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ProductSettings = app.state.settings
    async with database_resources(app), registered_subgraph(app):
        plan_changes = plan_change_listener(settings.database_url())
        app.state.plan_changes = plan_changes
        stop = asyncio.Event()
        async with background(stop, plan_changes.run(stop)):
            yield


def build_app(
    settings: ProductSettings | None = None, verifier: JwtVerifier | None = None
) -> FastAPI:
    """The ProductApi application; ``verifier`` checks tokens (default: the JWKS of the
    settings)."""
    settings = settings or ProductSettings()
    app = create_app(settings, title="Nudges ProductApi", lifespan=lifespan)
    mount_graphql(app, build_schema(), settings, verifier)
    return app
