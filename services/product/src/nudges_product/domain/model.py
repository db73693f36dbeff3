"""The things ProductApi owns, as plain immutable values (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

SupportTier = Literal["basic", "standard", "premium"]
BillingInterval = Literal["week", "month", "year"]
PriceTierStatus = Literal["active", "inactive", "archived"]
PlanSubscriptionStatus = Literal["incomplete", "active", "past_due", "canceled"]
DiscountDuration = Literal["once", "repeating", "forever"]

SUPPORT_TIERS: tuple[SupportTier, ...] = ("basic", "standard", "premium")
BILLING_INTERVALS: tuple[BillingInterval, ...] = ("week", "month", "year")
PLAN_SUBSCRIPTION_STATUSES: tuple[PlanSubscriptionStatus, ...] = (
    "incomplete",
    "active",
    "past_due",
    "canceled",
)
DISCOUNT_DURATIONS: tuple[DiscountDuration, ...] = ("once", "repeating", "forever")


@dataclass(frozen=True)
class PlanFeatures:
    """What a plan gives a client each billing period."""

    messages_per_period: int
    support_tier: SupportTier
    ai_assist: bool


@dataclass(frozen=True)
class Plan:
    """A product a client can subscribe to; archived plans have ``active`` false."""

    id: UUID
    name: str
    description: str
    icon_url: str | None
    active: bool
    stripe_product_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PriceTier:
    """One price of a plan. Amount, currency and interval never change once created: a
    new price is a new version (``replaces_price_tier_id``), as Stripe prices are immutable."""

    id: UUID
    plan_id: UUID
    name: str
    amount: int
    currency: str
    interval: BillingInterval
    status: PriceTierStatus
    version: int
    replaces_price_tier_id: UUID | None
    stripe_price_id: str | None
    created_at: datetime
    updated_at: datetime
    #: Days of free trial a checkout of this tier starts with (0: none).
    trial_days: int = 0


@dataclass(frozen=True)
class PlanSubscription:
    """A client's Stripe subscription to one price tier."""

    id: UUID
    client_id: UUID
    price_tier_id: UUID
    status: PlanSubscriptionStatus
    current_period_start: datetime | None
    current_period_end: datetime | None
    stripe_subscription_id: str
    cancel_at_period_end: bool
    created_at: datetime
    updated_at: datetime
    #: When the payments began to fail (the first failure since the last payment); None
    #: unless past due. The grace period of sending runs from it.
    past_due_since: datetime | None = None
    #: A plan change asked for and not in force yet: the tier it moves to, and from when
    #: (None: as soon as Stripe confirms the new price, an upgrade; the period's end, a
    #: downgrade).
    pending_price_tier_id: UUID | None = None
    pending_change_at: datetime | None = None
    #: The end of the free trial the subscription started with, if it had one.
    trial_ends_at: datetime | None = None

    @property
    def grants_messages(self) -> bool:
        """True while the subscription has a billing period to count usage in: active, or past
        due (whether the client may still send is the grace period's, :mod:`.allowance`)."""
        return self.status in ("active", "past_due")


@dataclass(frozen=True)
class DiscountCode:
    """A code a client enters at checkout: a percentage or a fixed amount off."""

    id: UUID
    code: str
    percent_off: int | None
    amount_off: int | None
    currency: str | None
    duration: DiscountDuration
    duration_in_months: int | None
    max_redemptions: int | None
    expires_at: datetime | None
    stripe_coupon_id: str | None
    stripe_promotion_code_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
