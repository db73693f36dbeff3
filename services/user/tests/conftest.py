"""UserApi on a migrated database of its own, with tokens from a test issuer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_devstack.testing import (
    SubgraphClient,
    TokenIssuer,
    create_migrated_database,
    drop_database,
)
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import with_database
from nudges_user.entrypoints.http import build_app
from nudges_user.migrations import migration_set
from nudges_user.settings import UserSettings


@pytest.fixture(scope="session")
def api(postgres: Postgres, kafka_broker: TansuBroker) -> Iterator[SubgraphClient]:
    database = create_migrated_database(postgres.url, migration_set())
    settings = UserSettings(
        environment="test",
        postgres_url=postgres.url,
        database_name=database,
        kafka_bootstrap_servers=kafka_broker.bootstrap_servers,
    )
    issuer = TokenIssuer()
    vault = PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )
    try:
        with TestClient(build_app(settings, issuer.verifier())) as client:
            yield SubgraphClient(client, issuer, vault, with_database(postgres.url, database))
    finally:
        asyncio.run(drop_database(postgres.url, database))
