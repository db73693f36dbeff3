"""The outbox relay and the change listener wait longer and longer while their database is
unreachable, and a stop (the relay's event, the listener's last subscriber leaving) ends the
wait at once rather than when it runs out: a deploy never waits for a backoff."""

from __future__ import annotations

import asyncio
import itertools
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from prometheus_client import REGISTRY

from nudges_devstack.infra import Postgres, free_port
from nudges_devstack.testing import eventually
from nudges_kit.notify import ChangeListener
from nudges_kit.outbox import OutboxRelay
from nudges_kit.settings import NudgesSettings, with_database

#: Long enough that a stop which waited for the backoff would be seen.
MAX_BACKOFF = 30.0
#: Failed attempts before stopping: the wait then under way is 1.6 s (0.2 s doubled 3 times).
FAILURES = 4
#: How long a stop may take.
STOPS_WITHIN = 0.5


def _unreachable(postgres: Postgres) -> str:
    """A database URL nobody answers at."""
    parts = urlsplit(with_database(postgres.url, "nowhere"))
    netloc = parts.netloc.rsplit("@", 1)
    host = netloc[-1].rsplit(":", 1)[0]
    netloc[-1] = f"{host}:{free_port()}"
    return urlunsplit(parts._replace(netloc="@".join(netloc)))


def _failures() -> float:
    return REGISTRY.get_sample_value("nudges_outbox_publish_failures_total") or 0.0


async def test_a_relay_in_backoff_stops_at_once(
    settings: NudgesSettings, postgres: Postgres
) -> None:
    pool = await asyncpg.create_pool(_unreachable(postgres), min_size=0, max_size=1)
    relay = OutboxRelay(pool, settings, max_backoff=MAX_BACKOFF)
    stop = asyncio.Event()
    before = _failures()
    task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: _failures() - before >= FAILURES, within=10, interval=0.02)
        await asyncio.sleep(0.1)  # inside the next wait
        assert not task.done()
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, 5)
        took = time.monotonic() - started
    finally:
        task.cancel()
        await pool.close()
    print(f"\nrelay stopped {took * 1000:.0f} ms after the stop, in a wait of 1.6 s")
    assert took < STOPS_WITHIN
    assert _failures() - before == FAILURES, "no attempt after the stop"


async def test_a_listener_in_backoff_closes_when_its_last_subscriber_leaves(
    postgres: Postgres,
) -> None:
    listener = ChangeListener(
        _unreachable(postgres), ["kit_changes"], max_backoff=MAX_BACKOFF, ready_timeout=0.05
    )
    attempts: list[float] = []
    opening = listener._open

    async def counted_open() -> asyncpg.Connection:
        attempts.append(time.monotonic())
        return await opening()

    listener._open = counted_open  # type: ignore[method-assign]
    async with listener.subscribe("kit_changes"):
        await eventually(lambda: len(attempts) >= FAILURES, within=10, interval=0.02)
        await asyncio.sleep(0.1)  # inside the next wait
        started = time.monotonic()
    await eventually(lambda: listener._runner is None, within=5, interval=0.01)
    took = time.monotonic() - started
    gaps = [round(b - a, 1) for a, b in itertools.pairwise(attempts)]
    print(f"\nlistener closed {took * 1000:.0f} ms after its last subscriber left; waits {gaps}")
    assert took < STOPS_WITHIN
    assert len(attempts) == FAILURES, "no attempt after the last subscriber left"
    assert gaps == [0.2, 0.4, 0.8][: len(gaps)]
    assert not listener.listening.is_set()
