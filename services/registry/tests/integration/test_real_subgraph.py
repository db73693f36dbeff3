"""The registry fetches the SDL of the real UserApi (its console script, on its own
database) and composes it; the result is a supergraph the join spec describes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nudges_devstack.infra import Postgres, free_port, wait_for_port
from nudges_devstack.testing import drop_database
from nudges_kit.db import ensure_database


@pytest.fixture(scope="module")
def user_api(postgres: Postgres) -> Iterator[str]:
    """UserApi's ``/graphql`` URL (``nudges-user``, beside this interpreter)."""
    database = f"test_registry_user_{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_database(postgres.url, database))
    port = free_port()
    env = {
        **os.environ,
        "HTTP_PORT": str(port),
        "POSTGRES_URL": postgres.url,
        "DATABASE_NAME": database,
        # No broker: the outbox relay keeps retrying, which serving the SDL does not need.
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "ERROR",
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "nudges-user")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port, 60)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        process.terminate()
        process.wait(15)
        asyncio.run(drop_database(postgres.url, database))


def test_refresh_composes_the_real_user_subgraph(
    user_api: str, registry_app: Callable[..., FastAPI], writer: dict[str, str]
) -> None:
    with TestClient(registry_app(), headers=writer) as client:
        response = client.post("/subgraphs/user/refresh", json={"url": user_api})
        assert response.status_code == 201, response.text
        sdl = client.get("/supergraph").json()["supergraph_sdl"]
        assert f'USER @join__graph(name: "user", url: "{user_api}")' in sdl
        for entity in ("Client", "Subscriber", "Announcement"):
            assert f'type {entity}\n  @join__type(graph: USER, key: "id")' in sdl
        assert "type PageInfo\n  @join__type(graph: USER)" in sdl
        assert "union Viewer\n" in sdl
        # the same SDL again changes nothing
        again = client.post("/subgraphs/user/refresh")
        assert (again.status_code, again.json()["status"]) == (200, "unchanged")
        assert client.post("/subgraphs/nobody/refresh").status_code == 404
