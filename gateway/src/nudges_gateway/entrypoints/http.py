"""The Gateway HTTP app: ``/graphql`` over POST and GET (and batches), subscriptions over
WebSocket (graphql-transport-ws) at the same path, and supergraph pushes."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response, WebSocket
from opentelemetry import propagate

from nudges_gateway.adapters.sessions import SessionStoreUnavailable
from nudges_gateway.adapters.supergraph_source import FileWatcher, RegistryPoller
from nudges_gateway.bootstrap import Components, bootstrap
from nudges_gateway.domain.prepare import RequestError
from nudges_gateway.domain.supergraph import InvalidSupergraph
from nudges_gateway.entrypoints.websocket import serve_graphql_ws
from nudges_gateway.service_layer.gateway import GraphQLRequest
from nudges_gateway.settings import GatewaySettings
from nudges_kit.http import add_readiness_check, background, create_app
from nudges_kit.logging import get_logger

log = get_logger(__name__)

UNAVAILABLE_BODY = {
    "errors": [
        {
            "message": "the session store is unavailable; try again shortly",
            "extensions": {"code": "UNAVAILABLE"},
        }
    ]
}


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def bearer_of(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def trace_headers(incoming: Mapping[str, str]) -> dict[str, str]:
    """W3C trace context for the subgraphs: the current span's, else the caller's."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if "traceparent" not in carrier and incoming.get("traceparent"):
        carrier["traceparent"] = incoming["traceparent"]
        if incoming.get("tracestate"):
            carrier["tracestate"] = incoming["tracestate"]
    return carrier


async def forwarded_headers(
    components: Components,
    settings: GatewaySettings,
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
) -> dict[str, str]:
    """What the subgraphs receive: the caller's JWT and the trace context (raises
    :class:`SessionStoreUnavailable`)."""
    jwt = await components.sessions.jwt_for(
        bearer_of(headers), cookies.get(settings.session_cookie)
    )
    forwarded = trace_headers(headers)
    if jwt:
        forwarded["authorization"] = f"Bearer {jwt}"
    return forwarded


def build_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The Gateway application."""
    settings = settings or GatewaySettings()
    components = bootstrap(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        add_readiness_check(app, "supergraph", _supergraph_loaded)
        stop = asyncio.Event()
        if settings.supergraph_path:
            watcher = FileWatcher(
                settings.supergraph_path, components.holder, settings.supergraph_poll_seconds
            )
            watcher.load_once()
            task = watcher.run(stop)
        else:
            task = RegistryPoller(
                settings.registry_url, components.holder, settings.supergraph_poll_seconds
            ).run(stop)
        try:
            async with background(stop, task):
                yield
        finally:
            await components.http.close()
            await components.cache.close()

    async def _supergraph_loaded() -> None:
        if components.holder.current is None:
            raise RuntimeError("no supergraph loaded")

    app = create_app(settings, title="Nudges Gateway", lifespan=lifespan)
    app.state.components = components

    async def answer(request: Request, body: Any, allowed: tuple[str, ...]) -> Response:
        try:
            headers = await forwarded_headers(
                components, settings, request.headers, request.cookies
            )
        except SessionStoreUnavailable as exc:
            log.warning("session store unavailable", error=str(exc))
            return _json(UNAVAILABLE_BODY, 503)
        if isinstance(body, list):
            if not body or len(body) > settings.max_batch:
                return _json(
                    {
                        "errors": [
                            {
                                "message": f"a batch holds 1 to {settings.max_batch} operations",
                                "extensions": {"code": "BATCH_LIMIT_EXCEEDED"},
                            }
                        ]
                    },
                    400,
                )
            results = await asyncio.gather(*(one(item, headers, allowed) for item in body))
            return _json([result for _, result in results])
        status, result = await one(body, headers, allowed)
        return _json(result, status)

    async def one(
        body: Any, headers: Mapping[str, str], allowed: tuple[str, ...]
    ) -> tuple[int, dict[str, Any]]:
        try:
            graphql_request = GraphQLRequest.of(body)
        except RequestError as exc:
            return exc.status, {"errors": exc.errors}
        return await components.gateway.execute(graphql_request, headers, allowed)

    @app.post("/graphql")
    async def graphql_post(request: Request) -> Response:
        # Only JSON: a form or text/plain POST (what another site can make a browser send
        # with the TokenId cookie, without a CORS preflight) is refused (CSRF).
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in ("application/json", "application/graphql-response+json"):
            return _json(
                {
                    "errors": [
                        {
                            "message": "send GraphQL requests as application/json",
                            "extensions": {"code": "BAD_REQUEST"},
                        }
                    ]
                },
                415,
            )
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _json(
                {
                    "errors": [
                        {"message": "the body is not JSON", "extensions": {"code": "BAD_REQUEST"}}
                    ]
                },
                400,
            )
        return await answer(request, body, ("query", "mutation"))

    @app.get("/graphql")
    async def graphql_get(request: Request) -> Response:
        params = request.query_params
        body: dict[str, Any] = {
            "query": params.get("query"),
            "operationName": params.get("operationName"),
        }
        for name in ("variables", "extensions"):
            if params.get(name):
                try:
                    body[name] = orjson.loads(params[name])
                except orjson.JSONDecodeError:
                    return _json(
                        {
                            "errors": [
                                {
                                    "message": f"{name} is not JSON",
                                    "extensions": {"code": "BAD_REQUEST"},
                                }
                            ]
                        },
                        400,
                    )
        return await answer(request, body, ("query",))

    @app.websocket("/graphql")
    async def graphql_ws(websocket: WebSocket) -> None:
        await serve_graphql_ws(websocket, components, settings)

    @app.post("/supergraph", include_in_schema=False)
    async def push_supergraph(request: Request) -> Response:
        token = bearer_of(request.headers) or ""
        if not settings.supergraph_push_token or not hmac.compare_digest(
            token, settings.supergraph_push_token
        ):
            return _json({"detail": "pushing a supergraph needs the push token"}, 403)
        sdl = (await request.body()).decode()
        try:
            loaded = components.holder.load(sdl)
        except InvalidSupergraph as exc:
            return _json({"status": "refused", "reason": str(exc)}, 400)
        state = components.holder.current
        return _json(
            {
                "status": "loaded" if loaded else "unchanged",
                "version": state.version if state else None,
            }
        )

    return app


__all__ = ["build_app"]
