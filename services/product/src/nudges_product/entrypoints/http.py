"""The ProductApi HTTP app: health, readiness, metrics and the ``/graphql`` subgraph, with
its event consumers running for as long as the app lives (wired in ``bootstrap.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nudges_kit.auth import JwtVerifier
from nudges_kit.graphql import mount_graphql, registered_subgraph
from nudges_kit.http import background, create_app, database_resources
from nudges_product.bootstrap import bootstrap
from nudges_product.entrypoints.graphql.schema import build_schema
from nudges_product.settings import ProductSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with database_resources(app), registered_subgraph(app):
        dependencies = bootstrap(app.state.pool, app.state.settings)
        app.state.dependencies = dependencies
        app.state.plan_changes = dependencies.plan_changes
        stop = asyncio.Event()
        running = (consumer.run(stop) for consumer in dependencies.consumers)
        async with background(stop, dependencies.plan_changes.run(stop), *running):
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
