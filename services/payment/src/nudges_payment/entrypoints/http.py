"""The PaymentApi HTTP app: health, readiness, metrics and the ``/graphql`` subgraph, with
its consumer of ``stripe.events`` running for as long as the app lives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nudges_kit.auth import JwtVerifier
from nudges_kit.graphql import mount_graphql, registered_subgraph
from nudges_kit.http import background, create_app, database_resources
from nudges_payment.bootstrap import bootstrap, event_consumers
from nudges_payment.entrypoints.graphql import schema
from nudges_payment.settings import PaymentSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with database_resources(app), registered_subgraph(app):
        dependencies = bootstrap(app.state.pool, app.state.settings)
        app.state.dependencies = dependencies
        stop = asyncio.Event()
        try:
            consumers = event_consumers(dependencies)
            async with background(stop, *(consumer.run(stop) for consumer in consumers)):
                yield
        finally:
            await dependencies.close()


def build_app(
    settings: PaymentSettings | None = None, verifier: JwtVerifier | None = None
) -> FastAPI:
    """The PaymentApi application; ``verifier`` replaces the JWKS of AuthApi (tests)."""
    settings = settings or PaymentSettings()
    app = create_app(settings, title="Nudges PaymentApi", lifespan=lifespan)
    mount_graphql(app, schema, settings, verifier)
    return app
