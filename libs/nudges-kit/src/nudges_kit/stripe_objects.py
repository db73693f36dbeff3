"""Reading Stripe objects as the pinned API version (``STRIPE_API_VERSION``) shapes them.

That version keeps a subscription's periods on its items, not on the subscription, and an
invoice's subscription under ``parent.subscription_details``, not ``invoice.subscription``.
Every service that reads Stripe's webhooks reads them through these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

#: Stripe subscription statuses in the words of ``plan_subscriptions.status``.
SUBSCRIPTION_STATUS = {
    "active": "active",
    "trialing": "active",
    "past_due": "past_due",
    "unpaid": "past_due",
    "incomplete": "incomplete",
    "incomplete_expired": "canceled",
    "canceled": "canceled",
    "paused": "past_due",
}


def moment(seconds: Any) -> datetime | None:
    """A Stripe timestamp (seconds since the epoch) as an aware datetime; None when absent."""
    return datetime.fromtimestamp(int(seconds), UTC) if seconds else None


def subscription_period(sub: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The subscription's current period, from its items. Nudges sells one price per
    subscription, so the first item's period is the subscription's."""
    items = (sub.get("items") or {}).get("data") or []
    if not items:
        return None, None
    return moment(items[0].get("current_period_start")), moment(items[0].get("current_period_end"))


def invoice_subscription(invoice: Mapping[str, Any]) -> Mapping[str, Any]:
    """``parent.subscription_details`` of an invoice (empty when a subscription did not
    bill it): its ``subscription`` id and the subscription's ``metadata``."""
    parent = invoice.get("parent") or {}
    if parent.get("type") != "subscription_details":
        return {}
    details: Mapping[str, Any] = parent.get("subscription_details") or {}
    return details


def billed_period(invoice: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The subscription period an invoice bills: its first line's ``period``."""
    lines = (invoice.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") or {}) if lines else {}
    return moment(period.get("start")), moment(period.get("end"))
