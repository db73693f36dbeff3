"""The events UserApi handles in its own process: the deliveries of announcements (see
:mod:`nudges_user.service_layer.deliveries`), its clients' Stripe customers (see
:mod:`nudges_user.service_layer.stripe_customers`) and what numbers asked by text (YES to an
opt-in, LANG), which the SMS dialogue of Webhooks publishes."""

from __future__ import annotations

from typing import Any

import asyncpg

from nudges_kit.consumer import EventConsumer, HandlerContext, PermanentError
from nudges_kit.errors import BadInput, NotFound
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import providers, sms
from nudges_kit.logging import get_logger
from nudges_kit.settings import NudgesSettings
from nudges_user.service_layer import deliveries, stripe_customers
from nudges_user.service_layer.services import UserService
from nudges_user.service_layer.unit_of_work import unit_of_work

log = get_logger(__name__)

#: The consumer group of the deliveries, in every UserApi process.
DELIVERIES_GROUP = "user-deliveries"
#: The consumer group of Stripe's customer events.
STRIPE_CUSTOMERS_GROUP = "user-stripe-customers"
#: The consumer group of the SMS dialogue's opt-ins and language requests.
SMS_OPT_INS_GROUP = "user-sms-opt-ins"


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


async def _opt_in_confirmed(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
    """YES by SMS: the number joins the client; a second delivery finds the membership."""
    try:
        membership = await UserService(ctx.conn).join_client_by_phone(
            str(data.client_id), data.phone_hash, data.phone_ciphertext, data.locale
        )
    except (NotFound, BadInput) as exc:  # a client gone since JOIN, a locale no longer kept
        raise PermanentError(f"{envelope.type} {envelope.id}: {exc}") from exc
    log.info(
        "membership joined by SMS",
        phone_hash=data.phone_hash,
        client_id=str(data.client_id),
        membership_id=membership.id,
    )


async def _locale_requested(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
    """LANG by SMS: the number's user's language, when Nudges has the user."""
    try:
        await UserService(ctx.conn).set_locale_by_phone(data.phone_hash, data.locale)
    except BadInput as exc:
        raise PermanentError(f"{envelope.type} {envelope.id}: {exc}") from exc


def event_consumers(settings: NudgesSettings, pool: asyncpg.Pool) -> list[EventConsumer]:
    """The consumer of the sender's outcomes and Twilio's status callbacks, the one of
    Stripe's events and the one of the SMS dialogue's opt-ins (a group each, so that a Stripe
    backlog never delays deliveries nor a join by text)."""
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
        EventConsumer(
            group=SMS_OPT_INS_GROUP,
            settings=settings,
            pool=pool,
            handlers={
                sms.opt_in_confirmed: _opt_in_confirmed,
                sms.locale_requested: _locale_requested,
            },
        ),
    ]
