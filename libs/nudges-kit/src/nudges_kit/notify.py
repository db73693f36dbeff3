"""Change notifications over PostgreSQL LISTEN/NOTIFY, for GraphQL subscriptions that must
work across replicas: a transaction calls ``notify`` (delivered on commit) and subscribers
``listen``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg


async def notify(conn: asyncpg.Connection[Any], channel: str, payload: str) -> None:
    """Announce ``payload`` on ``channel`` when the caller's transaction commits."""
    await conn.execute("SELECT pg_notify($1, $2)", channel, payload)


async def listen(pool: asyncpg.Pool[Any], channel: str) -> AsyncIterator[str]:
    """Payloads announced on ``channel`` from now on, until the consumer stops iterating."""
    queue: asyncio.Queue[str] = asyncio.Queue()

    def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        queue.put_nowait(payload)

    async with pool.acquire() as conn:
        await conn.add_listener(channel, on_notify)
        try:
            while True:
                yield await queue.get()
        finally:
            await conn.remove_listener(channel, on_notify)
