"""Wires ProductApi once: the database pool, the plan change listener behind
``planUpdated``, and the consumers of the events that change ProductApi's data, which run in
the same process."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from nudges_kit.consumer import EventConsumer
from nudges_kit.notify import ChangeListener
from nudges_product.adapters.plan_changes import plan_change_listener
from nudges_product.entrypoints.consumers import event_consumers
from nudges_product.settings import ProductSettings


@dataclass(frozen=True)
class Dependencies:
    """Everything the entrypoints use besides the request."""

    pool: asyncpg.Pool
    settings: ProductSettings
    #: Plan change notices (LISTEN/NOTIFY), pushed to ``planUpdated`` subscribers.
    plan_changes: ChangeListener
    #: The consumer groups the app's lifespan starts and stops.
    consumers: tuple[EventConsumer, ...]


def bootstrap(pool: asyncpg.Pool, settings: ProductSettings) -> Dependencies:
    """The dependencies of a running ProductApi, as its settings describe them."""
    return Dependencies(
        pool=pool,
        settings=settings,
        plan_changes=plan_change_listener(settings.database_url()),
        consumers=tuple(event_consumers(settings, pool)),
    )
