"""Every consumer group the workers run, gathered from the service-layer modules."""

from __future__ import annotations

from nudges_consumers.bootstrap import Deps
from nudges_consumers.service_layer import stripe_sync
from nudges_kit.consumer import EventConsumer


def build_consumers(deps: Deps) -> list[EventConsumer]:
    """One :class:`EventConsumer` per group, each reading the topics of its handlers."""
    return [*stripe_sync.consumers(deps)]
