"""One SMS to send: the only way any part of Nudges sends a text."""

from __future__ import annotations

from pydantic import BaseModel

from nudges_kit.events import REGISTRY

OUTBOUND = "sms.outbound"


class OutboundSmsData(BaseModel):
    #: The recipient, encrypted with the platform phone key (never in clear in an event).
    to_ciphertext: str
    body: str
    idempotency_key: str
    status_callback: str | None = None


sms_outbound = REGISTRY.declare("sms.outbound", OUTBOUND, OutboundSmsData)
