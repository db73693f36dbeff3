"""Dead letters: what a consumer could not handle, with the error and the original record."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from pydantic import BaseModel

from nudges_kit.events import dlq_topic
from nudges_kit.kafka import make_consumer, make_producer, start_client
from nudges_kit.logging import get_logger
from nudges_kit.settings import NudgesSettings

log = get_logger(__name__)


class DeadLetter(BaseModel):
    """One record on ``<topic>.dlq``."""

    @property
    def id(self) -> str:
        """Names the letter: the original record's topic, partition and offset."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    topic: str
    partition: int
    offset: int
    key: str | None
    #: The original value, base64 encoded (it may not be valid UTF-8 or JSON).
    value_b64: str
    headers: list[tuple[str, str]]
    consumer_group: str
    error: str
    error_type: str
    attempts: int
    failed_at: datetime
    event_id: str | None = None
    event_type: str | None = None

    @property
    def value(self) -> bytes:
        """The original record value."""
        return base64.b64decode(self.value_b64)

    @classmethod
    def from_record(
        cls,
        record: ConsumerRecord[bytes, bytes],
        group: str,
        error: BaseException,
        attempts: int,
        event_id: str | None = None,
        event_type: str | None = None,
    ) -> DeadLetter:
        """A dead letter for ``record`` that failed with ``error``."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key.decode(errors="replace") if record.key is not None else None,
            value_b64=base64.b64encode(record.value or b"").decode(),
            headers=[(k, v.decode(errors="replace")) for k, v in record.headers or ()],
            consumer_group=group,
            error=str(error)[:4000],
            error_type=type(error).__name__,
            attempts=attempts,
            failed_at=datetime.now(UTC),
            event_id=event_id,
            event_type=event_type,
        )


async def send_dead_letter(producer: AIOKafkaProducer, letter: DeadLetter) -> None:
    """Publish ``letter`` to the dead-letter topic of its original topic."""
    await producer.send_and_wait(
        dlq_topic(letter.topic),
        value=orjson.dumps(letter.model_dump(mode="json")),
        key=letter.key.encode() if letter.key is not None else None,
        headers=[(k, v.encode()) for k, v in letter.headers],
    )


async def read_dead_letters(settings: NudgesSettings, *topics: str) -> list[DeadLetter]:
    """Every dead letter of ``topics`` present now (one consumer for all of them), oldest
    first per partition."""
    consumer = make_consumer(settings, enable_auto_commit=False, group_id=None)
    await start_client(consumer, settings)
    letters: list[DeadLetter] = []
    try:
        await consumer.topics()  # refreshes the cluster metadata
        tps = [
            TopicPartition(dlq_topic(topic), p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(dlq_topic(topic)) or set())
        ]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if end[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < end[tp]:
                        letters.append(DeadLetter.model_validate(orjson.loads(record.value or b"")))
                    if record.offset + 1 >= end[tp]:
                        remaining.discard(tp)
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return letters


async def republish(settings: NudgesSettings, letters: list[DeadLetter]) -> int:
    """Publish each letter's original record back to its original topic."""
    if not letters:
        return 0
    producer = make_producer(settings)
    await start_client(producer, settings)
    try:
        for letter in letters:
            headers: list[tuple[str, bytes]] = [(k, v.encode()) for k, v in letter.headers]
            headers.append(("nudges-replayed-from", dlq_topic(letter.topic).encode()))
            await producer.send_and_wait(
                letter.topic,
                value=letter.value,
                key=letter.key.encode() if letter.key is not None else None,
                headers=headers,
            )
    finally:
        await producer.stop()
    log.info("dead letters replayed", count=len(letters))
    return len(letters)


async def replay(settings: NudgesSettings, topic: str, event_ids: set[str] | None = None) -> int:
    """Publish dead letters of ``topic`` (all, or those of ``event_ids``) back to ``topic``.

    Consumers record handled event ids, so replaying a letter twice handles it once.
    """
    letters = await read_dead_letters(settings, topic)
    return await republish(
        settings, [x for x in letters if event_ids is None or x.event_id in event_ids]
    )


def summary(letter: DeadLetter) -> dict[str, Any]:
    """What an operator needs to see of a dead letter."""
    return {
        "topic": letter.topic,
        "offset": letter.offset,
        "event_id": letter.event_id,
        "event_type": letter.event_type,
        "group": letter.consumer_group,
        "error": letter.error,
        "attempts": letter.attempts,
        "failed_at": letter.failed_at.isoformat(),
    }
