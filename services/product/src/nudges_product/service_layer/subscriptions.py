"""Use cases of plan subscriptions: activation and updates from Stripe (via the consumers),
and cancellation by the client or an admin (Stripe is called by the consumers)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from nudges_kit.events.catalog import product as events
from nudges_product.domain.errors import NotFound
from nudges_product.domain.model import PlanSubscription
from nudges_product.domain.subscriptions import (
    StripeSubscriptionState,
    apply_stripe_state,
    billing_period,
    may_cancel,
    request_cancellation,
    stripe_id,
)
from nudges_product.service_layer.events import plan_subscription_data
from nudges_product.service_layer.unit_of_work import unit_of_work


async def activate_plan_subscription(
    pool: asyncpg.Pool,
    *,
    client_id: UUID,
    price_tier_id: UUID,
    stripe_subscription_id: str,
    current_period_start: datetime | None,
    current_period_end: datetime | None,
) -> PlanSubscription:
    """The client's active subscription to a tier. Idempotent by the Stripe subscription id:
    the first call stores it and publishes ``product.plan-subscription.activated``; repeated
    calls return what is stored and publish nothing."""
    stripe_subscription_id = stripe_id(stripe_subscription_id, "stripeSubscriptionId")
    start, end = billing_period(current_period_start, current_period_end)
    now = datetime.now(UTC)
    candidate = PlanSubscription(
        id=uuid4(),
        client_id=client_id,
        price_tier_id=price_tier_id,
        status="active",
        current_period_start=start,
        current_period_end=end,
        stripe_subscription_id=stripe_subscription_id,
        cancel_at_period_end=False,
        created_at=now,
        updated_at=now,
    )
    async with unit_of_work(pool) as uow:
        if await uow.products.tier(price_tier_id) is None:
            raise NotFound("price tier")
        if await uow.products.add_subscription_once(candidate):
            await uow.publish(
                events.plan_subscription_activated,
                str(client_id),
                plan_subscription_data(candidate),
            )
            return candidate
        existing = await uow.products.subscription_by_stripe_id(stripe_subscription_id)
    assert existing is not None
    return existing


async def update_plan_subscription(
    pool: asyncpg.Pool, stripe_subscription_id: str, state: StripeSubscriptionState
) -> PlanSubscription:
    """Apply what Stripe reports; publishes ``updated``, or ``canceled`` when it ended, and
    nothing when the report changes nothing (a repeat, or older than what is stored)."""
    stripe_subscription_id = stripe_id(stripe_subscription_id, "stripeSubscriptionId")
    billing_period(state.current_period_start, state.current_period_end)
    async with unit_of_work(pool) as uow:
        current = await uow.products.subscription_by_stripe_id(
            stripe_subscription_id, for_update=True
        )
        if current is None:
            raise NotFound("plan subscription")
        decision = apply_stripe_state(current, state, datetime.now(UTC))
        if decision.kind == "unchanged":
            return current
        await uow.products.save_subscription(decision.subscription)
        event = (
            events.plan_subscription_canceled
            if decision.kind == "canceled"
            else events.plan_subscription_updated
        )
        await uow.publish(
            event, str(current.client_id), plan_subscription_data(decision.subscription)
        )
    return decision.subscription


async def cancel_plan_subscription(
    pool: asyncpg.Pool, subscription_id: UUID, *, client_id: UUID | None, is_admin: bool
) -> PlanSubscription:
    """The subscription set to end with its billing period; publishes
    ``product.plan-subscription.updated`` (the consumer tells Stripe)."""
    async with unit_of_work(pool) as uow:
        current = await uow.products.subscription(subscription_id, for_update=True)
        # Another client's subscription is answered as a missing one: its id is not probed.
        if current is None or not may_cancel(current, client_id, is_admin):
            raise NotFound("plan subscription")
        canceling = request_cancellation(current, datetime.now(UTC))
        if canceling is None:
            return current
        await uow.products.save_subscription(canceling)
        await uow.publish(
            events.plan_subscription_updated,
            str(current.client_id),
            plan_subscription_data(canceling),
        )
    return canceling
