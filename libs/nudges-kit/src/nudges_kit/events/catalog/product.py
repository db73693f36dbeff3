"""Events published by ProductApi."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from nudges_kit.events import REGISTRY

PLANS = "product.plans"
PRICE_TIERS = "product.price-tiers"
PLAN_SUBSCRIPTIONS = "product.plan-subscriptions"
DISCOUNT_CODES = "product.discount-codes"


class PlanData(BaseModel):
    plan_id: UUID
    name: str
    description: str = ""
    active: bool
    stripe_product_id: str | None = None


class PriceTierData(BaseModel):
    price_tier_id: UUID
    plan_id: UUID
    name: str
    amount: int
    currency: str
    interval: Literal["week", "month", "year"]
    status: Literal["active", "inactive", "archived"]
    stripe_price_id: str | None = None
    replaces_price_tier_id: UUID | None = None


class PlanSubscriptionData(BaseModel):
    plan_subscription_id: UUID
    client_id: UUID
    price_tier_id: UUID
    status: Literal["incomplete", "active", "past_due", "canceled"]
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    #: What the consumer calls Stripe with (e.g. to cancel at the period's end).
    stripe_subscription_id: str | None = None
    #: A plan change not in force yet: the tier, and when it applies (None: once Stripe
    #: confirms it, for an upgrade; the period's end for a downgrade).
    pending_price_tier_id: UUID | None = None
    pending_change_at: datetime | None = None
    trial_ends_at: datetime | None = None


class PlanChangeData(BaseModel):
    """A client asked to move their subscription to another tier: Stripe bills the new price
    from now with the prorations invoiced at once (``always_invoice``, an upgrade), or from
    the next period without prorations (``none``, a downgrade). A withdrawn downgrade is
    published the same way, naming the tier in force (``none``): Stripe goes back to its
    price."""

    plan_subscription_id: UUID
    client_id: UUID
    stripe_subscription_id: str
    price_tier_id: UUID
    stripe_price_id: str
    proration_behavior: Literal["always_invoice", "none"]


class DiscountCodeData(BaseModel):
    discount_code_id: UUID
    code: str
    percent_off: int | None = None
    amount_off: int | None = None
    currency: str | None = None
    duration: Literal["once", "repeating", "forever"]
    duration_in_months: int | None = None
    max_redemptions: int | None = None
    expires_at: datetime | None = None
    active: bool
    stripe_coupon_id: str | None = None
    stripe_promotion_code_id: str | None = None


plan_created = REGISTRY.declare("product.plan.created", PLANS, PlanData)
plan_updated = REGISTRY.declare("product.plan.updated", PLANS, PlanData)
plan_archived = REGISTRY.declare("product.plan.archived", PLANS, PlanData)
price_tier_created = REGISTRY.declare("product.price-tier.created", PRICE_TIERS, PriceTierData)
price_tier_updated = REGISTRY.declare("product.price-tier.updated", PRICE_TIERS, PriceTierData)
price_tier_archived = REGISTRY.declare("product.price-tier.archived", PRICE_TIERS, PriceTierData)
plan_subscription_activated = REGISTRY.declare(
    "product.plan-subscription.activated", PLAN_SUBSCRIPTIONS, PlanSubscriptionData
)
plan_subscription_updated = REGISTRY.declare(
    "product.plan-subscription.updated", PLAN_SUBSCRIPTIONS, PlanSubscriptionData
)
plan_subscription_canceled = REGISTRY.declare(
    "product.plan-subscription.canceled", PLAN_SUBSCRIPTIONS, PlanSubscriptionData
)
plan_subscription_change_requested = REGISTRY.declare(
    "product.plan-subscription.change-requested", PLAN_SUBSCRIPTIONS, PlanChangeData
)
#: Stripe said the free trial ends in three days: the client is told before the first charge.
plan_subscription_trial_ending = REGISTRY.declare(
    "product.plan-subscription.trial-ending", PLAN_SUBSCRIPTIONS, PlanSubscriptionData
)
discount_code_created = REGISTRY.declare(
    "product.discount-code.created", DISCOUNT_CODES, DiscountCodeData
)
discount_code_archived = REGISTRY.declare(
    "product.discount-code.archived", DISCOUNT_CODES, DiscountCodeData
)
