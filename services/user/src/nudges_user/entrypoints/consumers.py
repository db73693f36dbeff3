"""The events UserApi handles in its own process: the deliveries of announcements (see
:mod:`nudges_user.service_layer.deliveries`) and its clients' Stripe customers (see
:mod:`nudges_user.service_layer.stripe_customers`)."""

from __future__ import annotations

from typing import Any

import asyncpg

from nudges_kit.consumer import EventConsumer, HandlerContext
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import providers, sms
from nudges_kit.settings import NudgesSettings
from nudges_user.service_layer import deliveries, stripe_customers
from nudges_user.service_layer.unit_of_work import unit_of_work

#: The consumer group of the deliveries, in every UserApi process.
DELIVERIES_GROUP = "user-deliveries"
#: The consumer group of Stripe's customer events.
STRIPE_CUSTOMERS_GROUP = "user-stripe-customers"


# Each handler's unit of work joins the consumer's transaction, which also records the
# handled event id: the change, its outbox events and that record commit together.


async def _outcomes(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
    async with unit_of_work(ctx.conn) as uow:
        await deliveries.record_outcomes(uow, data)


async def _status(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
    async with unit_of_work(ctx.conn) as uow:
        await deliveries.record_status(uow, data)


async def _stripe_event(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
    async with unit_of_work(ctx.conn) as uow:
        await stripe_customers.learn_customer(uow, data)


def event_consumers(settings: NudgesSettings, pool: asyncpg.Pool) -> list[EventConsumer]:
    """The consumer of the sender's outcomes and Twilio's status callbacks, and the one of
    Stripe's events (a group each, so that a Stripe backlog never delays deliveries)."""
    return [
        EventConsumer(
            group=DELIVERIES_GROUP,
            settings=settings,
            pool=pool,
            handlers={sms.announcement_outcomes: _outcomes, providers.twilio_status: _status},
        ),
        EventConsumer(
            group=STRIPE_CUSTOMERS_GROUP,
            settings=settings,
            pool=pool,
            handlers={providers.stripe_event: _stripe_event},
        ),
    ]
