"""The data of the events ProductApi publishes, built from domain values.

Keys: plan events by plan id; price tier events by their plan's id (a new tier version and
the archiving of the one it replaces stay in order on one partition); plan subscription
events by client id (a client's cancellation and next activation stay in order).
"""

from __future__ import annotations

from nudges_kit.events.catalog.product import (
    DiscountCodeData,
    PlanData,
    PlanSubscriptionData,
    PriceTierData,
)
from nudges_product.domain.model import DiscountCode, Plan, PlanSubscription, PriceTier


def plan_data(plan: Plan) -> PlanData:
    return PlanData(
        plan_id=plan.id,
        name=plan.name,
        description=plan.description,
        active=plan.active,
        stripe_product_id=plan.stripe_product_id,
    )


def price_tier_data(tier: PriceTier) -> PriceTierData:
    return PriceTierData(
        price_tier_id=tier.id,
        plan_id=tier.plan_id,
        name=tier.name,
        amount=tier.amount,
        currency=tier.currency,
        interval=tier.interval,
        status=tier.status,
        stripe_price_id=tier.stripe_price_id,
        replaces_price_tier_id=tier.replaces_price_tier_id,
    )


def plan_subscription_data(subscription: PlanSubscription) -> PlanSubscriptionData:
    return PlanSubscriptionData(
        plan_subscription_id=subscription.id,
        client_id=subscription.client_id,
        price_tier_id=subscription.price_tier_id,
        status=subscription.status,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        stripe_subscription_id=subscription.stripe_subscription_id,
        pending_price_tier_id=subscription.pending_price_tier_id,
        pending_change_at=subscription.pending_change_at,
        trial_ends_at=subscription.trial_ends_at,
    )


def discount_code_data(discount: DiscountCode) -> DiscountCodeData:
    return DiscountCodeData(
        discount_code_id=discount.id,
        code=discount.code,
        percent_off=discount.percent_off,
        amount_off=discount.amount_off,
        currency=discount.currency,
        duration=discount.duration,
        duration_in_months=discount.duration_in_months,
        max_redemptions=discount.max_redemptions,
        expires_at=discount.expires_at,
        active=discount.active,
        stripe_coupon_id=discount.stripe_coupon_id,
        stripe_promotion_code_id=discount.stripe_promotion_code_id,
    )
