"""Schema migrations with alembic, one script folder per service database.

A service declares its migrations with an entry point in the ``nudges.migrations``
group whose value is a callable returning a :class:`MigrationSet`. One command,
``nudges migrate``, creates every missing database and upgrades each to head.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.config import Config

from nudges_kit.db import ensure_database
from nudges_kit.logging import get_logger
from nudges_kit.settings import with_database

log = get_logger(__name__)


@dataclass(frozen=True)
class MigrationSet:
    """A service's database name and the folder of its alembic scripts."""

    service: str
    database: str
    script_location: Path


def discover() -> list[MigrationSet]:
    """Every migration set declared by installed services."""
    sets = [ep.load()() for ep in entry_points(group="nudges.migrations")]
    return sorted(sets, key=lambda s: s.service)


def sqlalchemy_url(url: str) -> str:
    """A libpq URL in the form SQLAlchemy's psycopg driver expects."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def alembic_config(migration_set: MigrationSet, database_url: str) -> Config:
    """The alembic configuration of one service database."""
    config = Config()
    config.set_main_option("script_location", str(migration_set.script_location))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def upgrade(migration_set: MigrationSet, server_url: str, database: str | None = None) -> None:
    """Create the database if missing and upgrade it to the newest revision."""
    name = database or migration_set.database
    asyncio.run(ensure_database(server_url, name))
    command.upgrade(alembic_config(migration_set, with_database(server_url, name)), "head")
    log.info("database migrated", service=migration_set.service, database=name)


def migrate_all(server_url: str, only: list[str] | None = None) -> list[str]:
    """Upgrade every service database (or only the named services); returns the databases."""
    done = []
    for migration_set in discover():
        if only and migration_set.service not in only:
            continue
        upgrade(migration_set, server_url)
        done.append(migration_set.database)
    return done
