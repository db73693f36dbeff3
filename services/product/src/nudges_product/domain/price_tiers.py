"""Rules of price tiers, and the versioning decision: Stripe prices are immutable, so a new
amount, currency or interval is a new tier version that replaces (and archives) the old."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from nudges_kit.errors import BadInput, Conflict
from nudges_product.domain import money
from nudges_product.domain.model import BILLING_INTERVALS, BillingInterval, PriceTier
from nudges_product.domain.plans import plan_name


def billing_interval(value: str, field: str = "interval") -> BillingInterval:
    """``value`` as a billing interval."""
    if value not in BILLING_INTERVALS:
        raise BadInput(f"{field} must be one of {', '.join(BILLING_INTERVALS)}", field=field)
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class PriceTierTerms:
    """A new tier's name and price, validated."""

    name: str
    amount: int
    currency: str
    interval: BillingInterval
    trial_days: int = 0

    @classmethod
    def checked(
        cls, name: str, amount: int, currency: str, interval: str, trial_days: int = 0
    ) -> PriceTierTerms:
        return cls(
            name=plan_name(name),
            amount=money.amount(amount),
            currency=money.currency(currency),
            interval=billing_interval(interval),
            trial_days=trial_period_days(trial_days),
        )


#: Stripe's longest trial a Checkout Session accepts (``subscription_data.trial_period_days``).
MAX_TRIAL_DAYS = 730


def trial_period_days(value: int, field: str = "trialDays") -> int:
    """Days of free trial: 0 (none) to :data:`MAX_TRIAL_DAYS`."""
    if not 0 <= value <= MAX_TRIAL_DAYS:
        raise BadInput(f"{field} must be between 0 and {MAX_TRIAL_DAYS}", field=field)
    return value


@dataclass(frozen=True)
class PriceTierChanges:
    """What an admin asked to change on a tier; None leaves a value as it is."""

    name: str | None = None
    amount: int | None = None
    currency: str | None = None
    interval: str | None = None
    trial_days: int | None = None


@dataclass(frozen=True)
class TierDecision:
    """The outcome of an update.

    ``unchanged``: nothing to write. ``renamed``: ``tier`` is the same tier with a new name
    or trial (neither is part of Stripe's price: the trial is given at checkout).
    ``new_version``: ``tier`` is a new tier replacing ``archived``, the old one archived.
    """

    kind: Literal["unchanged", "renamed", "new_version"]
    tier: PriceTier
    archived: PriceTier | None = None


def decide_tier_update(
    current: PriceTier, changes: PriceTierChanges, new_id: UUID, now: datetime
) -> TierDecision:
    """Rename in place (or change the trial, which applies to later checkouts), or version
    the tier when its price changes."""
    if current.status == "archived":
        raise Conflict("an archived price tier cannot change; create a new tier")
    name = plan_name(changes.name) if changes.name is not None else current.name
    amount = money.amount(changes.amount) if changes.amount is not None else current.amount
    currency = (
        money.currency(changes.currency) if changes.currency is not None else current.currency
    )
    interval = (
        billing_interval(changes.interval) if changes.interval is not None else current.interval
    )
    trial_days = (
        trial_period_days(changes.trial_days)
        if changes.trial_days is not None
        else current.trial_days
    )
    if (amount, currency, interval) != (current.amount, current.currency, current.interval):
        new_tier = PriceTier(
            id=new_id,
            plan_id=current.plan_id,
            name=name,
            amount=amount,
            currency=currency,
            interval=interval,
            status="active",
            version=current.version + 1,
            replaces_price_tier_id=current.id,
            stripe_price_id=None,
            created_at=now,
            updated_at=now,
            trial_days=trial_days,
        )
        archived = replace(current, status="archived", updated_at=now)
        return TierDecision("new_version", new_tier, archived)
    if (name, trial_days) != (current.name, current.trial_days):
        renamed = replace(current, name=name, trial_days=trial_days, updated_at=now)
        return TierDecision("renamed", renamed)
    return TierDecision("unchanged", current)
