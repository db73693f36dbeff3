"""The gateway follows GraphMonitor: a new supergraph is served without dropping the request
in flight, a bad one is refused; subscriptions are forwarded with entity fields per event."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import strawberry
from fastapi import FastAPI
from gateway_support import Recorder, RunningGateway, ServedApp, Subgraph, sdl_of, start_gateway
from integration.test_auth_and_tracing import signed_jwt, store_session
from strawberry.asgi import GraphQL
from strawberry.federation import Schema
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from nudges_devstack.infra import Postgres, free_port, wait_for_port
from nudges_devstack.testing import TokenIssuer, create_migrated_database, drop_database
from nudges_registry.migrations import migration_set as registry_migrations


@strawberry.type
class ExtrasQuery:
    @strawberry.field
    def hello(self) -> str:
        return "hello from extras"


EXTRAS = Schema(query=ExtrasQuery)


@dataclass
class Registry:
    """GraphMonitor and a machine token it accepts for writes."""

    url: str
    token: str


@pytest.fixture
def registry(postgres: Postgres) -> Iterator[Registry]:
    """GraphMonitor as its console script, on a free port, with a registrydb of its own; it
    verifies writes with the JWKS of a test issuer served beside it."""
    database = create_migrated_database(postgres.url, registry_migrations())
    keys = FastAPI()
    jwks = ServedApp(keys).start()
    issuer = TokenIssuer(issuer=f"{jwks.url}/auth")
    keys.get("/auth/.well-known/jwks.json")(lambda: issuer.jwks)
    port = free_port()
    env = {
        **os.environ,
        "HTTP_PORT": str(port),
        "POSTGRES_URL": postgres.url,
        "DATABASE_NAME": database,
        "JWT_ISSUER": issuer.issuer,
        "JWKS_URL": f"{issuer.issuer}/.well-known/jwks.json",
        "LOG_LEVEL": "WARNING",
        "ENVIRONMENT": "test",
    }
    command = str(Path(sys.executable).parent / "nudges-registry")
    process = subprocess.Popen([command], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, 30)
        token = issuer.token("user", "service", scope="registry:write", ttl=600)
        yield Registry(f"http://127.0.0.1:{port}", token)
    finally:
        process.terminate()
        process.wait(10)
        jwks.stop()
        asyncio.run(drop_database(postgres.url, database))


def register(registry: Registry, name: str, url: str, sdl: str) -> None:
    response = httpx.post(
        f"{registry.url}/subgraphs",
        json={"name": name, "url": url, "sdl": sdl},
        headers={"Authorization": f"Bearer {registry.token}"},
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text


def test_hot_reload_keeps_the_request_in_flight(
    registry: Registry, subgraphs: dict[str, Subgraph], tmp_path: Path
) -> None:
    for subgraph in subgraphs.values():
        register(registry, subgraph.name, subgraph.url, subgraph.sdl())
    gateway = start_gateway(None, registry_url=registry.url, supergraph_push_token="push-secret")
    extras = ServedApp(GraphQL(EXTRAS)).start()
    try:
        deadline = time.monotonic() + 10
        while httpx.get(gateway.served.url + "/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the gateway never loaded the supergraph"
            time.sleep(0.1)
        assert "errors" in gateway.query("{ hello }")

        slow: dict[str, Any] = {}
        in_flight = threading.Thread(
            target=lambda: slow.update(gateway.query("{ slow(seconds: 4) }")), daemon=True
        )
        in_flight.start()
        time.sleep(0.3)
        register(registry, "extras", f"{extras.url}/graphql", sdl_of(EXTRAS))
        while "errors" in (answer := gateway.query("{ hello }")):
            assert time.monotonic() < deadline + 10, answer
            time.sleep(0.1)
        assert answer == {"data": {"hello": "hello from extras"}}
        assert in_flight.is_alive(), "the slow request should still be running after the swap"
        in_flight.join(10)
        assert slow == {"data": {"slow": "slept 4.0"}}

        # a bad supergraph is refused and the current one kept
        refused = httpx.post(
            gateway.served.url + "/supergraph",
            content="type Query { broken: Nope }",
            headers={"Authorization": "Bearer push-secret"},
        )
        assert refused.status_code == 400
        assert gateway.query("{ hello reviews { stars } }")["data"]["hello"] == "hello from extras"  # type: ignore[index]
        versions = httpx.get(f"{registry.url}/supergraph/versions").json()
        assert [v["number"] for v in versions] == [4, 3, 2, 1]
    finally:
        gateway.served.stop()
        extras.stop()


async def _subscribe(
    url: str, query: str, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    async with connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], additional_headers=headers
    ) as ws:
        await ws.send(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
        assert orjson.loads(await ws.recv()) == {"type": "connection_ack"}
        await ws.send(
            orjson.dumps({"id": "s1", "type": "subscribe", "payload": {"query": query}}).decode()
        )
        async with asyncio.timeout(10):
            while True:
                message = orjson.loads(await ws.recv())
                messages.append(message)
                if message["type"] in ("complete", "error"):
                    return messages


def test_a_subscription_is_forwarded_with_entity_fields_per_event(gateway: RunningGateway) -> None:
    url = gateway.url.replace("http://", "ws://")
    query = "subscription { reviewAdded(count: 2) { body product { name price stock } } }"
    messages = asyncio.run(_subscribe(url, query))
    assert messages == [
        {
            "id": "s1",
            "type": "next",
            "payload": {
                "data": {
                    "reviewAdded": {
                        "body": "Sturdy",
                        "product": {"name": "Table", "price": 899, "stock": 3},
                    }
                }
            },
        },
        {
            "id": "s1",
            "type": "next",
            "payload": {
                "data": {
                    "reviewAdded": {
                        "body": "Wobbly",
                        "product": {"name": "Table", "price": 899, "stock": 3},
                    }
                }
            },
        },
        {"id": "s1", "type": "complete"},
    ]


def test_a_query_over_the_websocket_and_errors(gateway: RunningGateway) -> None:
    url = gateway.url.replace("http://", "ws://")
    assert asyncio.run(_subscribe(url, "{ reviews { stars } }"))[0]["payload"] == {
        "data": {"reviews": [{"stars": 5}, {"stars": 2}, {"stars": 4}]}
    }
    refused = asyncio.run(_subscribe(url, "subscription { nope }"))
    assert refused[0]["type"] == "error"
    assert refused[0]["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_the_cookie_authenticates_websockets_only_from_allowed_origins(
    gateway: RunningGateway, warpcache_server: str, reset: dict[str, Recorder]
) -> None:
    jwt = signed_jwt("client-ws")
    store_session(warpcache_server, "websocket-session-of-a-client", jwt)
    url = gateway.url.replace("http://", "ws://")
    query = "subscription { reviewAdded(count: 1) { product { price } } }"
    for origin in ("http://127.0.0.1:5173", "https://evil.example"):
        headers = {"Cookie": "TokenId=websocket-session-of-a-client", "Origin": origin}
        assert asyncio.run(_subscribe(url, query, headers))[-1]["type"] == "complete"
    seen = [r["headers"].get("authorization") for r in reset["products"].requests]
    assert seen == [f"Bearer {jwt}", None]
