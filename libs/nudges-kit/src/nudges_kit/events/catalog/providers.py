"""Events the Webhooks service publishes from Stripe and Twilio callbacks, once verified."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from nudges_kit.events import REGISTRY

STRIPE_EVENTS = "stripe.events"
TWILIO_STATUS = "twilio.status"


class StripeEventData(BaseModel):
    stripe_event_id: str
    stripe_type: str
    object: dict[str, Any]


class TwilioStatusData(BaseModel):
    message_sid: str
    status: str
    error_code: str | None = None


stripe_event = REGISTRY.declare("stripe.event", STRIPE_EVENTS, StripeEventData)
twilio_status = REGISTRY.declare("twilio.message.status", TWILIO_STATUS, TwilioStatusData)
