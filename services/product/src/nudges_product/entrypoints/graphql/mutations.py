"""Root mutations: admins manage the catalogue, clients cancel their own plan, a service
records messages sent. What happens in Stripe arrives as events (``entrypoints/consumers.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from nudges_kit.graphql import context_of
from nudges_product.domain import plans as plan_rules
from nudges_product.domain.discounts import discount_terms
from nudges_product.domain.model import PlanFeatures
from nudges_product.domain.price_tiers import PriceTierChanges, PriceTierTerms
from nudges_product.entrypoints.graphql import access
from nudges_product.entrypoints.graphql.inputs import (
    CreateDiscountCodeInput,
    CreatePlanInput,
    CreatePriceTierInput,
    PlanFeaturesInput,
    UpdatePlanInput,
    UpdatePriceTierInput,
)
from nudges_product.entrypoints.graphql.loaders import pool_of
from nudges_product.entrypoints.graphql.types import (
    DiscountCode,
    Plan,
    PlanSubscription,
    PriceTier,
)
from nudges_product.service_layer import discounts, plans, subscriptions


def _given(value: Any) -> Any:
    """``value``, or None when the caller left it out."""
    return None if value is strawberry.UNSET else value


def _features(features: PlanFeaturesInput) -> PlanFeatures:
    return plan_rules.plan_features(
        features.messages_per_period, features.support_tier.value, features.ai_assist
    )


@strawberry.type
class Mutation:
    # --- admin: plans and price tiers -----------------------------------------------------

    @strawberry.mutation(description="Admin. Publishes product.plan.created.")
    async def create_plan(self, info: strawberry.Info, input: CreatePlanInput) -> Plan:
        context_of(info).require("admin")
        plan = await plans.create_plan(
            pool_of(info),
            name=input.name,
            description=input.description,
            icon_url=input.icon_url,
            features=_features(input.features),
        )
        return Plan.of(plan)

    @strawberry.mutation(description="Admin. Publishes product.plan.updated when a value changes.")
    async def update_plan(
        self, info: strawberry.Info, id: strawberry.ID, input: UpdatePlanInput
    ) -> Plan:
        context_of(info).require("admin")
        features = _given(input.features)
        icon = _given(input.icon_url)
        changes = plan_rules.PlanChanges(
            name=_given(input.name),
            description=_given(input.description),
            icon_url=icon,
            # iconUrl given as null or blank removes the icon
            clear_icon=input.icon_url is not strawberry.UNSET and not (icon or "").strip(),
            features=_features(features) if features is not None else None,
        )
        return Plan.of(await plans.update_plan(pool_of(info), access.parse_id(id), changes))

    @strawberry.mutation(description="Admin. Publishes product.plan.archived.")
    async def archive_plan(self, info: strawberry.Info, id: strawberry.ID) -> Plan:
        context_of(info).require("admin")
        return Plan.of(await plans.archive_plan(pool_of(info), access.parse_id(id)))

    @strawberry.mutation(
        description="Admin. Offers an archived plan again (its archived tiers stay archived:"
        " add tiers to sell it). Publishes product.plan.updated with active true."
    )
    async def reactivate_plan(self, info: strawberry.Info, id: strawberry.ID) -> Plan:
        context_of(info).require("admin")
        return Plan.of(await plans.reactivate_plan(pool_of(info), access.parse_id(id)))

    @strawberry.mutation(description="Admin. Publishes product.price-tier.created.")
    async def create_price_tier(
        self, info: strawberry.Info, plan_id: strawberry.ID, input: CreatePriceTierInput
    ) -> PriceTier:
        context_of(info).require("admin")
        terms = PriceTierTerms.checked(
            input.name, input.amount, input.currency, input.interval.value, input.trial_days
        )
        tier = await plans.create_price_tier(
            pool_of(info), access.parse_id(plan_id, "planId"), terms
        )
        return PriceTier.of(tier)

    @strawberry.mutation(
        description="Admin. A new price makes a new version (price-tier.created) and archives"
        " this one (price-tier.archived); a new name or trialDays alone changes it in place"
        " (price-tier.updated). Returns the tier now on offer."
    )
    async def update_price_tier(
        self, info: strawberry.Info, id: strawberry.ID, input: UpdatePriceTierInput
    ) -> PriceTier:
        context_of(info).require("admin")
        interval = _given(input.interval)
        changes = PriceTierChanges(
            name=_given(input.name),
            amount=_given(input.amount),
            currency=_given(input.currency),
            interval=interval.value if interval is not None else None,
            trial_days=_given(input.trial_days),
        )
        tier = await plans.update_price_tier(pool_of(info), access.parse_id(id), changes)
        return PriceTier.of(tier)

    @strawberry.mutation(description="Admin. Publishes product.price-tier.archived.")
    async def archive_price_tier(self, info: strawberry.Info, id: strawberry.ID) -> PriceTier:
        context_of(info).require("admin")
        return PriceTier.of(await plans.archive_price_tier(pool_of(info), access.parse_id(id)))

    # --- admin: discount codes ------------------------------------------------------------

    @strawberry.mutation(description="Admin.")
    async def create_discount_code(
        self, info: strawberry.Info, input: CreateDiscountCodeInput
    ) -> DiscountCode:
        context_of(info).require("admin")
        terms = discount_terms(
            code=input.code,
            percent_off=input.percent_off,
            amount_off=input.amount_off,
            currency=input.currency,
            duration=input.duration.value,
            duration_in_months=input.duration_in_months,
            max_redemptions=input.max_redemptions,
            expires_at=input.expires_at,
            now=datetime.now(UTC),
        )
        return DiscountCode.of(await discounts.create_discount_code(pool_of(info), terms))

    @strawberry.mutation(description="Admin.")
    async def archive_discount_code(self, info: strawberry.Info, id: strawberry.ID) -> DiscountCode:
        context_of(info).require("admin")
        found = await discounts.archive_discount_code(pool_of(info), access.parse_id(id))
        return DiscountCode.of(found)

    # --- the client (own subscription) or an admin --------------------------------------

    @strawberry.mutation(
        description="The subscription's client or an admin: ends it with its billing period."
        " Publishes product.plan-subscription.updated; the consumer tells Stripe."
    )
    async def cancel_plan_subscription(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> PlanSubscription:
        principal = context_of(info).require("client", "admin")
        subscription = await subscriptions.cancel_plan_subscription(
            pool_of(info),
            access.parse_id(id),
            client_id=access.client_id_of(principal),
            is_admin=principal.has_role("admin"),
        )
        return PlanSubscription.of(subscription)

    @strawberry.mutation(
        description="The subscription's client or an admin: moves it to another tier of the"
        " same currency and interval. An upgrade (a higher price) is billed at once with"
        " Stripe's prorations and applies when Stripe confirms it; a downgrade applies at the"
        " period's end (pendingPriceTier, pendingChangeAt until then)."
    )
    async def change_plan_subscription(
        self, info: strawberry.Info, id: strawberry.ID, price_tier_id: strawberry.ID
    ) -> PlanSubscription:
        principal = context_of(info).require("client", "admin")
        subscription = await subscriptions.change_plan_subscription(
            pool_of(info),
            access.parse_id(id),
            access.parse_id(price_tier_id, "priceTierId"),
            client_id=access.client_id_of(principal),
            is_admin=principal.has_role("admin"),
        )
        return PlanSubscription.of(subscription)

    @strawberry.mutation(
        description="The subscription's client or an admin: withdraws its pending downgrade"
        " before pendingChangeAt, so that it keeps its tier. Withdrawing when nothing is"
        " pending (again, say) returns the subscription unchanged; an upgrade (billed at"
        " once) or a change taking effect answers CONFLICT. Publishes"
        " product.plan-subscription.change-requested for the tier in force (the consumer"
        " moves Stripe back to its price) and product.plan-subscription.updated."
    )
    async def cancel_plan_change(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> PlanSubscription:
        principal = context_of(info).require("client", "admin")
        subscription = await subscriptions.cancel_plan_change(
            pool_of(info),
            access.parse_id(id),
            client_id=access.client_id_of(principal),
            is_admin=principal.has_role("admin"),
        )
        return PlanSubscription.of(subscription)
