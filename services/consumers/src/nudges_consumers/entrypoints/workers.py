"""Every consumer group the workers run, gathered from the service-layer modules, and the
loops beside them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nudges_consumers.bootstrap import Deps
from nudges_consumers.service_layer import (
    client_digests,
    fan_out,
    notifications,
    sms_outbound,
    stripe_sync,
)
from nudges_kit.consumer import EventConsumer


@dataclass(frozen=True)
class Workers:
    """What the workers' process runs."""

    consumers: list[EventConsumer]
    #: Loops beside the consumers, each run until its stop event is set (the release of
    #: copies held for quiet hours, the digests of joins and leaves that came due).
    loops: list[Callable[[asyncio.Event], Awaitable[None]]]


def build_workers(deps: Deps) -> Workers:
    """One :class:`EventConsumer` per group, each reading the topics of its handlers, and
    the loops."""
    sending, held_copies = sms_outbound.consumers(deps)
    return Workers(
        consumers=[
            *stripe_sync.consumers(deps),
            *fan_out.consumers(deps),
            *sending,
            *notifications.consumers(deps),
        ],
        loops=[held_copies.run, client_digests.DigestSender(deps).run],
    )
