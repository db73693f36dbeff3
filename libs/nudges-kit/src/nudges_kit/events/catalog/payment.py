"""Events published by PaymentApi."""

from __future__ import annotations

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
