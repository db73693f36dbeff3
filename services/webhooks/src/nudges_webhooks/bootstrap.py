"""Wires Webhooks once: the events' publisher (provider events, the SMS dialogue's opt-ins)
and the SMS dialogue's adapters."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from nudges_kit.kafka import TopicKeeper, make_producer
from nudges_kit.localization import LocalizationClient
from nudges_kit.operations import Subgraph
from nudges_kit.phone import PhoneVault
from nudges_kit.service_auth import ServiceTokenProvider
from nudges_kit.service_client import ServiceClient
from nudges_kit.warpcache import WarpCacheClient
from nudges_webhooks.adapters.drafts import DraftStore
from nudges_webhooks.adapters.opt_ins import OptInStore
from nudges_webhooks.adapters.publisher import EventPublisher, PublishedOnce
from nudges_webhooks.service_layer.dialogue import Dialogue
from nudges_webhooks.settings import WebhooksSettings


@dataclass(frozen=True)
class Dependencies:
    """Everything a webhook route may touch besides its request."""

    producer: AIOKafkaProducer
    publisher: EventPublisher
    once: PublishedOnce
    cache: WarpCacheClient
    dialogue: Dialogue
    closers: tuple[Callable[[], Awaitable[None]], ...] = field(default=())

    async def close(self) -> None:
        """Stop the producer and release every adapter's connections."""
        with contextlib.suppress(Exception):
            await self.producer.stop()
        for close in self.closers:
            await close()


def bootstrap(settings: WebhooksSettings) -> Dependencies:
    """The dependencies of a running Webhooks service, as its settings describe them (the
    producer is started by the readiness check, so that a broker still starting is waited
    for rather than fatal)."""
    cache = WarpCacheClient(settings.warpcache_url, token=settings.warpcache_caller_token())
    producer = make_producer(settings)
    topics = TopicKeeper(settings)
    publisher = EventPublisher(producer, topics)
    # The SMS dialogue: channels of its own with the dialogue's short deadlines.
    tokens = ServiceTokenProvider(
        settings.auth_token_url,
        settings.service_client_id,
        settings.service_client_secret.get_secret_value(),
        timeout=settings.subgraph_timeout,
    )
    subgraphs = ServiceClient(
        {Subgraph.USER: settings.user_url, Subgraph.PRODUCT: settings.product_url},
        tokens,
        timeout=settings.subgraph_timeout,
    )
    dialogue_cache = WarpCacheClient(
        settings.warpcache_url,
        timeout=settings.dialogue_call_timeout,
        retries=1,
        token=settings.warpcache_caller_token(),
    )
    localization = LocalizationClient(
        settings.localization_url, timeout=settings.dialogue_call_timeout, attempts=2
    )
    dialogue = Dialogue(
        subgraphs,
        DraftStore(dialogue_cache, settings.draft_ttl_seconds, settings.confirmed_window_seconds),
        localization,
        PhoneVault(
            settings.phone_encryption_key.get_secret_value(),
            settings.phone_hash_key.get_secret_value(),
        ),
        settings.dialogue_deadline_seconds,
        OptInStore(dialogue_cache, settings.opt_in_ttl_seconds, settings.joined_window_seconds),
        settings.supported_locales,
        publisher,
    )
    return Dependencies(
        producer=producer,
        publisher=publisher,
        once=PublishedOnce(cache, settings.stripe_dedupe_seconds),
        cache=cache,
        dialogue=dialogue,
        closers=(
            topics.close,
            cache.close,
            dialogue_cache.close,
            localization.close,
            subgraphs.aclose,
            tokens.aclose,
        ),
    )
