"""Rules of plan subscriptions: who may cancel, and how Stripe's news applies (late, repeated
and out-of-order deliveries converge on the same state)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from nudges_kit.errors import BadInput, Conflict, NotFound
from nudges_product.domain.model import (
    PLAN_SUBSCRIPTION_STATUSES,
    PlanSubscription,
    PlanSubscriptionStatus,
    PriceTier,
)


def subscription_status(value: str, field: str = "status") -> PlanSubscriptionStatus:
    """``value`` as a plan subscription status."""
    if value not in PLAN_SUBSCRIPTION_STATUSES:
        raise BadInput(
            f"{field} must be one of {', '.join(PLAN_SUBSCRIPTION_STATUSES)}", field=field
        )
    return value  # type: ignore[return-value]


def billing_period(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """A period whose end, when both are known, comes after its start."""
    for name, value in (("currentPeriodStart", start), ("currentPeriodEnd", end)):
        if value is not None and value.tzinfo is None:
            raise BadInput(f"{name} needs a time zone offset", field=name)
    if start is not None and end is not None and end <= start:
        raise BadInput(
            "currentPeriodEnd must come after currentPeriodStart", field="currentPeriodEnd"
        )
    return start, end


def stripe_id(value: str, field: str) -> str:
    """A Stripe object id: non-empty, no spaces."""
    stripped = value.strip()
    if not stripped or any(c.isspace() for c in stripped) or len(stripped) > 255:
        raise BadInput(f"{field} must be a Stripe id", field=field)
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


ProrationBehavior = Literal["always_invoice", "none"]


def request_plan_change(
    subscription: PlanSubscription, current: PriceTier, target: PriceTier, now: datetime
) -> tuple[PlanSubscription, ProrationBehavior]:
    """The subscription with a change to ``target`` pending, and how Stripe is to prorate it.

    An upgrade (a higher price) applies as soon as Stripe confirms the new price, the
    prorations invoiced and paid at once (``always_invoice``); a downgrade (any other price)
    applies at the end of the current period, Stripe billing the new price from the next one
    (``none``). During a free trial nothing was paid: either applies as soon as Stripe
    confirms it, without prorations, and the first charge is the new price. The tiers must
    share currency and interval (the prorations compare like with like)."""
    if subscription.status not in ("active",) or subscription.cancel_at_period_end:
        raise Conflict("only an active plan subscription that is not ending can change plan")
    if subscription.pending_price_tier_id is not None:
        raise Conflict("a plan change is already pending")
    if target.id == subscription.price_tier_id:
        raise Conflict("the subscription is on this price tier already")
    if target.status != "active" or target.stripe_price_id is None:
        raise NotFound("price tier not found")
    if (target.currency, target.interval) != (current.currency, current.interval):
        raise BadInput(
            "the new price tier must bill in the same currency and interval", field="priceTierId"
        )
    trialing = subscription.trial_ends_at is not None and now < subscription.trial_ends_at
    upgrade = target.amount > current.amount
    at_once = trialing or upgrade
    if not at_once and subscription.current_period_end is None:
        raise Conflict("the subscription has no billing period to end yet")
    changed = replace(
        subscription,
        pending_price_tier_id=target.id,
        pending_change_at=None if at_once else subscription.current_period_end,
        updated_at=now,
    )
    return changed, "always_invoice" if upgrade and not trialing else "none"


def withdraw_plan_change(subscription: PlanSubscription, now: datetime) -> PlanSubscription | None:
    """The subscription without its pending downgrade, or None when no change is pending
    (withdrawing twice changes nothing the second time).

    Only a downgrade waits for the period's end and can be withdrawn: an upgrade (or a change
    during a trial) is billed by Stripe as soon as it is asked, and a downgrade whose date has
    come is taking effect (Stripe already bills the new period at its price)."""
    if subscription.pending_price_tier_id is None:
        return None
    if subscription.status == "canceled":
        raise Conflict("the plan subscription is already canceled")
    at = subscription.pending_change_at
    if at is None:
        raise Conflict(
            "the plan change is billed as soon as Stripe confirms it: it cannot be withdrawn"
        )
    if at <= now:
        raise Conflict("the plan change is taking effect: it can no longer be withdrawn")
    return replace(subscription, pending_price_tier_id=None, pending_change_at=None, updated_at=now)


def _tier_after(
    current: PlanSubscription, news: SubscriptionNews, period_start: datetime | None
) -> tuple[UUID, UUID | None, datetime | None]:
    """The tier in force after the news, and the change still pending: a change at once (an
    upgrade) applies when news names its tier (Stripe bills it), a downgrade once a period
    starting at or after its date is reported."""
    pending, at = current.pending_price_tier_id, current.pending_change_at
    if pending is None:
        return current.price_tier_id, None, None
    if at is None and news.price_tier_id == pending:
        return pending, None, None
    if at is not None and period_start is not None and period_start >= at:
        return pending, None, None
    return current.price_tier_id, pending, at


#: Within one billing period, news of a higher rank wins whatever the order it arrives in:
#: the end is final, a paid period stays paid when a late failure of its invoice arrives, and
#: any news outranks "incomplete" (Stripe's first, pre-payment state).
STATUS_RANK: dict[PlanSubscriptionStatus, int] = {
    "incomplete": 0,
    "past_due": 1,
    "active": 2,
    "canceled": 3,
}


class UnknownSubscription(NotFound):
    """News about a Stripe subscription Nudges has not stored, which names no client or
    price tier to store it under."""


@dataclass(frozen=True)
class SubscriptionNews:
    """One thing Stripe said about a subscription, from any of the events that speak of it
    (a completed checkout, a paid or failed invoice, a subscription updated or deleted).
    None is "not said"."""

    stripe_subscription_id: str
    client_id: UUID | None = None
    price_tier_id: UUID | None = None
    status: PlanSubscriptionStatus | None = None
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool | None = None
    trial_ends_at: datetime | None = None
    #: A completed checkout says that the subscription exists and was paid, not how it is
    #: now: news stored before it (it may arrive last) is newer than it.
    only_when_new: bool = False


@dataclass(frozen=True)
class SubscriptionDecision:
    """``unchanged``: nothing to write or publish; ``activated``: a subscription to insert;
    otherwise the subscription to store, and whether it is an update or the end."""

    kind: Literal["unchanged", "activated", "updated", "canceled"]
    subscription: PlanSubscription


def _newer_period(news: SubscriptionNews, current: PlanSubscription) -> bool | None:
    """True when the news is about a later period than the stored one, False when about an
    earlier one, None when about the same one (or says no period)."""
    if news.current_period_end is None:
        return None
    if current.current_period_end is None or news.current_period_end > current.current_period_end:
        return True
    if news.current_period_end < current.current_period_end:
        return False
    return None


def past_due_since(
    since: datetime | None, status: PlanSubscriptionStatus, now: datetime
) -> datetime | None:
    """When the failing payments began: set by the first failure, kept while past due (each
    retry that fails again does not restart the grace period), cleared by a payment."""
    if status == "past_due":
        return since or now
    if status == "active":
        return None
    return since


def apply_news(
    current: PlanSubscription | None, news: SubscriptionNews, new_id: UUID, now: datetime
) -> SubscriptionDecision:
    """The subscription after ``news``, whatever order Stripe's events arrive in: the same
    news in any order ends in the same status and period.

    - Unknown until now: stored as the news says (``active`` unless it says otherwise),
      under the client and tier it names.
    - Canceled is final. A checkout's completion changes nothing already stored.
    - News of an earlier period than the stored one changes nothing; of a later one, it
      sets the period and status; of the same period, its status applies when it ranks at
      least as high as the stored one (:data:`STATUS_RANK`).
    - ``cancel_at_period_end`` follows the latest news that says it.
    - ``past_due_since`` is set by the first failure and cleared by a payment.
    - A pending plan change applies as :func:`_tier_after` says.
    """
    if current is None:
        if news.client_id is None or news.price_tier_id is None:
            raise UnknownSubscription(
                f"subscription {news.stripe_subscription_id} is not stored and the news"
                " names no client and price tier"
            )
        start, end = billing_period(news.current_period_start, news.current_period_end)
        created = PlanSubscription(
            id=new_id,
            client_id=news.client_id,
            price_tier_id=news.price_tier_id,
            status=news.status or "active",
            current_period_start=start,
            current_period_end=end,
            stripe_subscription_id=news.stripe_subscription_id,
            cancel_at_period_end=bool(news.cancel_at_period_end),
            created_at=now,
            updated_at=now,
            past_due_since=past_due_since(None, news.status or "active", now),
            trial_ends_at=news.trial_ends_at,
        )
        return SubscriptionDecision("activated", created)
    if current.status == "canceled" or news.only_when_new:
        return SubscriptionDecision("unchanged", current)
    newer = _newer_period(news, current)
    if newer is False and news.status != "canceled":
        return SubscriptionDecision("unchanged", current)
    status: PlanSubscriptionStatus = current.status
    if news.status is not None and (newer or STATUS_RANK[news.status] >= STATUS_RANK[status]):
        status = news.status
    start, end = current.current_period_start, current.current_period_end
    if newer:
        start, end = news.current_period_start, news.current_period_end
    elif start is None and newer is None:
        start = news.current_period_start
    tier, pending, pending_at = _tier_after(current, news, start)
    updated = replace(
        current,
        price_tier_id=tier,
        pending_price_tier_id=pending,
        pending_change_at=pending_at,
        trial_ends_at=news.trial_ends_at or current.trial_ends_at,
        status=status,
        current_period_start=start,
        current_period_end=end,
        cancel_at_period_end=current.cancel_at_period_end
        if news.cancel_at_period_end is None
        else news.cancel_at_period_end,
        past_due_since=past_due_since(current.past_due_since, status, now),
    )
    if updated == current:
        return SubscriptionDecision("unchanged", current)
    updated = replace(updated, updated_at=now)
    return SubscriptionDecision("canceled" if updated.status == "canceled" else "updated", updated)
