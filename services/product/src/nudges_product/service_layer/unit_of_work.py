"""One transaction on productdb: the repository on its connection, and the outbox events and
plan change notices that commit (or roll back) with the change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from pydantic import BaseModel

from nudges_kit.errors import Conflict
from nudges_kit.events import EventType
from nudges_kit.outbox import add_event
from nudges_product.adapters.repository import ProductRepository

D = TypeVar("D", bound=BaseModel)


class UnitOfWork:
    """What a use case writes through, inside its transaction."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.products = ProductRepository(conn)

    async def publish(self, event_type: EventType[D], key: str, data: D) -> None:
        """Write an event to the outbox; the relay publishes it once the transaction commits."""
        await add_event(self._conn, event_type, key, data)


@asynccontextmanager
async def unit_of_work(db: Any) -> AsyncIterator[UnitOfWork]:
    """A transaction on ``db``: a pool (a connection of its own) or a connection already in
    a transaction (a consumer's, which also records the handled event: the change, its
    outbox events and that record commit together). Committed when the block ends, rolled
    back when it raises. A unique constraint hit by a concurrent request becomes a
    :class:`Conflict`."""
    try:
        if isinstance(db, asyncpg.Pool):
            async with db.acquire() as conn, conn.transaction():
                yield UnitOfWork(conn)
        else:
            async with db.transaction():
                yield UnitOfWork(db)
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"this conflicts with an existing record ({exc.constraint_name})") from exc
