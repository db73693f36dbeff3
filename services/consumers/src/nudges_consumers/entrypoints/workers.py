"""Every consumer group and periodic task the workers run, gathered from the service-layer
modules."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from nudges_consumers.bootstrap import Deps
from nudges_consumers.service_layer import (
    client_digests,
    fan_out,
    notifications,
    sms_outbound,
    stripe_sync,
)
from nudges_kit.consumer import EventConsumer

#: A task that runs until the event is set.
Periodic = Callable[[asyncio.Event], Awaitable[None]]


def build_consumers(deps: Deps) -> list[EventConsumer]:
    """One :class:`EventConsumer` per group, each reading the topics of its handlers."""
    return [
        *stripe_sync.consumers(deps),
        *fan_out.consumers(deps),
        *sms_outbound.consumers(deps),
        *notifications.consumers(deps),
    ]


def build_periodic(deps: Deps) -> list[Periodic]:
    """The periodic tasks: the digests of joins and leaves that came due."""
    return [client_digests.DigestSender(deps).run]
