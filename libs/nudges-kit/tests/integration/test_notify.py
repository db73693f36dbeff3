"""The shared LISTEN connection against real PostgreSQL: one session per process whatever
the number of subscribers, fanned out to each, and back after the server drops it."""

from __future__ import annotations

import asyncio

import asyncpg

from nudges_devstack.testing import eventually
from nudges_kit.notify import APPLICATION_NAME, ChangeListener, notify


async def _listening_sessions(pool: asyncpg.Pool) -> list[int]:
    rows = await pool.fetch(
        "SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = $1",
        APPLICATION_NAME,
    )
    return [row["pid"] for row in rows]


async def _no_listening_session(pool: asyncpg.Pool) -> bool:
    return not await _listening_sessions(pool)


async def _announce(pool: asyncpg.Pool, channel: str, payload: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await notify(conn, channel, payload)


async def test_one_session_serves_every_subscriber_and_closes_with_the_last(
    pool: asyncpg.Pool, kit_database: str
) -> None:
    listener = ChangeListener(kit_database, ["kit_changes", "kit_other"])
    async with (
        listener.subscribe("kit_changes") as first,
        listener.subscribe("kit_changes") as second,
        listener.subscribe("kit_other") as other,
    ):
        assert listener.listening.is_set()
        assert len(await _listening_sessions(pool)) == 1
        await _announce(pool, "kit_changes", "a")
        await _announce(pool, "kit_other", "b")
        assert await asyncio.wait_for(first.get(), 5) == "a"
        assert await asyncio.wait_for(second.get(), 5) == "a"
        assert await asyncio.wait_for(other.get(), 5) == "b"
        assert first.empty()
        assert second.empty()
    await eventually(lambda: not listener.listening.is_set(), within=5)
    await eventually(lambda: _no_listening_session(pool), within=5)


async def test_a_subscriber_hears_changes_after_the_session_is_terminated(
    pool: asyncpg.Pool, kit_database: str
) -> None:
    listener = ChangeListener(kit_database, ["kit_changes"])
    async with listener.subscribe("kit_changes") as changes:
        await _announce(pool, "kit_changes", "before")
        assert await asyncio.wait_for(changes.get(), 5) == "before"
        [pid] = await _listening_sessions(pool)
        assert await pool.fetchval("SELECT pg_terminate_backend($1)", pid)
        await eventually(lambda: listener.connections_opened == 2, within=10)
        await eventually(listener.listening.is_set, within=10)
        await _announce(pool, "kit_changes", "after")
        assert await asyncio.wait_for(changes.get(), 5) == "after"


async def test_a_slow_subscriber_keeps_the_newest_changes(
    pool: asyncpg.Pool, kit_database: str
) -> None:
    listener = ChangeListener(kit_database, ["kit_changes"], queue_size=2)
    async with listener.subscribe("kit_changes") as changes:
        for n in range(5):
            await _announce(pool, "kit_changes", str(n))
        await eventually(lambda: changes.full(), within=5)
        await asyncio.sleep(0.2)
        assert [changes.get_nowait(), changes.get_nowait()] == ["3", "4"]


async def test_run_keeps_the_session_open_until_stopped(
    pool: asyncpg.Pool, kit_database: str
) -> None:
    listener = ChangeListener(kit_database, ["kit_changes"])
    stop = asyncio.Event()
    task = asyncio.create_task(listener.run(stop))
    await eventually(listener.listening.is_set, within=5)
    async with listener.subscribe("kit_changes"):
        pass
    await asyncio.sleep(0.2)
    assert listener.listening.is_set(), "closed while run() holds it open"
    stop.set()
    await task
    assert not listener.listening.is_set()
    assert await _listening_sessions(pool) == []
