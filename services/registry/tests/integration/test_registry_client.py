"""The kit's ``register_subgraph`` against a running GraphMonitor that verifies tokens with
the real AuthApi's JWKS: a subgraph's machine account gets its token from AuthApi and
registers in the background; a refusal is not retried; an absent registry is."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from nudges_devstack.infra import free_port
from nudges_devstack.pytest_plugin import ConsoleScript
from nudges_kit.registry_client import register_subgraph
from nudges_kit.service_auth import ServiceTokenProvider
from nudges_registry.entrypoints.http import build_app
from nudges_registry.settings import RegistrySettings

SDL = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\n'
    'type Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String }'
)
SUBGRAPH_URL = "http://127.0.0.1:4002/graphql"


@pytest.fixture(scope="module")
def auth_url(warpcache_server: str, localization_server: str, state_dir: Path) -> Iterator[str]:
    """The real AuthApi (``nudges-auth``) with its development machine accounts."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/auth"
    auth = ConsoleScript(
        "nudges-auth",
        {
            "HTTP_PORT": str(port),
            "JWT_ISSUER": issuer,
            "JWT_KEYS_FILE": str(state_dir / f"registry-jwt-keys-{port}.json"),
            "WARPCACHE_URL": warpcache_server,
            "LOCALIZATION_URL": localization_server,
            # No broker: machine tokens do not publish.
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
            "LOG_LEVEL": "WARNING",
        },
        port,
        state_dir / "registry-auth.log",
    )
    auth.start()
    yield issuer
    auth.stop()


@pytest.fixture
def registry_url(
    registry_settings: Callable[..., RegistrySettings], auth_url: str
) -> Iterator[str]:
    port = free_port()
    settings = registry_settings(
        log_json=False,
        jwt_issuer=auth_url,
        jwks_url=f"{auth_url}/.well-known/jwks.json",
    )
    server = uvicorn.Server(
        uvicorn.Config(build_app(settings), port=port, log_level="warning", log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def machine(auth_url: str, name: str, secret: str | None = None) -> ServiceTokenProvider:
    return ServiceTokenProvider(f"{auth_url}/token", name, secret or f"dev-only-{name}-secret")


async def test_registers_in_the_background_with_a_token_from_authapi(
    registry_url: str, auth_url: str
) -> None:
    async with machine(auth_url, "user") as tokens:
        task = await register_subgraph(registry_url, "user", SUBGRAPH_URL, SDL, tokens=tokens)
        assert not task.done()  # start-up goes on while it registers
        assert await asyncio.wait_for(task, 10) is True
        assert tokens.fetches == 1
    async with httpx.AsyncClient() as client:
        published = (await client.get(f"{registry_url}/supergraph")).json()
    assert "USER @join__graph" in published["supergraph_sdl"]


async def test_accounts_that_may_not_write_are_refused_at_once(
    registry_url: str, auth_url: str
) -> None:
    # consumers is a machine account without registry:write: the registry answers 403.
    async with machine(auth_url, "consumers") as tokens:
        task = await register_subgraph(registry_url, "user", SUBGRAPH_URL, SDL, tokens=tokens)
        assert await asyncio.wait_for(task, 10) is False
    # A wrong secret: AuthApi refuses it, and no registration is tried.
    async with machine(auth_url, "user", "wrong") as tokens:
        task = await register_subgraph(registry_url, "user", SUBGRAPH_URL, SDL, tokens=tokens)
        assert await asyncio.wait_for(task, 10) is False
    # Without a token at all.
    task = await register_subgraph(registry_url, "user", SUBGRAPH_URL, SDL)
    assert await asyncio.wait_for(task, 10) is False
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{registry_url}/subgraphs")).json() == []


async def test_a_refusal_is_not_retried(registry_url: str, auth_url: str) -> None:
    broken = SDL.replace('@key(fields: "id")', '@key(fields: "uuid")')
    async with machine(auth_url, "user") as tokens:
        task = await register_subgraph(registry_url, "user", SUBGRAPH_URL, broken, tokens=tokens)
        assert await asyncio.wait_for(task, 5) is False


async def test_an_absent_registry_or_authapi_is_retried_then_given_up() -> None:
    started = time.monotonic()
    task = await register_subgraph(
        f"http://127.0.0.1:{free_port()}",
        "users",
        "http://u/graphql",
        SDL,
        attempts=3,
        first_backoff=0.05,
    )
    assert await asyncio.wait_for(task, 10) is False
    assert time.monotonic() - started >= 0.05
    absent_auth = ServiceTokenProvider(f"http://127.0.0.1:{free_port()}/auth/token", "user", "s")
    async with absent_auth:
        task = await register_subgraph(
            "http://127.0.0.1:9",
            "user",
            SUBGRAPH_URL,
            SDL,
            tokens=absent_auth,
            attempts=3,
            first_backoff=0.05,
        )
        assert await asyncio.wait_for(task, 10) is False
