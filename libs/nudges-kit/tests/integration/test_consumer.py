"""The consumer loop: idempotency, retries, dead letters and replay, on the real broker."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from nudges_devstack.testing import Counted, eventually, fresh_event_type, running_consumer
from nudges_kit import dlq
from nudges_kit.cli import main as nudges_cli
from nudges_kit.consumer import HandlerContext
from nudges_kit.events import Envelope, EventRegistry, dlq_topic
from nudges_kit.kafka import ensure_topics, make_producer
from nudges_kit.settings import NudgesSettings


async def _producer(settings: NudgesSettings, *topics: str) -> AIOKafkaProducer:
    await ensure_topics(settings.kafka_bootstrap_servers, [*topics, *map(dlq_topic, topics)])
    producer = make_producer(settings)
    await producer.start()
    return producer


async def test_a_redelivered_event_is_handled_once(
    pool: asyncpg.Pool, settings: NudgesSettings
) -> None:
    registry = EventRegistry()
    counted = fresh_event_type(registry)
    envelope = counted.envelope("k", Counted(seq=7))
    other = counted.envelope("k", Counted(seq=8))
    producer = await _producer(settings, counted.topic)
    handled: list[int] = []

    async def handle(_e: Envelope, data: Any, ctx: HandlerContext) -> None:
        handled.append(data.seq)
        await ctx.conn.execute("SELECT 1")

    try:
        for _ in range(3):
            await producer.send_and_wait(counted.topic, envelope.to_bytes(), key=b"k")
        await producer.send_and_wait(counted.topic, other.to_bytes(), key=b"k")
        async with running_consumer(settings, pool, registry, {counted: handle}) as consumer:
            await eventually(lambda: handled == [7, 8])
            # Delivered again later (a producer retry, a replay): still nothing new.
            await producer.send_and_wait(counted.topic, envelope.to_bytes(), key=b"k")
            await asyncio.sleep(1.0)
            group = consumer.group
    finally:
        await producer.stop()
    assert handled == [7, 8]
    rows = await pool.fetchval(
        "SELECT count(*) FROM handled_events WHERE consumer_group = $1", group
    )
    assert rows == 2


async def test_a_failed_handler_rolls_back_its_writes_and_is_retried(
    pool: asyncpg.Pool, settings: NudgesSettings
) -> None:
    registry = EventRegistry()
    counted = fresh_event_type(registry)
    await pool.execute("CREATE TABLE IF NOT EXISTS effects (seq int)")
    await pool.execute("TRUNCATE effects")
    calls = 0

    async def flaky(_e: Envelope, data: Any, ctx: HandlerContext) -> None:
        nonlocal calls
        calls += 1
        await ctx.conn.execute("INSERT INTO effects VALUES ($1)", data.seq)
        if calls < 3:
            raise ConnectionError("provider timed out")

    producer = await _producer(settings, counted.topic)
    try:
        await producer.send_and_wait(
            counted.topic, counted.envelope("k", Counted(seq=1)).to_bytes(), key=b"k"
        )
    finally:
        await producer.stop()
    async with running_consumer(settings, pool, registry, {counted: flaky}):
        await eventually(lambda: calls == 3)
        await asyncio.sleep(0.3)
    assert await pool.fetchval("SELECT count(*) FROM effects") == 1


async def test_an_event_that_keeps_failing_is_dead_lettered_then_replayed(
    pool: asyncpg.Pool, settings: NudgesSettings, monkeypatch: Any
) -> None:
    registry = EventRegistry()
    counted = fresh_event_type(registry)
    healthy = asyncio.Event()
    handled: list[int] = []

    async def handle(_e: Envelope, data: Any, _ctx: HandlerContext) -> None:
        if data.seq == 13 and not healthy.is_set():
            raise RuntimeError("Stripe answered 500")
        handled.append(data.seq)

    poison = counted.envelope("k13", Counted(seq=13))
    producer = await _producer(settings, counted.topic)
    try:
        await producer.send_and_wait(counted.topic, poison.to_bytes(), key=b"k13")
        await producer.send_and_wait(
            counted.topic, counted.envelope("k14", Counted(seq=14)).to_bytes(), key=b"k14"
        )
    finally:
        await producer.stop()

    async with running_consumer(
        settings, pool, registry, {counted: handle}, max_attempts=3
    ) as consumer:
        await eventually(lambda: 14 in handled)
        letters: list[dlq.DeadLetter] = []

        async def dead_lettered() -> bool:
            letters[:] = await dlq.read_dead_letters(settings, counted.topic)
            return len(letters) == 1

        await eventually(dead_lettered)
        letter = letters[0]
        assert letter.event_id == str(poison.id)
        assert letter.event_type == counted.name
        assert letter.attempts == 3
        assert letter.error == "Stripe answered 500"
        assert letter.error_type == "RuntimeError"
        assert letter.consumer_group == consumer.group
        assert Envelope.from_bytes(letter.value) == poison

        # The provider recovers; the operator replays with the command.
        healthy.set()
        for var, value in {
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "POSTGRES_URL": settings.postgres_url,
        }.items():
            monkeypatch.setenv(var, value)
        await asyncio.to_thread(
            nudges_cli, ["dlq", "replay", counted.topic, "--event-id", str(poison.id)]
        )
        await eventually(lambda: 13 in handled)
    assert sorted(handled) == [13, 14]


async def test_a_malformed_event_is_dead_lettered_without_stopping_the_consumer(
    pool: asyncpg.Pool, settings: NudgesSettings
) -> None:
    registry = EventRegistry()
    counted = fresh_event_type(registry)
    handled: list[int] = []

    async def handle(_e: Envelope, data: Any, _ctx: HandlerContext) -> None:
        handled.append(data.seq)

    producer = await _producer(settings, counted.topic)
    wrong_schema = Envelope(type=counted.name, key="k", data={"seq": "not a number"})
    try:
        await producer.send_and_wait(counted.topic, b"\xff not json", key=b"k")
        await producer.send_and_wait(counted.topic, wrong_schema.to_bytes(), key=b"k")
        await producer.send_and_wait(
            counted.topic, counted.envelope("k", Counted(seq=1)).to_bytes(), key=b"k"
        )
    finally:
        await producer.stop()
    async with running_consumer(settings, pool, registry, {counted: handle}):
        await eventually(lambda: handled == [1])
        letters: list[dlq.DeadLetter] = []

        async def both_dead_lettered() -> bool:
            letters[:] = await dlq.read_dead_letters(settings, counted.topic)
            return len(letters) == 2

        await eventually(both_dead_lettered)
    assert letters[0].value == b"\xff not json"
    assert letters[0].attempts == 0
    assert letters[1].event_id is None
    assert "seq" in letters[1].error
