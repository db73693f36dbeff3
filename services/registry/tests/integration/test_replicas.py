"""Two registry instances (apps, and processes) on one registrydb give the same answers,
and compositions are serialised across them by the PostgreSQL advisory lock: a change waits
while another holds it, and concurrent changes on both instances each build on the one
before."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nudges_devstack.infra import Postgres, free_port
from nudges_devstack.pytest_plugin import ConsoleScript
from nudges_devstack.testing import TokenIssuer, eventually
from nudges_kit.db import create_pool
from nudges_registry.bootstrap import bootstrap
from nudges_registry.service_layer.registry import Registry
from nudges_registry.service_layer.unit_of_work import COMPOSE_LOCK
from nudges_registry.settings import RegistrySettings

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", '
    'import: ["@key", "@shareable"])\n'
)
USERS = LINK + 'type Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String }'


def sdl_of(name: str) -> str:
    """A subgraph adding its own query field and its own field to ``User``."""
    return LINK + (
        f"type Query {{ {name}Count: Int }}\n"
        f'type User @key(fields: "id") {{ id: ID! {name}Score: Int }}'
    )


def url_of(name: str) -> str:
    return f"http://127.0.0.1:4100/{name}/graphql"


@pytest.fixture
async def replicas(
    registry_settings: Callable[..., RegistrySettings],
) -> AsyncIterator[tuple[Registry, Registry]]:
    """Two registries, each with a pool of its own, on the same database."""
    settings = registry_settings()
    pools = [await create_pool(settings.database_url(), max_size=4) for _ in range(2)]
    try:
        yield bootstrap(pools[0], settings), bootstrap(pools[1], settings)
    finally:
        for pool in pools:
            await pool.close()


def test_two_apps_on_one_database_give_the_same_answers(
    registry_app: Callable[..., FastAPI], writer: dict[str, str]
) -> None:
    with (
        TestClient(registry_app(), headers=writer) as first,
        TestClient(registry_app(), headers=writer) as second,
    ):
        users = {"name": "users", "url": url_of("users"), "sdl": USERS}
        assert first.post("/subgraphs", json=users).status_code == 201
        posts = {"name": "posts", "url": url_of("posts"), "sdl": sdl_of("posts")}
        assert second.post("/subgraphs", json=posts).status_code == 201
        # The second knows the first's registration: the same one again changes nothing.
        assert second.post("/subgraphs", json=users).json()["status"] == "unchanged"
        for path in ("/supergraph", "/supergraph/versions", "/subgraphs", "/subgraphs/users"):
            assert first.get(path).json() == second.get(path).json(), path
        current = first.get("/supergraph")
        assert current.json()["number"] == 2
        etag = current.headers["etag"]
        assert second.get("/supergraph.graphql", headers={"If-None-Match": etag}).status_code == 304
        version_id = current.json()["id"]
        assert second.get(f"/supergraph/versions/{version_id}").json() == current.json()
        assert first.delete("/subgraphs/posts", params={"force": "true"}).status_code == 201
        assert [s["name"] for s in second.get("/subgraphs").json()] == ["users"]
        assert second.get("/supergraph").json()["number"] == 3


async def test_a_change_waits_while_another_composes(
    replicas: tuple[Registry, Registry], registry_database: str
) -> None:
    first, second = replicas
    holder = await asyncpg.connect(registry_database)
    try:
        # Another registry composing: it holds the lock until its transaction ends.
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1)", COMPOSE_LOCK)
        change = asyncio.create_task(second.register("users", url_of("users"), USERS))

        async def waiting_for_the_lock() -> bool:
            waiting = await holder.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            return bool(waiting == 1)

        await eventually(waiting_for_the_lock, within=10)
        await asyncio.sleep(0.3)
        assert not change.done(), "the change composed while another held the lock"
        assert await first.current() is None
        await transaction.commit()
        outcome = await asyncio.wait_for(change, 10)
        assert (outcome.status, outcome.version.number if outcome.version else None) == (
            "published",
            1,
        )
    finally:
        await holder.close()


async def test_concurrent_changes_on_two_instances_each_build_on_the_last(
    replicas: tuple[Registry, Registry],
) -> None:
    first, second = replicas
    await first.register("users", url_of("users"), USERS)
    names = [f"team{i}" for i in range(8)]
    outcomes = await asyncio.gather(
        *(
            (first if i % 2 else second).register(name, url_of(name), sdl_of(name))
            for i, name in enumerate(names)
        )
    )
    numbers = sorted(o.version.number for o in outcomes if o.version)
    assert [o.status for o in outcomes] == ["published"] * len(names)
    assert numbers == list(range(2, 2 + len(names))), "each change published one version"
    current = await second.current()
    assert current is not None
    assert current.number == 1 + len(names)
    # The last version composes every subgraph: no change was lost to a concurrent one.
    assert sorted(s["name"] for s in current.subgraphs) == sorted([*names, "users"])
    assert current == await first.current()
    assert [v.number for v in await first.versions()] == list(range(1 + len(names), 0, -1))


@pytest.fixture
def jwks_url(issuer: TokenIssuer) -> Iterator[str]:
    """Serves the test issuer's JWKS, as AuthApi serves its own."""
    app = FastAPI()
    port = free_port()

    @app.get("/auth/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        return issuer.jwks

    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/auth/.well-known/jwks.json"
    server.should_exit = True
    thread.join(10)


def test_two_registry_processes_on_one_database_agree(
    postgres: Postgres,
    registry_database_name: str,
    registry_database: str,
    issuer: TokenIssuer,
    jwks_url: str,
    writer: dict[str, str],
    state_dir: Path,
) -> None:
    replicas: list[tuple[ConsoleScript, str]] = []
    try:
        for index in range(2):
            port = free_port()
            process = ConsoleScript(
                "nudges-registry",
                {
                    "HTTP_PORT": str(port),
                    "POSTGRES_URL": postgres.url,
                    "DATABASE_NAME": registry_database_name,
                    "JWT_ISSUER": issuer.issuer,
                    "JWKS_URL": jwks_url,
                    "LOG_LEVEL": "WARNING",
                },
                port,
                state_dir / f"registry-replica-{index}.log",
            )
            process.start()
            replicas.append((process, f"http://127.0.0.1:{port}"))
        first, second = (url for _, url in replicas)
        with httpx.Client(headers=writer, timeout=30) as http:
            users = {"name": "users", "url": url_of("users"), "sdl": USERS}
            teams = [{"name": n, "url": url_of(n), "sdl": sdl_of(n)} for n in ("red", "blue")]
            assert http.post(f"{first}/subgraphs", json=users).status_code == 201
            # Both processes change the graph at once; each builds on the other's version.
            with ThreadPoolExecutor(2) as pool:
                answers = list(
                    pool.map(
                        lambda pair: http.post(f"{pair[0]}/subgraphs", json=pair[1]),
                        zip((first, second), teams, strict=True),
                    )
                )
            assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
            for path in ("/supergraph", "/supergraph/versions", "/subgraphs"):
                assert http.get(f"{first}{path}").json() == http.get(f"{second}{path}").json()
            current = http.get(f"{second}/supergraph").json()
            assert current["number"] == 3
            assert [s["name"] for s in current["subgraphs"]] == ["blue", "red", "users"]
    finally:
        for process, _ in replicas:
            process.stop()
