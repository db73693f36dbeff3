"""The UserApi HTTP app: health, metrics and the GraphQL subgraph at ``/graphql``; its
consumers run alongside, for as long as the app lives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nudges_kit.auth import JwtVerifier
from nudges_kit.graphql import mount_graphql, registered_subgraph
from nudges_kit.http import create_app, database_resources
from nudges_user.bootstrap import bootstrap, consuming, phone_vault
from nudges_user.entrypoints.graphql import schema
from nudges_user.settings import UserSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with database_resources(app), registered_subgraph(app):
        dependencies = bootstrap(app.state.pool, app.state.settings)
        app.state.dependencies = dependencies
        async with consuming(dependencies):
            yield


def build_app(settings: UserSettings | None = None, verifier: JwtVerifier | None = None) -> FastAPI:
    """The UserApi application (``verifier`` replaces the JWKS verifier in tests)."""
    settings = settings or UserSettings()
    app = create_app(settings, title="Nudges UserApi", lifespan=lifespan)
    app.state.phone_vault = phone_vault(settings)
    mount_graphql(app, schema, settings, verifier)
    return app
