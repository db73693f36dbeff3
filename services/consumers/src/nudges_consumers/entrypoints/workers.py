"""Every consumer group the workers run, gathered from the service-layer modules."""

from __future__ import annotations

from nudges_consumers.bootstrap import Deps
from nudges_consumers.service_layer import (
    fan_out,
    notifications,
    sms_outbound,
    stripe_sync,
)
from nudges_kit.consumer import EventConsumer


def build_consumers(deps: Deps) -> list[EventConsumer]:
    """One :class:`EventConsumer` per group, each reading the topics of its handlers."""
    return [
        *stripe_sync.consumers(deps),
        *fan_out.consumers(deps),
        *sms_outbound.consumers(deps),
        *notifications.consumers(deps),
    ]
