"""Every service database migrates up and down with alembic, from the one discovery point."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from alembic import command

from nudges_devstack.infra import Postgres
from nudges_devstack.testing import create_migrated_database, drop_database
from nudges_kit.migrations import MigrationSet, alembic_config, discover
from nudges_kit.settings import with_database


def test_every_database_service_declares_its_migrations() -> None:
    assert {(s.service, s.database) for s in discover()} >= {
        ("user", "userdb"),
        ("product", "productdb"),
        ("payment", "paymentdb"),
        ("consumers", "consumersdb"),
        ("registry", "registrydb"),
    }


#: Services whose database has no outbox: they publish no events.
PUBLISHES_NOTHING = {"registry"}


@pytest.mark.parametrize("migration_set", discover(), ids=lambda s: s.service)
def test_migrates_to_head_with_an_outbox_and_back(
    postgres: Postgres, migration_set: MigrationSet
) -> None:
    name = create_migrated_database(postgres.url, migration_set)
    url = with_database(postgres.url, name)

    async def tables() -> set[str]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return {r["tablename"] for r in rows}
        finally:
            await conn.close()

    try:
        migrated = asyncio.run(tables())
        assert "alembic_version" in migrated
        assert len(migrated) > 1
        assert ("outbox" in migrated) is (migration_set.service not in PUBLISHES_NOTHING)
        command.downgrade(alembic_config(migration_set, url), "base")
        assert asyncio.run(tables()) == {"alembic_version"}
    finally:
        asyncio.run(drop_database(postgres.url, name))
