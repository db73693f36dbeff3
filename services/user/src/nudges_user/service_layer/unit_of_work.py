"""One transaction on userdb: the connection the repository functions write through, and the
outbox events and change notices that commit (or roll back) with the change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from pydantic import BaseModel

from nudges_kit.events import EventType
from nudges_kit.notify import notify
from nudges_kit.outbox import add_event

D = TypeVar("D", bound=BaseModel)


class UnitOfWork:
    """What a use case writes through, inside its transaction."""

    def __init__(self, conn: Any) -> None:
        #: The transaction's connection, for :mod:`nudges_user.adapters.repository`.
        self.conn = conn

    async def publish(self, event_type: EventType[D], key: str, data: D) -> None:
        """Write an event to the outbox; the relay publishes it once the transaction commits."""
        await add_event(self.conn, event_type, key, data)

    async def notify(self, channel: str, payload: str) -> None:
        """Tell the GraphQL subscriptions listening on ``channel``, once the transaction
        commits (PostgreSQL NOTIFY: nothing is told of a change rolled back)."""
        await notify(self.conn, channel, payload)


@asynccontextmanager
async def unit_of_work(db: Any) -> AsyncIterator[UnitOfWork]:
    """A transaction on ``db``: a pool (a connection of its own) or a connection already in
    a transaction (a consumer's, which also records the handled event: the change, its
    outbox events and that record commit together). Committed when the block ends, rolled
    back when it raises."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            yield UnitOfWork(conn)
    else:
        async with db.transaction():
            yield UnitOfWork(db)
