"""Helpers for tests that run consumers against the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg
from nudges_kit.consumer import EventConsumer, Handler
from nudges_kit.events import EventRegistry, EventType
from nudges_kit.migrations import MigrationSet, upgrade
from nudges_kit.settings import NudgesSettings, with_database
from pydantic import BaseModel


class Counted(BaseModel):
    seq: int


def fresh_event_type(registry: EventRegistry) -> EventType[Counted]:
    """An event type on a topic of its own, so that tests do not see each other's events."""
    suffix = uuid.uuid4().hex[:8]
    return registry.declare(f"test.counted.{suffix}", f"test.counted-{suffix}", Counted)


@contextlib.asynccontextmanager
async def running_consumer(
    settings: NudgesSettings,
    pool: asyncpg.Pool,
    registry: EventRegistry,
    handlers: Mapping[EventType[Any], Handler],
    **kwargs: Any,
) -> AsyncIterator[EventConsumer]:
    """A consumer running in the background until the block ends."""
    consumer = EventConsumer(
        group=f"test-{uuid.uuid4().hex[:8]}",
        settings=settings,
        pool=pool,
        handlers=handlers,
        registry=registry,
        backoff_initial=0.01,
        backoff_max=0.05,
        **kwargs,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield consumer
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def eventually(check: Any, within: float = 30.0, interval: float = 0.1) -> None:
    """Wait until ``check()`` is true (it may be async), or fail with its last value."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


def create_migrated_database(server_url: str, migration_set: MigrationSet) -> str:
    """A new database migrated with ``migration_set``; returns its name."""
    name = f"test_{migration_set.database}_{uuid.uuid4().hex[:8]}"
    upgrade(migration_set, server_url, database=name)
    return name


async def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name``, closing whatever still uses it."""
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
