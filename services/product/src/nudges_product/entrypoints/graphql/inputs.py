"""Inputs of the mutations. Omitted optional fields leave values as they are."""

from __future__ import annotations

from datetime import datetime

import strawberry

from nudges_product.entrypoints.graphql.types import (
    BillingInterval,
    DiscountDuration,
    SupportTier,
)


@strawberry.input
class PlanFeaturesInput:
    messages_per_period: int
    support_tier: SupportTier
    ai_assist: bool = False


@strawberry.input
class CreatePlanInput:
    name: str
    description: str = ""
    icon_url: str | None = None
    features: PlanFeaturesInput


@strawberry.input(description="Omitted fields stay as they are; iconUrl null removes the icon.")
class UpdatePlanInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    icon_url: str | None = strawberry.UNSET
    features: PlanFeaturesInput | None = strawberry.UNSET


@strawberry.input
class CreatePriceTierInput:
    name: str
    amount: int = strawberry.field(description="Minor units (cents); at least 0.")
    currency: str = strawberry.field(description="ISO 4217 code, either case.")
    interval: BillingInterval
    trial_days: int = strawberry.field(
        default=0, description="Days of free trial a checkout starts with (0: none)."
    )


@strawberry.input(
    description="A new amount, currency or interval creates a new tier version and archives"
    " this one; a new name or trialDays alone changes it in place."
)
class UpdatePriceTierInput:
    name: str | None = strawberry.UNSET
    amount: int | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    interval: BillingInterval | None = strawberry.UNSET
    trial_days: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Days of free trial later checkouts start with (0: none); subscriptions"
        " already started keep theirs.",
    )


@strawberry.input(description="Exactly one of percentOff and amountOff (with currency).")
class CreateDiscountCodeInput:
    code: str
    percent_off: int | None = None
    amount_off: int | None = None
    currency: str | None = None
    duration: DiscountDuration
    duration_in_months: int | None = None
    max_redemptions: int | None = None
    expires_at: datetime | None = None
