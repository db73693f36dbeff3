"""The kit's ``register_subgraph`` against a running GraphMonitor: it registers in the
background, gives up at once on a refusal, and keeps retrying while the registry is away."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from nudges_devstack.infra import free_port
from nudges_kit.registry_client import register_subgraph
from nudges_registry.entrypoints.http import build_app
from nudges_registry.settings import RegistrySettings

SDL = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\n'
    'type Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String }'
)


@pytest.fixture
def registry_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    app = build_app(RegistrySettings(environment="test", registry_dir=tmp_path, log_json=False))
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


async def test_registers_in_the_background(registry_url: str) -> None:
    task = await register_subgraph(registry_url, "users", "http://users.test/graphql", SDL)
    assert not task.done()  # start-up goes on while it registers
    assert await asyncio.wait_for(task, 10) is True
    async with httpx.AsyncClient() as client:
        published = (await client.get(f"{registry_url}/supergraph")).json()
    assert "USERS @join__graph" in published["supergraph_sdl"]


async def test_a_refusal_is_not_retried(registry_url: str) -> None:
    broken = SDL.replace('@key(fields: "id")', '@key(fields: "uuid")')
    task = await register_subgraph(registry_url, "users", "http://users.test/graphql", broken)
    assert await asyncio.wait_for(task, 5) is False


async def test_an_absent_registry_is_retried_then_given_up() -> None:
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
