"""A database with the outbox and handled-events tables, and settings pointing at the
session's real PostgreSQL and broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_kit.db import create_pool, ensure_database
from nudges_kit.migration_support.tables import HANDLED_EVENTS_DDL, OUTBOX_DDL
from nudges_kit.settings import NudgesSettings, with_database


@pytest.fixture(scope="session")
async def kit_database(postgres: Postgres) -> AsyncIterator[str]:
    """A fresh database for this session, with the tables the kit owns."""
    name = f"nudges_kit_test_{uuid.uuid4().hex[:8]}"
    await ensure_database(postgres.url, name)
    url = with_database(postgres.url, name)
    conn = await asyncpg.connect(url)
    await conn.execute(OUTBOX_DDL + HANDLED_EVENTS_DDL)
    await conn.close()
    yield url
    admin = await asyncpg.connect(with_database(postgres.url, "postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def pool(kit_database: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the session database, with the kit's tables emptied."""
    pool = await create_pool(kit_database, max_size=5)
    await pool.execute("TRUNCATE outbox, handled_events")
    yield pool
    await pool.close()


@pytest.fixture
def settings(kafka_broker: TansuBroker, postgres: Postgres) -> NudgesSettings:
    """Settings of a test service on the session's servers."""
    return NudgesSettings(
        service_name="kit-test",
        environment="test",
        postgres_url=postgres.url,
        kafka_bootstrap_servers=kafka_broker.bootstrap_servers,
    )
