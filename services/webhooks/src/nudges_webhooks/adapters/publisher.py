"""Publishing verified provider events to Kafka, once per provider event id."""

from __future__ import annotations

import contextlib
import time
from uuid import UUID, uuid5

from aiokafka import AIOKafkaProducer

from nudges_kit.events import Envelope
from nudges_kit.kafka import TopicKeeper
from nudges_kit.telemetry import current_traceparent, kafka_headers
from nudges_kit.warpcache import WarpCacheClient

#: Namespace of envelope ids derived from provider event ids: a provider event always
#: becomes the same envelope id, so consumers drop any second copy.
PROVIDER_EVENT_NAMESPACE = UUID("6e756467-6573-4e75-8467-657300000002")


def envelope_id_for(provider_event_id: str) -> UUID:
    """The envelope id of a provider event."""
    return uuid5(PROVIDER_EVENT_NAMESPACE, provider_event_id)


#: A send slower than this may have spanned a broker restart: its topic is checked again.
SLOW_SEND_SECONDS = 0.05


class EventPublisher:
    """Sends envelopes to Kafka and waits for the broker's acknowledgement; the topic is
    declared before the send and checked again after a slow one (see ``TopicKeeper``)."""

    def __init__(self, producer: AIOKafkaProducer, topics: TopicKeeper) -> None:
        self._producer = producer
        self._topics = topics

    async def publish(self, topic: str, envelope: Envelope) -> None:
        await self._topics.ensure([topic])
        started = time.monotonic()
        await self._producer.send_and_wait(
            topic,
            envelope.to_bytes(),
            key=envelope.key.encode(),
            headers=kafka_headers(current_traceparent()),
        )
        if time.monotonic() - started > SLOW_SEND_SECONDS:
            await self._topics.ensure([topic], fresh=True)


class PublishedOnce:
    """Remembers provider event ids in WarpCache: claimed while publishing, then done."""

    def __init__(self, cache: WarpCacheClient, remember_seconds: int, claim_seconds: int = 30):
        self._cache = cache
        self._remember = remember_seconds
        self._claim = claim_seconds

    async def claim(self, event_id: str) -> bool:
        """True when this caller should publish ``event_id`` (not done, not in progress)."""
        if await self._cache.get(f"stripe-event:done:{event_id}") is not None:
            return False
        claims = await self._cache.increment(f"stripe-event:claim:{event_id}", 1, self._claim)
        return claims == 1

    async def done(self, event_id: str) -> None:
        await self._cache.set(f"stripe-event:done:{event_id}", b"1", self._remember)

    async def release(self, event_id: str) -> None:
        """Publishing failed: let the provider's next delivery try again."""
        with contextlib.suppress(Exception):
            await self._cache.delete(f"stripe-event:claim:{event_id}")
