"""The outbox relay against real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import asyncpg
from prometheus_client import REGISTRY

from nudges_devstack.infra import TansuBroker
from nudges_devstack.testing import Counted, eventually, fresh_event_type, running_consumer
from nudges_kit.consumer import HandlerContext
from nudges_kit.events import Envelope, EventRegistry
from nudges_kit.outbox import RELAY_LOCK_KEY, OutboxRelay, add_event
from nudges_kit.settings import NudgesSettings

KEYS = [f"aggregate-{n}" for n in range(5)]


async def test_events_written_while_broker_is_down_arrive_in_order_after_restart(
    pool: asyncpg.Pool, settings: NudgesSettings, kafka_broker: TansuBroker
) -> None:
    registry = EventRegistry()
    counted = fresh_event_type(registry)
    stop = asyncio.Event()
    relay = OutboxRelay(pool, settings, batch_size=20, idle_interval=0.05, max_backoff=0.5)
    failures_before = REGISTRY.get_sample_value("nudges_outbox_publish_failures_total") or 0
    kafka_broker.stop()
    relay_task = asyncio.create_task(relay.run(stop))
    try:
        for seq in range(60):
            async with pool.acquire() as conn, conn.transaction():
                await add_event(conn, counted, KEYS[seq % len(KEYS)], Counted(seq=seq))
        await asyncio.sleep(1.0)  # the relay keeps failing meanwhile
        pending = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        assert pending == 60
        kafka_broker.start()
        await eventually(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL")
        )
    finally:
        stop.set()
        await relay_task
    failures_after = REGISTRY.get_sample_value("nudges_outbox_publish_failures_total") or 0
    assert failures_after - failures_before >= 2, "the relay retries while the broker is down"

    seen: dict[str, list[int]] = defaultdict(list)
    ids: set[str] = set()

    async def record(envelope: Envelope, data: Any, _ctx: HandlerContext) -> None:
        if str(envelope.id) not in ids:
            ids.add(str(envelope.id))
            seen[envelope.key].append(data.seq)

    async with running_consumer(settings, pool, registry, {counted: record}):
        await eventually(lambda: len(ids) == 60)
    for key in KEYS:
        assert seen[key] == sorted(seen[key]), f"{key} out of order: {seen[key]}"
        assert len(seen[key]) == 12


async def test_an_event_is_written_in_the_callers_transaction(
    pool: asyncpg.Pool,
) -> None:
    counted = fresh_event_type(EventRegistry())
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await add_event(conn, counted, "k", Counted(seq=1))
        await tx.rollback()
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    async with pool.acquire() as conn, conn.transaction():
        envelope = await add_event(conn, counted, "k", Counted(seq=2))
    row = await pool.fetchrow("SELECT * FROM outbox")
    assert row["event_id"] == envelope.id
    assert row["topic"] == counted.topic
    assert row["payload"]["data"] == {"seq": 2}


async def test_a_restarted_relay_publishes_what_the_previous_one_left(
    pool: asyncpg.Pool, settings: NudgesSettings
) -> None:
    registry = EventRegistry()
    counted = fresh_event_type(registry)
    for seq in range(10):
        async with pool.acquire() as conn, conn.transaction():
            await add_event(conn, counted, "k", Counted(seq=seq))
    first = OutboxRelay(pool, settings, batch_size=4)
    assert await first.publish_batch() == 4
    # The first relay dies here; a new one takes over from the table.
    stop = asyncio.Event()
    second = OutboxRelay(pool, settings, idle_interval=0.05)
    task = asyncio.create_task(second.run(stop))
    await eventually(
        lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL")
    )
    stop.set()
    await task
    assert second.published == 6

    got: list[int] = []

    async def record(_e: Envelope, data: Any, _ctx: HandlerContext) -> None:
        got.append(data.seq)

    async with running_consumer(settings, pool, registry, {counted: record}):
        await eventually(lambda: len(got) == 10)
    assert got == list(range(10))


async def _lock_holder(pool: asyncpg.Pool) -> int | None:
    """The backend pid of the session holding the relay lock, if any."""
    pid: int | None = await pool.fetchval(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND ((classid::bigint << 32) | objid::bigint) = $1",
        RELAY_LOCK_KEY,
    )
    return pid


async def test_a_relay_whose_lock_session_was_terminated_stops_publishing(
    pool: asyncpg.Pool, settings: NudgesSettings, kit_database: str
) -> None:
    counted = fresh_event_type(EventRegistry())
    stop = asyncio.Event()
    relay = OutboxRelay(pool, settings, idle_interval=0.05, max_backoff=0.5)
    task = asyncio.create_task(relay.run(stop))
    other_leader = await asyncpg.connect(kit_database)
    try:
        await eventually(lambda: _lock_holder(pool))
        # Another replica takes the lock as soon as the relay's session is gone.
        for _ in range(20):
            holder = await _lock_holder(pool)
            if holder is not None:
                await other_leader.execute("SELECT pg_terminate_backend($1)", holder)
            if await other_leader.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK_KEY):
                break
        else:
            raise AssertionError("the relay took its lock back before the other leader could")
        async with pool.acquire() as conn, conn.transaction():
            await add_event(conn, counted, "k", Counted(seq=1))
        await asyncio.sleep(1.0)
        assert relay.published == 0, "published by a relay that no longer holds the lock"
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 1

        await other_leader.execute("SELECT pg_advisory_unlock($1)", RELAY_LOCK_KEY)
        await eventually(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"),
            within=10,
        )
        assert relay.published == 1
    finally:
        await other_leader.close()
        stop.set()
        await task


async def test_a_committed_event_is_published_at_once_not_at_the_next_poll(
    pool: asyncpg.Pool, settings: NudgesSettings
) -> None:
    registry = EventRegistry()
    counted = fresh_event_type(registry)
    stop = asyncio.Event()
    # A poll this rare would leave the events waiting: the commit's notification wakes it.
    relay = OutboxRelay(pool, settings, idle_interval=60)
    relay_task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL")
        )
        await asyncio.sleep(0.5)  # the relay is idle now, until its next poll a minute away
        published = relay.published
        for seq in range(3):
            async with pool.acquire() as conn, conn.transaction():
                await add_event(conn, counted, KEYS[0], Counted(seq=seq))
        await eventually(lambda: relay.published >= published + 3, within=5)
        # A transaction rolled back notifies nobody and leaves nothing.
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            await add_event(conn, counted, KEYS[1], Counted(seq=99))
            await transaction.rollback()
        pending = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        assert pending == 0
    finally:
        stop.set()
        await relay_task
