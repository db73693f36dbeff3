"""One transaction on registrydb. A change to the subgraphs (and the composition it
publishes) runs under a transaction-scoped PostgreSQL advisory lock, so that however many
registry processes share the database, one composes at a time and each composes on what the
previous one published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from nudges_registry.adapters.repository import RegistryRepository

#: The advisory lock key of compositions ("registry" read as a 64-bit integer, arbitrary but
#: fixed: every registry process must use the same one).
COMPOSE_LOCK = int.from_bytes(b"registry", "big") & 0x7FFF_FFFF_FFFF_FFFF


class UnitOfWork:
    """What a use case reads and writes through, inside its transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.registry = RegistryRepository(conn)


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool, *, compose: bool = False) -> AsyncIterator[UnitOfWork]:
    """A transaction: committed when the block ends, rolled back when it raises. With
    ``compose``, it first waits for the composition lock and holds it until it ends."""
    async with pool.acquire() as conn, conn.transaction():
        if compose:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", COMPOSE_LOCK)
        yield UnitOfWork(conn)
