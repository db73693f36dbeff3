"""Test support: the three subgraphs and the gateway served by uvicorn on free ports in
background threads, a recorder of the GraphQL requests each subgraph receives, and helpers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.federation import Schema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from subgraphs import inventory, products, reviews

from nudges_devstack.infra import free_port
from nudges_devstack.testing import TokenIssuer
from nudges_gateway.entrypoints.http import build_app
from nudges_gateway.settings import GatewaySettings
from nudges_kit.settings import development_warpcache_token
from nudges_kit.warpcache import WarpCacheClient
from nudges_registry.domain.composition import SubgraphSource, compose

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Recorder:
    """Wraps an ASGI app; keeps the JSON body and headers of every POST it serves."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            self.requests.append({"body": orjson.loads(body), "headers": headers})
        except orjson.JSONDecodeError:
            self.requests.append({"body": None, "headers": headers})
        replay = iter(messages)

        async def replayed() -> Message:
            try:
                return next(replay)
            except StopIteration:
                return await receive()

        await self.app(scope, replayed, send)

    def reset(self) -> None:
        self.requests.clear()

    @property
    def queries(self) -> list[str]:
        return [r["body"]["query"] for r in self.requests if r["body"]]


class ServedApp:
    """An ASGI app served on 127.0.0.1 by uvicorn in a thread; can stop and start again."""

    def __init__(self, app: App, port: int | None = None, lifespan: str = "off") -> None:
        self.app = app
        self.port = port or free_port()
        self.lifespan = lifespan
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServedApp:
        config = uvicorn.Config(
            self.app,  # type: ignore[arg-type]
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan=self.lifespan,  # type: ignore[arg-type]
            ws="websockets-sansio",
            log_config=None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the app on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(15)
        self._server = self._thread = None


def sdl_of(schema: Any) -> str:
    """The federation SDL a Strawberry schema serves at ``_service { sdl }``."""
    return str(schema.execute_sync("{ _service { sdl } }").data["_service"]["sdl"])


#: The issuer of the callers' tokens: every gateway started here trusts its keys.
ISSUER = TokenIssuer()
_JWKS: list[ServedApp] = []


def signed_jwt(subject: str, ttl: int = 300, **claims: Any) -> str:
    """A JWT of ``ISSUER`` (the gateway verifies it, and the subgraphs receive it)."""
    return ISSUER.token(subject, ttl=ttl, **claims)


def jwks_url() -> str:
    """Where ``ISSUER``'s keys are served (for the whole session)."""
    if not _JWKS:

        async def jwks(_: Request) -> JSONResponse:
            return JSONResponse(ISSUER.jwks)

        app = Starlette(routes=[Route("/jwks.json", jwks)])
        _JWKS.append(ServedApp(app).start())  # type: ignore[arg-type]
    return f"{_JWKS[0].url}/jwks.json"


def store_session(target: str, session_id: str, jwt: str) -> None:
    async def put() -> None:
        # Sessions are AuthApi's to write: the test stands in for it.
        async with WarpCacheClient(target, token=development_warpcache_token("auth")) as cache:
            await cache.set(f"session:{session_id}", jwt.encode(), ttl_seconds=60)

    asyncio.run(put())


def mark_revoked(target: str, key: str) -> None:
    """Write a revocation the way AuthApi does (``nudges_kit.sessions``)."""

    async def put() -> None:
        async with WarpCacheClient(target, token=development_warpcache_token("auth")) as cache:
            await cache.set(key, b"1", ttl_seconds=60)

    asyncio.run(put())


SCHEMAS: dict[str, Schema] = {
    "products": products.schema,
    "inventory": inventory.schema,
    "reviews": reviews.schema,
}


@dataclass
class Subgraph:
    name: str
    recorder: Recorder
    served: ServedApp

    @property
    def url(self) -> str:
        return f"{self.served.url}/graphql"

    def sdl(self) -> str:
        return str(SCHEMAS[self.name].execute_sync("{ _service { sdl } }").data["_service"]["sdl"])  # type: ignore[index]


def serve_subgraph(name: str) -> Subgraph:
    app = GraphQL(SCHEMAS[name], subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL])
    recorder = Recorder(app)
    return Subgraph(name, recorder, ServedApp(recorder).start())


def compose_sdl(subgraphs: dict[str, Subgraph]) -> str:
    composition = compose([SubgraphSource(s.name, s.url, s.sdl()) for s in subgraphs.values()])
    assert composition.ok, composition.errors
    assert composition.supergraph_sdl is not None
    return composition.supergraph_sdl


@dataclass
class RunningGateway:
    served: ServedApp
    settings: GatewaySettings

    @property
    def url(self) -> str:
        return f"{self.served.url}/graphql"

    def post(
        self, query: str, variables: dict[str, object] | None = None, **kwargs: object
    ) -> httpx.Response:
        body: dict[str, object] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return httpx.post(self.url, json=body, timeout=30, **kwargs)  # type: ignore[arg-type]

    def query(
        self, query: str, variables: dict[str, object] | None = None, **kwargs: object
    ) -> dict[str, object]:
        response = self.post(query, variables, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def start_gateway(supergraph_file: Path | None, **overrides: object) -> RunningGateway:
    """A gateway serving ``supergraph_file`` (None: polling ``registry_url``)."""
    values: dict[str, object] = {
        "environment": "test",
        "supergraph_path": str(supergraph_file) if supergraph_file else "",
        "supergraph_poll_seconds": 0.2,
        "log_json": False,
        "log_level": "WARNING",
        "jwks_url": jwks_url(),
        "jwt_issuer": ISSUER.issuer,
        "jwt_audience": ISSUER.audience,
        **overrides,
    }
    settings = GatewaySettings(**values)  # type: ignore[arg-type]
    served = ServedApp(build_app(settings), lifespan="on").start()  # type: ignore[arg-type]
    return RunningGateway(served, settings)


#: An Accept header taking incremental answers (@defer, @stream).
MULTIPART = "multipart/mixed;deferSpec=20220824, application/json"


def parts_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON parts of a multipart/mixed body."""
    found = []
    for chunk in response.content.split(b"\r\n--graphql")[1:]:
        if chunk.startswith(b"--"):
            break
        _, _, payload = chunk.partition(b"\r\n\r\n")
        found.append(orjson.loads(payload))
    return found
