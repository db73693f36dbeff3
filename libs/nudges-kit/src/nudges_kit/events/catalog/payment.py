"""Events published by PaymentApi."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from nudges_kit.events import REGISTRY

CHECKOUTS = "payment.checkouts"


class CheckoutCompletedData(BaseModel):
    checkout_session_id: UUID
    client_id: UUID
    price_tier_id: UUID
    stripe_session_id: str
    stripe_subscription_id: str | None = None


checkout_completed = REGISTRY.declare(
    "payment.checkout.completed", CHECKOUTS, CheckoutCompletedData
)


class InvoiceData(BaseModel):
    """A subscription's invoice, as Stripe reported it paid or failed. ``period_start`` and
    ``period_end`` are the billed period (the invoice's first line); ``price_tier_id`` is
    known when the subscription's metadata names it (checkouts opened by PaymentApi do)."""

    stripe_invoice_id: str
    stripe_subscription_id: str
    client_id: UUID
    price_tier_id: UUID | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    amount: int
    currency: str


#: Keyed by the Stripe subscription id: one subscription's invoices stay in order.
invoice_paid = REGISTRY.declare("payment.invoice.paid", CHECKOUTS, InvoiceData)
invoice_failed = REGISTRY.declare("payment.invoice.failed", CHECKOUTS, InvoiceData)
