"""UserApi on a migrated database of its own, with tokens from a test issuer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_devstack.testing import (
    SubgraphClient,
    TokenIssuer,
    create_migrated_database,
    drop_database,
)
from nudges_kit.events import EventType
from nudges_kit.kafka import all_topics, ensure_topics, make_producer, start_client
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


Publish = Callable[[EventType[Any], str, Any], uuid.UUID]


@pytest.fixture(scope="session")
def publish(kafka_broker: TansuBroker) -> Publish:
    """``publish(event_type, key, data)``: an event on the session's broker, as its producer
    (the sender, the Webhooks service) publishes it; UserApi's consumers take it from there.
    Returns the event's id."""
    settings = UserSettings(
        environment="test", kafka_bootstrap_servers=kafka_broker.bootstrap_servers
    )
    asyncio.run(ensure_topics(settings.kafka_bootstrap_servers, all_topics()))

    async def send(event_type: EventType[Any], key: str, data: Any) -> uuid.UUID:
        producer = make_producer(settings)
        await start_client(producer, settings)
        try:
            envelope = event_type.envelope(key, data)
            await producer.send_and_wait(
                event_type.topic, envelope.to_bytes(), key=envelope.key.encode()
            )
        finally:
            await producer.stop()
        return envelope.id

    return lambda event_type, key, data: asyncio.run(send(event_type, key, data))
