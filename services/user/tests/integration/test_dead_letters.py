"""Dead letters through the graph: admins list them and replay one to its topic."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer

from nudges_devstack.infra import TansuBroker
from nudges_devstack.testing import SubgraphClient, park_dead_letter
from nudges_kit.settings import NudgesSettings

QUERY = """query($topic: String) { deadLetters(topic: $topic, first: 50) {
  totalCount nodes { id topic eventId eventType error attempts consumerGroup } } }"""
REPLAY = "mutation($id: ID!) { replayDeadLetter(id: $id) { id eventId } }"


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
    asyncio.run(
        park_dead_letter(
            settings.kafka_bootstrap_servers,
            "user.memberships",
            original,
            event_id,
            "user.membership.joined",
        )
    )
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
