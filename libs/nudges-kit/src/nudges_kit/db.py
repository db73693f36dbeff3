"""PostgreSQL: asyncpg pools and creation of service databases."""

from __future__ import annotations

import asyncpg
import orjson

from nudges_kit.logging import get_logger
from nudges_kit.settings import with_database

log = get_logger(__name__)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name,
            encoder=lambda v: orjson.dumps(v).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections encode and decode JSON columns with orjson."""
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection
    )
    assert pool is not None
    return pool


async def ensure_database(server_url: str, name: str) -> bool:
    """Create database ``name`` on the server of ``server_url`` when missing; True if created."""
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            return False
        log.info("database created", database=name)
        return True
    finally:
        await conn.close()


async def ping(pool: asyncpg.Pool) -> None:
    """Raise when the database does not answer."""
    async with pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
