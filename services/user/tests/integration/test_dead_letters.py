"""Dead letters through the graph: admins list them and replay one to its topic."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer

from nudges_devstack.infra import TansuBroker
from nudges_devstack.testing import SubgraphClient
from nudges_kit import dlq
from nudges_kit.kafka import all_topics, ensure_topics, make_producer
from nudges_kit.settings import NudgesSettings

QUERY = """query($topic: String) { deadLetters(topic: $topic, first: 50) {
  totalCount nodes { id topic eventId eventType error attempts consumerGroup } } }"""
REPLAY = "mutation($id: ID!) { replayDeadLetter(id: $id) { id eventId } }"


async def _park(settings: NudgesSettings, value: bytes, event_id: str) -> None:
    await ensure_topics(settings.kafka_bootstrap_servers, all_topics())
    producer = make_producer(settings)
    await producer.start()
    try:
        await dlq.send_dead_letter(
            producer,
            dlq.DeadLetter(
                topic="user.memberships",
                partition=0,
                offset=int(uuid.uuid4().int % 10**9),
                key="k",
                value_b64=base64.b64encode(value).decode(),
                headers=[],
                consumer_group="notifications",
                error="Twilio answered 500",
                error_type="RuntimeError",
                attempts=6,
                failed_at=datetime.now(UTC),
                event_id=event_id,
                event_type="user.membership.joined",
            ),
        )
    finally:
        await producer.stop()


async def _values_on(settings: NudgesSettings, topic: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=2000)
    finally:
        await consumer.stop()
    return [r.value or b"" for records in batches.values() for r in records]


def test_admins_list_and_replay_dead_letters(
    api: SubgraphClient, kafka_broker: TansuBroker
) -> None:
    settings = NudgesSettings(kafka_bootstrap_servers=kafka_broker.bootstrap_servers)
    event_id = str(uuid.uuid4())
    original = f'{{"id": "{event_id}", "marker": "replay-me"}}'.encode()
    asyncio.run(_park(settings, original, event_id))
    admin = api.person("admin").token
    listed = api.ok(QUERY, admin, topic="user.memberships")["deadLetters"]
    mine = [n for n in listed["nodes"] if n["eventId"] == event_id]
    assert len(mine) == 1
    assert mine[0]["error"] == "Twilio answered 500"
    assert mine[0]["consumerGroup"] == "notifications"
    assert api.ok(REPLAY, admin, id=mine[0]["id"])["replayDeadLetter"]["eventId"] == event_id
    assert original in asyncio.run(_values_on(settings, "user.memberships"))
    assert api.error_code(QUERY, api.person("client").token) == "FORBIDDEN"
    assert api.error_code(QUERY, admin, topic="no.such.topic") == "BAD_USER_INPUT"
    assert api.error_code(REPLAY, admin, id="user.memberships:0:1") == "NOT_FOUND"
