"""Topics declared before sending, and found missing after a send that spanned a restart of
a broker that keeps its topics in memory (a broker of this test's own, restarted)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from nudges_devstack.infra import TansuBroker, free_port
from nudges_kit.kafka import TopicKeeper


@pytest.fixture
def broker(state_dir: Path) -> Iterator[TansuBroker]:
    own = TansuBroker(free_port(), log_path=state_dir / f"keeper-{uuid.uuid4().hex[:6]}.log")
    own.start()
    yield own
    own.stop()


async def _consume_and_commit(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"g-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(values) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                for tp, records in batch.items():
                    values.extend(r.value or b"" for r in records)
                    await asyncio.wait_for(consumer.commit({tp: records[-1].offset + 1}), 5)
    finally:
        await consumer.stop()
    return values


async def _send_retrying(producer: AIOKafkaProducer, topic: str, value: bytes) -> None:
    for _ in range(10):
        try:
            await producer.send_and_wait(topic, value, key=b"k")
            return
        except KafkaError:
            await asyncio.sleep(0.3)
    raise AssertionError(f"{topic} never took a message")


async def test_a_topic_lost_in_a_restart_is_declared_again_and_takes_commits(
    broker: TansuBroker,
) -> None:
    topic = f"keeper-{uuid.uuid4().hex[:8]}"
    keeper = TopicKeeper(broker.bootstrap_servers, partitions=2, recheck_seconds=60)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    try:
        assert await keeper.ensure([topic]) == [topic]
        assert await keeper.ensure([topic]) == [], "seen a moment ago: trusted"
        assert await keeper.ensure([topic], fresh=True) == [], "still there"
        await producer.start()
        await producer.send_and_wait(topic, b"before", key=b"k")
        assert await _consume_and_commit(broker.bootstrap_servers, topic, 1) == [b"before"]

        broker.stop(kill=True)
        broker.start()
        # Sent to the restarted broker as if nothing happened: the topic is implicit.
        await asyncio.wait_for(producer.send_and_wait(topic, b"lost", key=b"k"), 30)
        assert await keeper.ensure([topic]) == [], "the cached answer cannot know"
        assert await keeper.ensure([topic], fresh=True) == [topic], "found missing, declared"

        # What was sent meanwhile is kept, and the topic now takes commits; the producer's
        # first send after the declaration may fail once, while its metadata is refreshed.
        await _send_retrying(producer, topic, b"after")
        assert await _consume_and_commit(broker.bootstrap_servers, topic, 2) == [
            b"lost",
            b"after",
        ]
    finally:
        await producer.stop()
        await keeper.close()


async def test_concurrent_senders_share_one_check(broker: TansuBroker) -> None:
    topic = f"keeper-{uuid.uuid4().hex[:8]}"
    keeper = TopicKeeper(broker.bootstrap_servers, partitions=2, recheck_seconds=60)
    checks = 0
    check = keeper._ensure

    async def counted(topics: list[str]) -> list[str]:
        nonlocal checks
        checks += 1
        return await check(topics)

    keeper._ensure = counted  # type: ignore[method-assign]
    try:
        created = await asyncio.gather(*(keeper.ensure([topic]) for _ in range(20)))
        assert sorted(created, key=len) == [[]] * 19 + [[topic]]
        assert checks == 1, "those that waited used the check that ran meanwhile"
        checks = 0
        # After a send each: a check begun after the call answers it, so at most the one
        # running when they asked and one more.
        await asyncio.gather(*(keeper.ensure([topic], fresh=True) for _ in range(20)))
        assert checks <= 2
    finally:
        await keeper.close()
