"""A Stripe invoice as PaymentApi reads it: plain values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from nudges_kit.stripe_objects import billed_period, invoice_subscription, moment


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class StripeInvoice:
    """What an ``invoice.paid`` or ``invoice.payment_failed`` event says, in our words."""

    stripe_invoice_id: str
    #: None when no subscription billed the invoice (Nudges sells only subscriptions).
    stripe_subscription_id: str | None
    #: The client the invoice's or its subscription's metadata names, when one does.
    client_id: UUID | None
    price_tier_id: UUID | None
    customer_id: str | None
    amount_paid: int
    amount_due: int
    currency: str
    period_start: datetime | None
    period_end: datetime | None
    paid_at: datetime | None

    @classmethod
    def of(cls, invoice: Mapping[str, Any]) -> StripeInvoice:
        """Read ``invoice`` (the pinned API version's shape)."""
        details = invoice_subscription(invoice)
        holders = [invoice.get("metadata") or {}, details.get("metadata") or {}]
        client_id = next((c for h in holders if (c := _uuid(h.get("client_id")))), None)
        tier_id = next((t for h in holders if (t := _uuid(h.get("price_tier_id")))), None)
        start, end = billed_period(invoice)
        subscription = details.get("subscription")
        customer = invoice.get("customer")
        return cls(
            stripe_invoice_id=str(invoice["id"]),
            stripe_subscription_id=str(subscription) if subscription else None,
            client_id=client_id,
            price_tier_id=tier_id,
            customer_id=str(customer) if customer else None,
            amount_paid=int(invoice.get("amount_paid") or 0),
            amount_due=int(invoice.get("amount_due") or 0),
            currency=str(invoice.get("currency") or "usd").lower(),
            period_start=start,
            period_end=end,
            paid_at=moment(
                (invoice.get("status_transitions") or {}).get("paid_at") or invoice.get("created")
            ),
        )


def client_of_metadata(metadata: Mapping[str, Any]) -> UUID | None:
    """The client a Stripe object's metadata names (``client_id``), when it names one."""
    return _uuid(metadata.get("client_id"))
