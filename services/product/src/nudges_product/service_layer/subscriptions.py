"""Use cases of plan subscriptions: Stripe's news about them (consumed from
``payment.checkouts`` and ``stripe.events``), and cancellation, plan changes and their
withdrawal by the client or an admin (Stripe is called by the consumers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

import asyncpg

from nudges_kit.errors import Conflict, NotFound
from nudges_kit.events.catalog import product as events
from nudges_kit.events.catalog.product import PlanChangeData
from nudges_product.domain.model import PlanSubscription
from nudges_product.domain.subscriptions import (
    STATUS_RANK,
    SubscriptionNews,
    apply_news,
    may_cancel,
    request_cancellation,
    request_plan_change,
    stripe_id,
    withdraw_plan_change,
)
from nudges_product.service_layer.events import plan_subscription_data
from nudges_product.service_layer.unit_of_work import UnitOfWork, unit_of_work


async def apply_subscription_news(db: Any, news: SubscriptionNews) -> PlanSubscription:
    """Apply what Stripe (or PaymentApi, for a checkout or an invoice) says about a
    subscription, stored by its Stripe id whatever order the news arrives in (see
    :func:`apply_news`). The first news stores it and publishes
    ``product.plan-subscription.activated`` (``updated`` when it is not active yet,
    ``canceled`` when it already ended); later news publishes ``updated``, or ``canceled``
    when it ended, and nothing when it changes nothing. ``db`` is a pool or a connection in a
    transaction."""
    stripe_subscription_id = stripe_id(news.stripe_subscription_id, "stripeSubscriptionId")
    news = replace(news, stripe_subscription_id=stripe_subscription_id)
    async with unit_of_work(db) as uow:
        current = await uow.products.subscription_by_stripe_id(
            stripe_subscription_id, for_update=True
        )
        decision = apply_news(current, news, uuid4(), datetime.now(UTC))
        if decision.kind == "unchanged":
            return decision.subscription
        subscription = decision.subscription
        if decision.kind == "activated":
            if await uow.products.tier(subscription.price_tier_id) is None:
                raise NotFound("price tier not found")
            if not await uow.products.add_subscription_once(subscription):
                # Stored meanwhile by a concurrent delivery: it keeps the row; this news is
                # delivered again (the transaction rolls back) and applies to it then.
                raise Conflict(f"subscription {stripe_subscription_id} was stored meanwhile")
        else:
            await uow.products.save_subscription(subscription)
        await uow.publish(
            _EVENT_OF[decision.kind, subscription.status],
            str(subscription.client_id),
            plan_subscription_data(subscription),
        )
    return subscription


_EVENT_OF = {
    **{("activated", status): events.plan_subscription_updated for status in STATUS_RANK},
    ("activated", "active"): events.plan_subscription_activated,
    ("activated", "canceled"): events.plan_subscription_canceled,
    **{("updated", status): events.plan_subscription_updated for status in STATUS_RANK},
    **{("canceled", status): events.plan_subscription_canceled for status in STATUS_RANK},
}


async def announce_trial_end(db: Any, news: SubscriptionNews) -> PlanSubscription:
    """Stripe's ``customer.subscription.trial_will_end``: the news applied as any other, then
    ``product.plan-subscription.trial-ending`` (the client is told of the first charge)."""
    subscription = await apply_subscription_news(db, news)
    async with unit_of_work(db) as uow:
        await uow.publish(
            events.plan_subscription_trial_ending,
            str(subscription.client_id),
            plan_subscription_data(subscription),
        )
    return subscription


async def cancel_plan_subscription(
    pool: asyncpg.Pool, subscription_id: UUID, *, client_id: UUID | None, is_admin: bool
) -> PlanSubscription:
    """The subscription set to end with its billing period; publishes
    ``product.plan-subscription.updated`` (the consumer tells Stripe)."""
    async with unit_of_work(pool) as uow:
        current = await uow.products.subscription(subscription_id, for_update=True)
        # Another client's subscription is answered as a missing one: its id is not probed.
        if current is None or not may_cancel(current, client_id, is_admin):
            raise NotFound("plan subscription not found")
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


async def change_plan_subscription(
    pool: asyncpg.Pool,
    subscription_id: UUID,
    price_tier_id: UUID,
    *,
    client_id: UUID | None,
    is_admin: bool,
) -> PlanSubscription:
    """Move the subscription to another tier: an upgrade is billed at once with Stripe's
    prorations and applies when Stripe confirms it, a downgrade applies at the period's end,
    a change during a free trial at once without prorations (see
    :func:`request_plan_change`). Publishes ``product.plan-subscription.change-requested``
    (the consumer tells Stripe) and ``product.plan-subscription.updated`` (the pending
    change)."""
    async with unit_of_work(pool) as uow:
        current = await uow.products.subscription(subscription_id, for_update=True)
        if current is None or not may_cancel(current, client_id, is_admin):
            raise NotFound("plan subscription not found")
        tiers = await uow.products.tiers([current.price_tier_id, price_tier_id])
        if price_tier_id not in tiers:
            raise NotFound("price tier not found")
        target = tiers[price_tier_id]
        changed, proration = request_plan_change(
            current, tiers[current.price_tier_id], target, datetime.now(UTC)
        )
        await uow.products.save_subscription(changed)
        assert target.stripe_price_id is not None
        await _publish_change(uow, changed, target.id, target.stripe_price_id, proration)
    return changed


async def cancel_plan_change(
    pool: asyncpg.Pool, subscription_id: UUID, *, client_id: UUID | None, is_admin: bool
) -> PlanSubscription:
    """Withdraw the subscription's pending downgrade: it keeps its tier after the period's
    end. Publishes ``product.plan-subscription.change-requested`` naming the tier in force
    (the consumer moves the Stripe subscription's item back to its Price, without
    prorations) and ``product.plan-subscription.updated`` (nothing pending). Nothing pending
    returns the subscription unchanged and publishes nothing (see
    :func:`withdraw_plan_change` for what cannot be withdrawn)."""
    async with unit_of_work(pool) as uow:
        current = await uow.products.subscription(subscription_id, for_update=True)
        if current is None or not may_cancel(current, client_id, is_admin):
            raise NotFound("plan subscription not found")
        kept = withdraw_plan_change(current, datetime.now(UTC))
        if kept is None:
            return current
        tier = await uow.products.tier(current.price_tier_id)
        if tier is None or tier.stripe_price_id is None:
            raise Conflict("the subscription's price tier has no Stripe price to keep")
        await uow.products.save_subscription(kept)
        await _publish_change(uow, kept, tier.id, tier.stripe_price_id, "none")
    return kept


async def _publish_change(
    uow: UnitOfWork,
    subscription: PlanSubscription,
    price_tier_id: UUID,
    stripe_price_id: str,
    proration: Literal["always_invoice", "none"],
) -> None:
    """``change-requested`` (the consumer moves the Stripe subscription's item to
    ``stripe_price_id``) and ``updated`` (what is pending now), in the caller's transaction."""
    await uow.publish(
        events.plan_subscription_change_requested,
        str(subscription.client_id),
        PlanChangeData(
            plan_subscription_id=subscription.id,
            client_id=subscription.client_id,
            stripe_subscription_id=subscription.stripe_subscription_id,
            price_tier_id=price_tier_id,
            stripe_price_id=stripe_price_id,
            proration_behavior=proration,
        ),
    )
    await uow.publish(
        events.plan_subscription_updated,
        str(subscription.client_id),
        plan_subscription_data(subscription),
    )
