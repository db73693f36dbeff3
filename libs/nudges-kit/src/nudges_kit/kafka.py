"""Kafka clients configured one way for the whole platform, and topic creation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
)

from nudges_kit.events import REGISTRY, EventRegistry, dlq_topic
from nudges_kit.logging import get_logger
from nudges_kit.settings import NudgesSettings

log = get_logger(__name__)


def make_producer(
    settings: NudgesSettings, request_timeout_ms: int = 10_000, linger_ms: int = 5
) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica; idempotence follows the settings
    (the local Tansu broker does not support idempotent producers). ``linger_ms`` 0 suits a
    producer whose every event is awaited by a request."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=linger_ms,
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


class TopicKeeper:
    """Makes sure the topics a producer sends to exist, declared with their partitions.

    A broker that restarted without storage (the development broker keeps topics in memory)
    has lost them, and a send to a missing topic lets the broker create it implicitly; the
    development broker does so without registering the topic, so it is not listed and its
    consumers' offsets cannot be committed. A producer therefore calls :meth:`ensure` before
    sending (a topic seen less than ``recheck_seconds`` ago is trusted) and, where a send
    may have spanned a restart, ``ensure(..., fresh=True)`` after it: a topic it has to
    create then was lost during the send, and what was sent must be sent again."""

    def __init__(
        self,
        bootstrap_servers: str,
        partitions: int = 3,
        replication: int = 1,
        recheck_seconds: float = 1.0,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._partitions = partitions
        self._replication = replication
        self._recheck = recheck_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()

    async def ensure(self, topics: Iterable[str], *, fresh: bool = False) -> list[str]:
        """Create those of ``topics`` the broker does not have; returns the ones created."""
        wanted = sorted(set(topics))
        now = self._clock()
        recent = all(now - self._seen.get(t, float("-inf")) < self._recheck for t in wanted)
        if recent and not fresh:
            return []
        async with self._lock:
            try:
                return await asyncio.wait_for(self._ensure(wanted), self._timeout)
            except BaseException:
                await self._close_admin()
                raise

    async def _ensure(self, topics: list[str]) -> list[str]:
        if self._admin is None:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap, request_timeout_ms=int(self._timeout * 1000)
            )
            await admin.start()
            self._admin = admin
        existing = set(await self._admin.list_topics())
        created: list[str] = []
        for topic in topics:
            if topic in existing:
                continue
            try:
                await self._admin.create_topics(
                    [NewTopic(topic, self._partitions, self._replication)]
                )
                created.append(topic)
            except TopicAlreadyExistsError:
                continue
            except (TopicAuthorizationFailedError, ClusterAuthorizationFailedError) as exc:
                # Topics managed elsewhere: sending is still allowed.
                log.warning("not allowed to create a topic", topic=topic, error=repr(exc))
        now = self._clock()
        self._seen.update({t: now for t in topics})
        if created:
            log.info("topics created", topics=created)
        return created

    async def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        self._seen.clear()
        if admin is not None:
            try:
                await admin.close()
            except Exception as exc:  # a broker gone away cannot be told goodbye
                log.debug("admin client close failed", error=repr(exc))

    async def close(self) -> None:
        """Close the admin connection."""
        async with self._lock:
            await self._close_admin()
