"""AuthApi's events, published straight to Kafka: AuthApi has no database, hence no outbox.
A publish either is acknowledged by the broker or raises :class:`BrokerUnavailable`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from nudges_kit.events import Envelope, EventType
from nudges_kit.events.catalog.auth import login_succeeded
from nudges_kit.events.catalog.sms import sms_outbound
from nudges_kit.kafka import (
    KafkaCredentialsRefused,
    ensure_topics,
    make_producer,
    start_client,
)
from nudges_kit.logging import get_logger
from nudges_kit.metrics import EVENTS_PUBLISHED
from nudges_kit.settings import NudgesSettings
from nudges_kit.telemetry import current_traceparent, kafka_headers

log = get_logger(__name__)
D = TypeVar("D", bound=BaseModel)

#: The topics AuthApi publishes to.
TOPICS = sorted({sms_outbound.topic, login_succeeded.topic})


class BrokerUnavailable(Exception):
    """Kafka did not acknowledge the event."""


class EventPublisher:
    """One producer, started on first use and started again after a failure."""

    def __init__(self, settings: NudgesSettings, timeout_seconds: float = 5.0) -> None:
        self._settings = settings
        self._timeout = timeout_seconds
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()

    async def publish(self, event_type: EventType[D], key: str, data: D) -> Envelope:
        """Publish one event and wait for the broker's acknowledgement."""
        envelope = event_type.envelope(key, data)
        try:
            producer = await self._started()
            await asyncio.wait_for(
                producer.send_and_wait(
                    event_type.topic,
                    value=envelope.to_bytes(),
                    key=key.encode(),
                    headers=kafka_headers(current_traceparent()),
                ),
                self._timeout,
            )
        except Exception as exc:
            await self.close()
            raise BrokerUnavailable(f"Kafka did not take {event_type.name}: {exc!r}") from exc
        EVENTS_PUBLISHED.labels(event_type.topic).inc()
        return envelope

    def publish_later(
        self,
        event_type: EventType[D],
        key: str,
        data: D,
        on_failure: Callable[[BrokerUnavailable], None],
    ) -> None:
        """Publish in the background, for an event the caller's answer does not depend on;
        a failure goes to ``on_failure``. :meth:`drain` waits for what is still going out."""

        async def send() -> None:
            try:
                await self.publish(event_type, key, data)
            except BrokerUnavailable as exc:
                on_failure(exc)

        task = asyncio.create_task(send())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait (at most the publish timeout) for the events published in the background."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=self._timeout)

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                # No lingering: each event here is awaited by a request (an OTP SMS, a login).
                producer = make_producer(
                    self._settings, request_timeout_ms=int(self._timeout * 1000), linger_ms=0
                )
                try:
                    await asyncio.wait_for(start_client(producer, self._settings), self._timeout)
                except BaseException:
                    with contextlib.suppress(Exception):
                        await producer.stop()
                    raise
                self._producer = producer
                await self._ensure_topics()
            return self._producer

    async def _ensure_topics(self) -> None:
        # A broker with memory storage may have lost its topics on a restart. Where topics
        # are managed elsewhere (and creating them is not allowed) sending still works.
        try:
            await asyncio.wait_for(
                ensure_topics(self._settings, TOPICS),
                self._timeout,
            )
        except Exception as exc:
            log.warning("could not ensure topics", topics=TOPICS, error=repr(exc))

    async def warm_up(self) -> None:
        """Start the producer ahead of the first request; a broker that is not reachable is
        only logged, credentials it refuses raise :class:`KafkaCredentialsRefused`."""
        try:
            await self._started()
        except KafkaCredentialsRefused:
            raise
        except Exception as exc:
            log.warning("kafka not reachable yet", error=repr(exc))

    async def close(self) -> None:
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()
