"""The Gateway HTTP app: ``/graphql`` over POST and GET (and batches), subscriptions over
WebSocket (graphql-transport-ws) at the same path, and supergraph pushes.

GraphQL over HTTP, the path of every operation, is answered by :class:`GatewayApp` on plain
ASGI: no routing, request objects or middleware on the way, the body parsed and the answer
written once with orjson, a server span only when traces are exported. Everything else
(health, readiness, metrics, WebSocket, pushes, the lifespan) is served by the FastAPI app
every service shares."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response, WebSocket
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from starlette.datastructures import QueryParams
from starlette.requests import cookie_parser
from starlette.types import Receive, Scope, Send

from nudges_gateway.adapters.sessions import RevokedToken, SessionStoreUnavailable
from nudges_gateway.adapters.supergraph_source import FileWatcher, RegistryPoller
from nudges_gateway.bootstrap import Components, bootstrap
from nudges_gateway.domain.prepare import RequestError
from nudges_gateway.domain.supergraph import InvalidSupergraph
from nudges_gateway.entrypoints.graphiql import GraphiQLPage, wants_html
from nudges_gateway.entrypoints.websocket import serve_graphql_ws
from nudges_gateway.service_layer.gateway import GraphQLRequest, Incremental, KeysUnavailable
from nudges_gateway.settings import GatewaySettings
from nudges_kit.access_log import log_request
from nudges_kit.auth import InvalidToken
from nudges_kit.body_limit import RequestBodyTooLarge, parse_length, read_body, too_large_response
from nudges_kit.http import add_readiness_check, background, create_app
from nudges_kit.logging import get_logger

log = get_logger(__name__)

Json = dict[str, Any]

#: A request header asking for the query plan in ``extensions.queryPlan`` (``true``), where
#: settings allow it (development).
QUERY_PLAN_HEADER = "nudges-query-plan"
#: The request headers the GraphQL path reads.
READ_HEADERS = frozenset(
    (
        b"content-type",
        b"content-length",
        b"authorization",
        b"cookie",
        b"traceparent",
        b"tracestate",
        b"x-request-id",
        b"accept",
        QUERY_PLAN_HEADER.encode(),
    )
)
JSON_TYPES = ("application/json", "application/graphql-response+json")
#: An answer in parts (``@defer``), to clients that accept ``multipart/mixed``.
MULTIPART_TYPE = b'multipart/mixed;boundary="graphql";deferSpec=20220824'
PART_HEAD = b"\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n"
MULTIPART_END = b"\r\n--graphql--\r\n"


def _error(code: str, message: str) -> Json:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


UNAVAILABLE_BODY = _error("UNAVAILABLE", "the session store is unavailable; try again shortly")
REVOKED_BODY = _error("UNAUTHENTICATED", "this sign-in has ended; sign in again")
INVALID_TOKEN_BODY = _error("UNAUTHENTICATED", "the token is invalid or has expired; sign in again")
KEYS_UNAVAILABLE_BODY = _error(
    "UNAVAILABLE", "the keys that verify tokens are unavailable; try again shortly"
)
INTERNAL_BODY = _error("INTERNAL_SERVER_ERROR", "internal gateway error")


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
    # An empty context (no span, no baggage: spans not exported) gives propagators nothing.
    if otel_context.get_current():
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
    """What the subgraphs receive: the caller's JWT, the trace context and the request's
    ``X-Request-Id`` (raises :class:`RevokedToken` and :class:`SessionStoreUnavailable`).
    A JWT that does not verify is refused (as Apollo Router's JWT authentication does), not
    taken for anonymous (raises :class:`InvalidToken`, and :class:`KeysUnavailable` when
    the keys to tell cannot be fetched); a request without one is anonymous."""
    jwt = await components.sessions.jwt_for(
        bearer_of(headers), cookies.get(settings.session_cookie)
    )
    if jwt:
        await components.gateway.access.verify(jwt)
    forwarded = trace_headers(headers)
    if jwt:
        forwarded["authorization"] = f"Bearer {jwt}"
    request_id = headers.get("x-request-id", "").strip()
    if request_id:
        forwarded["x-request-id"] = request_id
    return forwarded


class GatewayApp:
    """The gateway's ASGI application: GraphQL over HTTP at ``/graphql`` here, every other
    request (and the lifespan) in ``rest``."""

    def __init__(self, components: Components, settings: GatewaySettings, rest: FastAPI) -> None:
        self.components = components
        self.settings = settings
        self.rest = rest
        #: A server span per request only when spans are exported; otherwise the caller's
        #: trace context is forwarded as it came.
        self.tracer = trace.get_tracer(__name__) if settings.otel_exporter_otlp_endpoint else None
        self.graphiql = GraphiQLPage(settings.graphiql_html_path) if settings.graphiql else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != "/graphql"
            or scope["method"] not in ("POST", "GET")
        ):
            await self.rest(scope, receive, send)
            return
        started = time.perf_counter()
        status = await self.serve_graphql(scope, receive, send)
        log_request(scope["method"], "/graphql", status, started, scope["headers"])

    async def serve_graphql(self, scope: Scope, receive: Receive, send: Send) -> int:
        """Answer a GraphQL request over HTTP; returns the status sent."""
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name in READ_HEADERS:
                headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        if (
            self.graphiql is not None
            and scope["method"] == "GET"
            and wants_html(headers.get("accept", ""))
            and b"query=" not in scope["query_string"]
        ):
            await self.graphiql.send(send)
            return 200
        # A declared body over the limit is answered before a byte of it is read.
        length = headers.get("content-length")
        limit = self.settings.max_request_body_bytes
        if length is not None and (parse_length(length) or 0) > limit:
            await self.too_large(send)
            return 413
        try:
            if self.tracer is None:
                status, body = await self.graphql(scope, receive, headers)
            else:
                status, body = await self.traced(scope, receive, headers)
        except RequestBodyTooLarge:
            await self.too_large(send)
            return 413
        except Exception:
            log.exception("GraphQL request failed")
            status, body = 500, INTERNAL_BODY
        if isinstance(body, Incremental):
            await self.send_parts(send, body)
            return status
        payload = orjson.dumps(body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"%d" % len(payload)),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        return status

    @staticmethod
    async def send_parts(send: Send, body: Incremental) -> None:
        """Send each part of an incremental answer as it comes (``multipart/mixed``, the
        format of Apollo Router's ``deferSpec=20220824``)."""
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", MULTIPART_TYPE)],
            }
        )
        async for part in body.parts:
            chunk = PART_HEAD + orjson.dumps(part)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": MULTIPART_END})

    async def too_large(self, send: Send) -> None:
        """Answer 413 and close the connection (the rest of the body is never read)."""
        limit = self.settings.max_request_body_bytes
        message = f"the request body exceeds {limit} bytes"
        body = orjson.dumps(_error("PAYLOAD_TOO_LARGE", message))
        for event in too_large_response(limit, body):
            await send(event)

    async def traced(
        self, scope: Scope, receive: Receive, headers: dict[str, str]
    ) -> tuple[int, Any]:
        """:meth:`graphql` in a server span, child of the caller's trace context."""
        assert self.tracer is not None
        method = scope["method"]
        with self.tracer.start_as_current_span(
            f"{method} /graphql",
            context=propagate.extract(headers),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": "/graphql"},
        ) as span:
            status, body = await self.graphql(scope, receive, headers)
            span.set_attribute("http.response.status_code", status)
            return status, body

    async def graphql(
        self, scope: Scope, receive: Receive, headers: dict[str, str]
    ) -> tuple[int, Any]:
        """The status and body answering a GraphQL request over GET or POST."""
        if scope["method"] == "POST":
            # Only JSON: a form or text/plain POST (what another site can make a browser send
            # with the TokenId cookie, without a CORS preflight) is refused (CSRF).
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type not in JSON_TYPES:
                return 415, _error("BAD_REQUEST", "send GraphQL requests as application/json")
            try:
                body = orjson.loads(await read_body(receive, self.settings.max_request_body_bytes))
            except orjson.JSONDecodeError:
                return 400, _error("BAD_REQUEST", "the body is not JSON")
            return await self.answer(headers, body, ("query", "mutation"))
        params = QueryParams(scope["query_string"])
        body = {"query": params.get("query"), "operationName": params.get("operationName")}
        for name in ("variables", "extensions"):
            if params.get(name):
                try:
                    body[name] = orjson.loads(params[name])
                except orjson.JSONDecodeError:
                    return 400, _error("BAD_REQUEST", f"{name} is not JSON")
        return await self.answer(headers, body, ("query",))

    async def answer(
        self, headers: dict[str, str], body: Any, allowed: tuple[str, ...]
    ) -> tuple[int, Any]:
        """Resolve the caller and run one operation or a batch of them."""
        cookie = headers.get("cookie")
        try:
            forwarded = await forwarded_headers(
                self.components, self.settings, headers, cookie_parser(cookie) if cookie else {}
            )
        except SessionStoreUnavailable as exc:
            log.warning("session store unavailable", error=str(exc))
            return 503, UNAVAILABLE_BODY
        except RevokedToken:
            return 401, REVOKED_BODY
        except InvalidToken as exc:
            log.info("token refused", reason=str(exc))
            return 401, INVALID_TOKEN_BODY
        except KeysUnavailable as exc:
            log.warning("token keys unavailable", error=str(exc))
            return 503, KEYS_UNAVAILABLE_BODY
        expose_plan = (
            self.settings.expose_query_plans
            and headers.get(QUERY_PLAN_HEADER, "").strip().lower() == "true"
        )
        if isinstance(body, list):
            most = self.settings.max_batch
            if not body or len(body) > most:
                return 400, _error("BATCH_LIMIT_EXCEEDED", f"a batch holds 1 to {most} operations")
            results = await asyncio.gather(
                *(self.one(item, forwarded, allowed, expose_plan) for item in body)
            )
            return 200, [result for _, result in results]
        incremental = "multipart/mixed" in headers.get("accept", "").lower()
        return await self.one(body, forwarded, allowed, expose_plan, incremental)

    async def one(
        self,
        body: Any,
        headers: Mapping[str, str],
        allowed: tuple[str, ...],
        expose_plan: bool = False,
        incremental: bool = False,
    ) -> tuple[int, Json | Incremental]:
        try:
            graphql_request = GraphQLRequest.of(body)
        except RequestError as exc:
            return exc.status, {"errors": exc.errors}
        return await self.components.gateway.execute(
            graphql_request, headers, allowed, expose_plan=expose_plan, incremental=incremental
        )


def build_app(settings: GatewaySettings | None = None) -> GatewayApp:
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

    return GatewayApp(components, settings, app)


__all__ = ["GatewayApp", "build_app"]
