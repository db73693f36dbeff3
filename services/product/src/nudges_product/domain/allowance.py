"""The message allowance of a client: what their plan grants per billing period, and what is
left of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from nudges_kit.errors import BadInput
from nudges_product.domain.model import PlanFeatures, PlanSubscription

MAX_MESSAGES_PER_RECORD = 1_000_000


@dataclass(frozen=True)
class Allowance:
    """``remaining`` is never negative; a client without a subscription that grants messages
    (active, or past due while Stripe retries) has nothing remaining."""

    active: bool
    messages_per_period: int
    used: int
    remaining: int
    period_start: datetime
    period_end: datetime | None


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
) -> Allowance:
    """The allowance of a client with ``subscription`` (its plan's ``features``) who has sent
    ``used`` messages in the current period."""
    start, end = usage_period(subscription, now)
    active = subscription is not None and subscription.grants_messages and features is not None
    allowed = features.messages_per_period if active and features is not None else 0
    return Allowance(
        active=active,
        messages_per_period=allowed,
        used=used,
        remaining=max(0, allowed - used),
        period_start=start,
        period_end=end,
    )


def messages_to_record(messages: int, idempotency_key: str) -> tuple[int, str]:
    """A usage record checked: a positive count and a non-empty key."""
    if not 1 <= messages <= MAX_MESSAGES_PER_RECORD:
        raise BadInput(f"messages must be 1 to {MAX_MESSAGES_PER_RECORD}", field="messages")
    key = idempotency_key.strip()
    if not key or len(key) > 200:
        raise BadInput("idempotencyKey must be 1 to 200 characters", field="idempotencyKey")
    return messages, key
