"""GraphMonitor under test: on a migrated registrydb of its own (emptied before each test),
with writes that need a machine token with ``registry:write``, signed by a test issuer the
apps are built to trust."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI

from nudges_devstack.infra import Postgres
from nudges_devstack.testing import TokenIssuer, create_migrated_database, drop_database
from nudges_kit.settings import with_database
from nudges_registry.entrypoints.http import build_app
from nudges_registry.migrations import migration_set
from nudges_registry.settings import RegistrySettings

#: The scope a registry write needs (the subgraphs' machine accounts have it).
WRITE = "registry:write"

RegistryApp = Callable[..., FastAPI]


@pytest.fixture(scope="session")
def registry_database_name(postgres: Postgres) -> Iterator[str]:
    """A registrydb migrated with the registry's migrations, for this session."""
    name = create_migrated_database(postgres.url, migration_set())
    yield name
    asyncio.run(drop_database(postgres.url, name))


@pytest.fixture
def registry_database(postgres: Postgres, registry_database_name: str) -> str:
    """The session's registrydb, emptied; returns its URL."""
    url = with_database(postgres.url, registry_database_name)
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE current_supergraph, supergraph_versions, subgraphs")
    return url


@pytest.fixture
def registry_settings(
    postgres: Postgres, registry_database_name: str, registry_database: str
) -> Callable[..., RegistrySettings]:
    """Settings of a registry on this test's database; keyword arguments override."""

    def make(**overrides: Any) -> RegistrySettings:
        values: dict[str, Any] = {
            "environment": "test",
            "postgres_url": postgres.url,
            "database_name": registry_database_name,
            **overrides,
        }
        return RegistrySettings(**values)

    return make


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    """Signs the tokens the registry apps of these tests trust."""
    return TokenIssuer()


@pytest.fixture(scope="session")
def writer(issuer: TokenIssuer) -> dict[str, str]:
    """Headers of a subgraph's machine account allowed to write to the registry."""
    token = issuer.token("user", "service", scope=WRITE)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def registry_app(
    issuer: TokenIssuer, registry_settings: Callable[..., RegistrySettings]
) -> RegistryApp:
    """Builds registry apps on this test's database, trusting ``issuer``; keyword arguments
    are settings. Several apps built here share the database, as registry replicas do."""

    def make(**settings: Any) -> FastAPI:
        app = build_app(registry_settings(**settings))
        # Writes are verified with the app's verifier, as subgraphs verify their callers.
        app.state.jwt_verifier = issuer.verifier()
        return app

    return make
