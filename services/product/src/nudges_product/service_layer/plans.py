"""Use cases of plans and their price tiers (admin), and their Stripe ids (learnt from
Stripe's ``product.created`` / ``price.created`` events).

Recording a Stripe id publishes no event: an event would only bring the consumer that
created the Stripe object back. Every other change publishes
one, carrying the Stripe ids known at that time, so the consumer updates what exists.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from nudges_kit.errors import Conflict, NotFound
from nudges_kit.events.catalog import product as events
from nudges_product.domain import plans as rules
from nudges_product.domain.model import Plan, PlanFeatures, PriceTier
from nudges_product.domain.price_tiers import (
    PriceTierChanges,
    PriceTierTerms,
    decide_tier_update,
)
from nudges_product.domain.subscriptions import stripe_id
from nudges_product.service_layer.events import plan_data, price_tier_data
from nudges_product.service_layer.unit_of_work import UnitOfWork, unit_of_work


def _now() -> datetime:
    return datetime.now(UTC)


async def _plan_for_update(uow: UnitOfWork, plan_id: UUID) -> Plan:
    plan = await uow.products.plan(plan_id, for_update=True)
    if plan is None:
        raise NotFound("plan not found")
    return plan


async def _tier_for_update(uow: UnitOfWork, tier_id: UUID) -> PriceTier:
    tier = await uow.products.tier(tier_id, for_update=True)
    if tier is None:
        raise NotFound("price tier not found")
    return tier


async def create_plan(
    pool: asyncpg.Pool,
    *,
    name: str,
    description: str,
    icon_url: str | None,
    features: PlanFeatures,
) -> Plan:
    """A new active plan; publishes ``product.plan.created``."""
    now = _now()
    plan = Plan(
        id=uuid4(),
        name=rules.plan_name(name),
        description=rules.plan_description(description),
        icon_url=rules.icon_url(icon_url),
        active=True,
        stripe_product_id=None,
        created_at=now,
        updated_at=now,
    )
    async with unit_of_work(pool) as uow:
        await uow.products.add_plan(plan, features)
        await uow.publish(events.plan_created, str(plan.id), plan_data(plan))
        await uow.products.notify_plan_changed(plan.id)
    return plan


async def update_plan(pool: asyncpg.Pool, plan_id: UUID, changes: rules.PlanChanges) -> Plan:
    """The plan with ``changes`` applied; publishes ``product.plan.updated`` when one applied."""
    async with unit_of_work(pool) as uow:
        plan = await _plan_for_update(uow, plan_id)
        features = (await uow.products.features([plan_id]))[plan_id]
        update = rules.update_plan(plan, features, changes)
        if not update.changed:
            return plan
        updated = replace(update.plan, updated_at=_now())
        await uow.products.save_plan(updated)
        if update.features != features:
            await uow.products.save_features(plan_id, update.features)
        await uow.publish(events.plan_updated, str(plan_id), plan_data(updated))
        await uow.products.notify_plan_changed(plan_id)
    return updated


async def archive_plan(pool: asyncpg.Pool, plan_id: UUID) -> Plan:
    """The plan, no longer offered: publishes ``product.plan.archived`` once, and archives its
    active tiers (``product.price-tier.archived`` each) so that nothing of it stays on sale.
    Subscriptions to those tiers carry on (Stripe keeps billing archived prices)."""
    async with unit_of_work(pool) as uow:
        plan = await _plan_for_update(uow, plan_id)
        if not plan.active:
            return plan
        now = _now()
        archived = replace(plan, active=False, updated_at=now)
        await uow.products.save_plan(archived)
        await uow.publish(events.plan_archived, str(plan_id), plan_data(archived))
        tiers = (await uow.products.tiers_of_plans([plan_id], include_archived=False))[plan_id]
        for tier in tiers:
            retired = replace(tier, status="archived", updated_at=now)
            await uow.products.save_tier(retired)
            await uow.publish(events.price_tier_archived, str(plan_id), price_tier_data(retired))
        await uow.products.notify_plan_changed(plan_id)
    return archived


async def reactivate_plan(pool: asyncpg.Pool, plan_id: UUID) -> Plan:
    """The archived plan, offered again: publishes ``product.plan.updated`` (``active`` true,
    which puts its Stripe product back on sale) once; an active plan is returned unchanged.
    Its archived tiers stay archived: prices are put on sale again by adding tiers, so that a
    price retired on purpose never comes back by itself."""
    async with unit_of_work(pool) as uow:
        plan = await _plan_for_update(uow, plan_id)
        if plan.active:
            return plan
        reactivated = replace(plan, active=True, updated_at=_now())
        await uow.products.save_plan(reactivated)
        await uow.publish(events.plan_updated, str(plan_id), plan_data(reactivated))
        await uow.products.notify_plan_changed(plan_id)
    return reactivated


async def create_price_tier(pool: asyncpg.Pool, plan_id: UUID, terms: PriceTierTerms) -> PriceTier:
    """A new active tier of an active plan; publishes ``product.price-tier.created``."""
    async with unit_of_work(pool) as uow:
        plan = await _plan_for_update(uow, plan_id)
        if not plan.active:
            raise Conflict("an archived plan takes no new price tiers")
        now = _now()
        tier = PriceTier(
            id=uuid4(),
            plan_id=plan_id,
            name=terms.name,
            amount=terms.amount,
            currency=terms.currency,
            interval=terms.interval,
            status="active",
            version=1,
            replaces_price_tier_id=None,
            stripe_price_id=None,
            created_at=now,
            updated_at=now,
            trial_days=terms.trial_days,
        )
        await uow.products.add_tier(tier)
        await uow.publish(events.price_tier_created, str(plan_id), price_tier_data(tier))
        await uow.products.notify_plan_changed(plan_id)
    return tier


async def update_price_tier(
    pool: asyncpg.Pool, tier_id: UUID, changes: PriceTierChanges
) -> PriceTier:
    """A renamed tier (``product.price-tier.updated``), or, when the price changes, a new
    version (``product.price-tier.created``) and the old one archived
    (``product.price-tier.archived``), in that order."""
    async with unit_of_work(pool) as uow:
        current = await _tier_for_update(uow, tier_id)
        decision = decide_tier_update(current, changes, uuid4(), _now())
        key = str(current.plan_id)
        if decision.kind == "unchanged":
            return current
        if decision.kind == "renamed":
            await uow.products.save_tier(decision.tier)
            await uow.publish(events.price_tier_updated, key, price_tier_data(decision.tier))
        else:
            assert decision.archived is not None
            await uow.products.save_tier(decision.archived)
            await uow.products.add_tier(decision.tier)
            await uow.publish(events.price_tier_created, key, price_tier_data(decision.tier))
            await uow.publish(events.price_tier_archived, key, price_tier_data(decision.archived))
        await uow.products.notify_plan_changed(current.plan_id)
    return decision.tier


async def archive_price_tier(pool: asyncpg.Pool, tier_id: UUID) -> PriceTier:
    """The tier, no longer offered; publishes ``product.price-tier.archived`` once."""
    async with unit_of_work(pool) as uow:
        tier = await _tier_for_update(uow, tier_id)
        if tier.status == "archived":
            return tier
        archived = replace(tier, status="archived", updated_at=_now())
        await uow.products.save_tier(archived)
        await uow.publish(events.price_tier_archived, str(tier.plan_id), price_tier_data(archived))
        await uow.products.notify_plan_changed(tier.plan_id)
    return archived


async def set_plan_stripe_product(
    db: Any, plan_id: UUID, stripe_product_id: str, replaces: str | None = None
) -> Plan:
    """Record the Stripe Product of a plan (once; the same id again changes nothing), or the
    one created in place of the recorded Product Stripe lost (``replaces`` names it)."""
    stripe_product_id = stripe_id(stripe_product_id, "stripeProductId")
    async with unit_of_work(db) as uow:
        plan = await _plan_for_update(uow, plan_id)
        if plan.stripe_product_id == stripe_product_id:
            return plan
        if plan.stripe_product_id is not None and plan.stripe_product_id != replaces:
            raise Conflict(f"the plan already has the Stripe product {plan.stripe_product_id}")
        updated = replace(plan, stripe_product_id=stripe_product_id, updated_at=_now())
        await uow.products.save_plan(updated)
        await uow.products.notify_plan_changed(plan_id)
    return updated


async def set_price_tier_stripe_price(
    db: Any, tier_id: UUID, stripe_price_id: str, replaces: str | None = None
) -> PriceTier:
    """Record the Stripe Price of a tier (once; the same id again changes nothing), or the one
    created in place of the recorded Price Stripe lost (``replaces`` names it)."""
    stripe_price_id = stripe_id(stripe_price_id, "stripePriceId")
    async with unit_of_work(db) as uow:
        tier = await _tier_for_update(uow, tier_id)
        if tier.stripe_price_id == stripe_price_id:
            return tier
        if tier.stripe_price_id is not None and tier.stripe_price_id != replaces:
            raise Conflict(f"the price tier already has the Stripe price {tier.stripe_price_id}")
        updated = replace(tier, stripe_price_id=stripe_price_id, updated_at=_now())
        await uow.products.save_tier(updated)
        await uow.products.notify_plan_changed(tier.plan_id)
    return updated
