"""Rules of plan subscriptions: who may cancel, and how Stripe's updates apply (late and
repeated deliveries change nothing)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from nudges_product.domain.errors import Conflict, InvalidInput
from nudges_product.domain.model import (
    PLAN_SUBSCRIPTION_STATUSES,
    PlanSubscription,
    PlanSubscriptionStatus,
)


def subscription_status(value: str, field: str = "status") -> PlanSubscriptionStatus:
    """``value`` as a plan subscription status."""
    if value not in PLAN_SUBSCRIPTION_STATUSES:
        raise InvalidInput(field, f"{field} must be one of {', '.join(PLAN_SUBSCRIPTION_STATUSES)}")
    return value  # type: ignore[return-value]


def billing_period(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """A period whose end, when both are known, comes after its start."""
    for name, value in (("currentPeriodStart", start), ("currentPeriodEnd", end)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(name, f"{name} needs a time zone offset")
    if start is not None and end is not None and end <= start:
        raise InvalidInput(
            "currentPeriodEnd", "currentPeriodEnd must come after currentPeriodStart"
        )
    return start, end


def stripe_id(value: str, field: str) -> str:
    """A Stripe object id: non-empty, no spaces."""
    stripped = value.strip()
    if not stripped or any(c.isspace() for c in stripped) or len(stripped) > 255:
        raise InvalidInput(field, f"{field} must be a Stripe id")
    return stripped


def may_cancel(subscription: PlanSubscription, client_id: UUID | None, is_admin: bool) -> bool:
    """Admins may cancel any subscription; a client only their own."""
    return is_admin or (client_id is not None and client_id == subscription.client_id)


def request_cancellation(subscription: PlanSubscription, now: datetime) -> PlanSubscription | None:
    """The subscription set to end with its period, or None when it already is."""
    if subscription.status == "canceled":
        raise Conflict("the plan subscription is already canceled")
    if subscription.cancel_at_period_end:
        return None
    return replace(subscription, cancel_at_period_end=True, updated_at=now)


@dataclass(frozen=True)
class StripeSubscriptionState:
    """What Stripe says about a subscription now; None is "not said"."""

    status: PlanSubscriptionStatus | None = None
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool | None = None


@dataclass(frozen=True)
class SubscriptionDecision:
    """``unchanged``: nothing to write or publish; otherwise the subscription to store and
    whether it is an update or the cancellation."""

    kind: Literal["unchanged", "updated", "canceled"]
    subscription: PlanSubscription


def apply_stripe_state(
    current: PlanSubscription, state: StripeSubscriptionState, now: datetime
) -> SubscriptionDecision:
    """Apply Stripe's view. Canceled is final in Stripe, and an update about an earlier billing
    period than the one stored arrived out of order: both leave the subscription as it is."""
    if current.status == "canceled":
        return SubscriptionDecision("unchanged", current)
    if (
        state.current_period_end is not None
        and current.current_period_end is not None
        and state.current_period_end < current.current_period_end
    ):
        return SubscriptionDecision("unchanged", current)
    updated = replace(
        current,
        status=state.status or current.status,
        current_period_start=state.current_period_start or current.current_period_start,
        current_period_end=state.current_period_end or current.current_period_end,
        cancel_at_period_end=current.cancel_at_period_end
        if state.cancel_at_period_end is None
        else state.cancel_at_period_end,
    )
    if updated == current:
        return SubscriptionDecision("unchanged", current)
    updated = replace(updated, updated_at=now)
    return SubscriptionDecision("canceled" if updated.status == "canceled" else "updated", updated)
