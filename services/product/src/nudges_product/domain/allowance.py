"""The message allowance of a client: what their plan grants per billing period, and what is
left of it; and the grace period of a past-due plan (SPEC §5): sending goes on for
``PAST_DUE_GRACE_DAYS`` from the first failed payment, then stops until a payment."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from nudges_kit.errors import BadInput
from nudges_product.domain.model import PlanFeatures, PlanSubscription

MAX_MESSAGES_PER_RECORD = 1_000_000
DEFAULT_GRACE_DAYS = 7

#: ``active``: paid; ``grace``: past due, still sending; ``lapsed``: past due beyond the grace
#: period; ``none``: no plan that grants messages (none yet, incomplete or canceled).
PlanState = Literal["active", "grace", "lapsed", "none"]


@dataclass(frozen=True)
class Standing:
    """Where a client's plan stands now, and when a grace period ends (None outside one)."""

    state: PlanState
    grace_ends_at: datetime | None = None
    grace_days_left: int | None = None


def standing(
    subscription: PlanSubscription | None, now: datetime, grace_days: int = DEFAULT_GRACE_DAYS
) -> Standing:
    """The plan's state at ``now``. A past-due plan is in grace for ``grace_days`` from its
    first failed payment; the days left count a started day as a whole one (1 on the last)."""
    if subscription is None or not subscription.grants_messages:
        return Standing("none")
    if subscription.status == "active":
        return Standing("active")
    since = subscription.past_due_since or subscription.updated_at
    ends = since + timedelta(days=grace_days)
    if now >= ends:
        return Standing("lapsed", grace_ends_at=ends, grace_days_left=0)
    return Standing("grace", ends, math.ceil((ends - now) / timedelta(days=1)))


@dataclass(frozen=True)
class Allowance:
    """``remaining`` is never negative; a client whose plan does not let them send (none, or
    past due beyond the grace period) has nothing remaining and ``active`` false."""

    active: bool
    messages_per_period: int
    used: int
    remaining: int
    period_start: datetime
    period_end: datetime | None
    standing: Standing = Standing("none")


def calendar_month(now: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar month around ``now``."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def usage_period(
    subscription: PlanSubscription | None, now: datetime
) -> tuple[datetime, datetime | None]:
    """The period usage counts towards: the billing period of a subscription that grants
    messages (kept until Stripe reports the next one), else the UTC calendar month."""
    if (
        subscription is not None
        and subscription.grants_messages
        and subscription.current_period_start is not None
    ):
        return subscription.current_period_start, subscription.current_period_end
    return calendar_month(now)


def compute_allowance(
    subscription: PlanSubscription | None,
    features: PlanFeatures | None,
    used: int,
    now: datetime,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> Allowance:
    """The allowance of a client with ``subscription`` (its plan's ``features``) who has sent
    ``used`` messages in the current period; sending is allowed while the plan is active or in
    its grace period."""
    start, end = usage_period(subscription, now)
    plan = standing(subscription, now, grace_days)
    active = plan.state in ("active", "grace") and features is not None
    allowed = features.messages_per_period if active and features is not None else 0
    return Allowance(
        active=active,
        messages_per_period=allowed,
        used=used,
        remaining=max(0, allowed - used),
        period_start=start,
        period_end=end,
        standing=plan,
    )


def messages_to_record(messages: int, idempotency_key: str) -> tuple[int, str]:
    """A usage record checked: a positive count and a non-empty key."""
    if not 1 <= messages <= MAX_MESSAGES_PER_RECORD:
        raise BadInput(f"messages must be 1 to {MAX_MESSAGES_PER_RECORD}", field="messages")
    key = idempotency_key.strip()
    if not key or len(key) > 200:
        raise BadInput("idempotencyKey must be 1 to 200 characters", field="idempotencyKey")
    return messages, key
