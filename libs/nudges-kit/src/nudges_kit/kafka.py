"""Kafka clients configured one way for the whole platform, and topic creation."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from nudges_kit.events import REGISTRY, EventRegistry, dlq_topic
from nudges_kit.logging import get_logger
from nudges_kit.settings import NudgesSettings

log = get_logger(__name__)


def make_producer(settings: NudgesSettings, request_timeout_ms: int = 10_000) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica; idempotence follows the settings
    (the local Tansu broker does not support idempotent producers)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=5,
        request_timeout_ms=request_timeout_ms,
        retry_backoff_ms=200,
    )


def all_topics(registry: EventRegistry = REGISTRY) -> list[str]:
    """Every declared topic and its dead-letter topic."""
    import nudges_kit.events.catalog  # noqa: F401  (declares the catalog)

    topics = registry.topics()
    return sorted({*topics, *(dlq_topic(t) for t in topics)})


async def ensure_topics(
    bootstrap_servers: str, topics: Iterable[str], partitions: int = 3, replication: int = 1
) -> list[str]:
    """Create the missing ``topics``; returns the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        created: list[str] = []
        for topic in missing:
            try:
                await admin.create_topics([NewTopic(topic, partitions, replication)])
                created.append(topic)
            except TopicAlreadyExistsError:
                continue
        if created:
            log.info("topics created", topics=created)
        return created
    finally:
        await admin.close()
