"""The consumer loop: idempotency, retries, dead letters and replay, on the real broker."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer, TopicPartition

from nudges_devstack.testing import Counted, eventually, fresh_event_type, running_consumer
from nudges_kit import dlq
from nudges_kit.cli import main as nudges_cli
from nudges_kit.consumer import DependencyUnavailable, EventConsumer, HandlerContext
from nudges_kit.events import Envelope, EventRegistry, EventType, dlq_topic
from nudges_kit.kafka import ensure_topics, make_producer
from nudges_kit.settings import NudgesSettings


async def _producer(settings: NudgesSettings, *topics: str) -> AIOKafkaProducer:
    await ensure_topics(settings.kafka_bootstrap_servers, [*topics, *map(dlq_topic, topics)])
    producer = make_producer(settings)
    await producer.start()
    return producer


async def _publish(
    settings: NudgesSettings, counted: EventType[Counted], *seqs: int, key: str = "k"
) -> None:
    """Publish one event of ``counted`` per sequence number, all with ``key``."""
    producer = await _producer(settings, counted.topic)
    try:
        for seq in seqs:
            await producer.send_and_wait(
                counted.topic, counted.envelope(key, Counted(seq=seq)).to_bytes(), key=key.encode()
            )
    finally:
        await producer.stop()


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

    await _publish(settings, counted, 1)
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


async def test_an_unavailable_dependency_is_waited_for_without_spending_attempts(
    pool: asyncpg.Pool, settings: NudgesSettings
) -> None:
    """Ten failures of an unreachable service with three attempts allowed: still handled
    once it answers, nothing dead-lettered."""
    registry = EventRegistry()
    counted = fresh_event_type(registry)
    calls = 0
    handled: list[int] = []

    async def handle(_e: Envelope, data: Any, _ctx: HandlerContext) -> None:
        nonlocal calls
        calls += 1
        if calls <= 10:
            raise DependencyUnavailable("ProductApi refused the connection")
        handled.append(data.seq)

    await _publish(settings, counted, 5)
    async with running_consumer(settings, pool, registry, {counted: handle}, max_attempts=3):
        await eventually(lambda: handled == [5])
    assert calls == 11
    assert await dlq.read_dead_letters(settings, counted.topic) == []


async def test_an_unavailable_dependency_beyond_the_patience_is_dead_lettered(
    pool: asyncpg.Pool, settings: NudgesSettings
) -> None:
    registry = EventRegistry()
    counted = fresh_event_type(registry)

    async def handle(_e: Envelope, _data: Any, _ctx: HandlerContext) -> None:
        raise DependencyUnavailable("ProductApi refused the connection")

    await _publish(settings, counted, 6)
    letters: list[dlq.DeadLetter] = []

    async def dead_lettered() -> bool:
        letters[:] = await dlq.read_dead_letters(settings, counted.topic)
        return len(letters) == 1

    async with running_consumer(
        settings, pool, registry, {counted: handle}, max_attempts=2, unavailable_patience=0.5
    ):
        await eventually(dead_lettered)
    assert letters[0].error_type == "DependencyUnavailable"


async def test_stopping_interrupts_a_backoff_and_leaves_the_record_to_the_next_consumer(
    pool: asyncpg.Pool, settings: NudgesSettings
) -> None:
    registry = EventRegistry()
    counted = fresh_event_type(registry)
    healthy = False
    handled: list[int] = []
    failed = asyncio.Event()

    async def handle(_e: Envelope, data: Any, _ctx: HandlerContext) -> None:
        if not healthy:
            failed.set()
            raise RuntimeError("Stripe answered 500")
        handled.append(data.seq)

    await _publish(settings, counted, 1, 2)
    group = f"test-{uuid.uuid4().hex[:8]}"
    slow = EventConsumer(
        group=group,
        settings=settings,
        pool=pool,
        handlers={counted: handle},
        registry=registry,
        backoff_initial=30.0,
        backoff_max=60.0,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(slow.run(stop))
    await asyncio.wait_for(failed.wait(), 30)
    stopping = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, 10)
    assert time.monotonic() - stopping < 5, "the 30 s backoff was not interrupted"

    healthy = True
    next_one = EventConsumer(
        group=group, settings=settings, pool=pool, handlers={counted: handle}, registry=registry
    )
    stop = asyncio.Event()
    task = asyncio.create_task(next_one.run(stop))
    try:
        await eventually(lambda: handled == [1, 2])
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert await dlq.read_dead_letters(settings, counted.topic) == []


async def test_a_commit_the_broker_cannot_take_is_given_up_not_retried_for_ever(
    pool: asyncpg.Pool, settings: NudgesSettings
) -> None:
    """A commit for a partition the broker does not know (its topic is gone, as after a
    restart of a broker without storage) returns after the commit timeout."""
    registry = EventRegistry()
    counted = fresh_event_type(registry)

    async def handle(_e: Envelope, _data: Any, _ctx: HandlerContext) -> None:
        return None

    await ensure_topics(settings.kafka_bootstrap_servers, [counted.topic])
    async with running_consumer(
        settings, pool, registry, {counted: handle}, commit_timeout=1.0
    ) as consumer:
        await eventually(consumer.assigned.is_set)
        started = time.monotonic()
        await consumer._commit({TopicPartition(f"gone-{uuid.uuid4().hex[:8]}", 1): 5})
        assert time.monotonic() - started < 5
