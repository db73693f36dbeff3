"""The GraphMonitor HTTP app: subgraph registration and the published supergraph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from nudges_kit.auth import REGISTRY_WRITE_SCOPE, InvalidToken, JwtVerifier, Principal
from nudges_kit.errors import DomainError
from nudges_kit.graphql import bearer_token
from nudges_kit.http import create_app, database_resources
from nudges_kit.logging import get_logger
from nudges_registry.adapters.subgraph_sdl import SdlUnavailable
from nudges_registry.bootstrap import bootstrap
from nudges_registry.domain.model import SupergraphVersion
from nudges_registry.service_layer.registry import (
    BreakingChange,
    CompositionFailed,
    Outcome,
    Registry,
    SubgraphUrlNotAllowed,
    UnknownSubgraph,
)
from nudges_registry.settings import RegistrySettings

log = get_logger(__name__)


class Registration(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    url: str = Field(min_length=1, max_length=2000)
    sdl: str = Field(min_length=1)
    force: bool = False


class Refresh(BaseModel):
    url: str | None = None
    force: bool = False


def _registry(request: Request) -> Registry:
    return request.app.state.registry  # type: ignore[no-any-return]


async def require_writer(request: Request) -> Principal:
    """The caller of a write: a valid machine token (role ``service``) granting
    ``registry:write``; 401 without a valid token, 403 with one that may not write."""
    token = bearer_token(request.headers)
    challenge = {"WWW-Authenticate": 'Bearer realm="registry"'}
    if token is None:
        raise HTTPException(401, "a service token is required", headers=challenge)
    verifier: JwtVerifier = request.app.state.jwt_verifier
    try:
        principal = await verifier.verify(token)
    except InvalidToken as exc:
        log.warning("registry write with an invalid token", error=str(exc))
        raise HTTPException(401, "the token is not valid", headers=challenge) from None
    if not (principal.has_role("service") and principal.has_scope(REGISTRY_WRITE_SCOPE)):
        log.warning("registry write refused", subject=principal.subject)
        raise HTTPException(403, f"the token does not grant {REGISTRY_WRITE_SCOPE}")
    return principal


def _outcome(outcome: Outcome) -> JSONResponse:
    body: dict[str, Any] = {
        "status": outcome.status,
        "version": outcome.version.summary() if outcome.version else None,
    }
    if outcome.breaking_changes:
        body["breaking_changes"] = outcome.breaking_changes
    return JSONResponse(body, status_code=201 if outcome.status == "published" else 200)


def _refused(exc: DomainError) -> JSONResponse:
    if isinstance(exc, CompositionFailed):
        return JSONResponse(
            {
                "status": "refused",
                "reason": "composition failed",
                "errors": [e.as_dict() for e in exc.errors],
            },
            status_code=400,
        )
    if isinstance(exc, BreakingChange):
        return JSONResponse(
            {
                "status": "refused",
                "reason": "breaks the published supergraph (force to publish)",
                "breaking_changes": exc.changes,
            },
            status_code=409,
        )
    if isinstance(exc, UnknownSubgraph):
        return JSONResponse({"status": "refused", "reason": str(exc)}, status_code=404)
    if isinstance(exc, SubgraphUrlNotAllowed):
        return JSONResponse({"status": "refused", "reason": str(exc)}, status_code=422)
    return JSONResponse({"status": "refused", "reason": str(exc)}, status_code=502)


def _not_modified(request: Request, version: SupergraphVersion) -> bool:
    tags = request.headers.get("if-none-match", "")
    return version.etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"


def build_app(
    settings: RegistrySettings | None = None, verifier: JwtVerifier | None = None
) -> FastAPI:
    """The GraphMonitor application; ``verifier`` replaces the JWKS of AuthApi (tests)."""
    settings = settings or RegistrySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The registry publishes no events: no outbox relay.
        async with database_resources(app, outbox=False):
            app.state.registry = bootstrap(app.state.pool, settings)
            yield

    app = create_app(settings, title="Nudges GraphMonitor", lifespan=lifespan)
    app.state.jwt_verifier = verifier or JwtVerifier(
        settings.jwks_url, settings.jwt_issuer, settings.jwt_audience
    )
    writer = [Depends(require_writer)]

    @app.post("/subgraphs", dependencies=writer)
    async def register(registration: Registration, request: Request) -> Response:
        try:
            outcome = await _registry(request).register(
                registration.name, registration.url, registration.sdl, registration.force
            )
        except (CompositionFailed, BreakingChange, SubgraphUrlNotAllowed) as exc:
            return _refused(exc)
        return _outcome(outcome)

    @app.post("/subgraphs/{name}/refresh", dependencies=writer)
    async def refresh(name: str, request: Request, body: Refresh | None = None) -> Response:
        body = body or Refresh()
        try:
            outcome = await _registry(request).refresh(name, body.url, body.force)
        except (
            CompositionFailed,
            BreakingChange,
            UnknownSubgraph,
            SubgraphUrlNotAllowed,
            SdlUnavailable,
        ) as exc:
            return _refused(exc)
        return _outcome(outcome)

    @app.delete("/subgraphs/{name}", dependencies=writer)
    async def remove(name: str, request: Request, force: bool = False) -> Response:
        try:
            outcome = await _registry(request).remove(name, force)
        except (CompositionFailed, BreakingChange, UnknownSubgraph) as exc:
            return _refused(exc)
        return _outcome(outcome)

    @app.get("/subgraphs")
    async def subgraphs(request: Request) -> list[dict[str, Any]]:
        return [s.summary() for s in (await _registry(request).subgraphs()).values()]

    @app.get("/subgraphs/{name}")
    async def subgraph(name: str, request: Request) -> Response:
        found = (await _registry(request).subgraphs()).get(name)
        if found is None:
            return JSONResponse({"detail": f'no subgraph "{name}"'}, status_code=404)
        return JSONResponse({**found.summary(), "sdl": found.sdl})

    @app.get("/supergraph")
    async def supergraph(request: Request) -> Response:
        current = await _registry(request).current()
        if current is None:
            return JSONResponse({"detail": "no supergraph is published yet"}, status_code=404)
        headers = {"ETag": current.etag, "Cache-Control": "no-cache"}
        if _not_modified(request, current):
            return Response(status_code=304, headers=headers)
        return JSONResponse(current.as_dict(), headers=headers)

    @app.get("/supergraph.graphql")
    async def supergraph_sdl(request: Request) -> Response:
        current = await _registry(request).current()
        if current is None:
            return PlainTextResponse("no supergraph is published yet\n", status_code=404)
        headers = {"ETag": current.etag, "Cache-Control": "no-cache"}
        if _not_modified(request, current):
            return Response(status_code=304, headers=headers)
        return PlainTextResponse(current.supergraph_sdl, headers=headers)

    @app.get("/supergraph/versions")
    async def versions(request: Request) -> list[dict[str, Any]]:
        return [v.summary() for v in await _registry(request).versions()]

    @app.get("/supergraph/versions/{version_id}")
    async def version(version_id: str, request: Request) -> Response:
        found = await _registry(request).version(version_id)
        if found is None:
            return JSONResponse({"detail": f'no version "{version_id}"'}, status_code=404)
        return JSONResponse(found.as_dict(), headers={"ETag": found.etag})

    return app
