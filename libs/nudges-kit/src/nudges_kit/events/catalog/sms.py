"""One SMS to send (the only way any part of Nudges sends a text), and what became of an
announcement's copies once sent (the sender tells UserApi, which owns the deliveries)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

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


ANNOUNCEMENT_OUTCOMES = "sms.announcement-outcomes"


class SendOutcome(BaseModel):
    """What became of one recipient's copy of an announcement."""

    subscriber_id: UUID
    #: ``queued`` (Twilio took it: ``message_sid`` and ``segments``), ``failed`` (Twilio
    #: refused it: ``error_code``), ``held_back`` (the recipient texted STOP: nothing sent) or
    #: ``held`` (quiet hours: it goes at ``held_until``, and its final outcome follows).
    outcome: Literal["queued", "failed", "held_back", "held"]
    message_sid: str | None = None
    segments: int | None = None
    error_code: str | None = None
    held_until: datetime | None = None


class AnnouncementOutcomesData(BaseModel):
    """The outcomes of a work item's sends (``sms.announcement-batch``), published by the
    sender once they are settled; UserApi records them as the announcement's deliveries."""

    announcement_id: UUID
    client_id: UUID
    outcomes: list[SendOutcome]


announcement_outcomes = REGISTRY.declare(
    "sms.announcement.outcomes", ANNOUNCEMENT_OUTCOMES, AnnouncementOutcomesData
)


#: What a number asked of Nudges by text, published by Webhooks (the SMS dialogue) and
#: handled by UserApi, which owns users and memberships. Keyed by the number's hash: one
#: number's LANG and YES stay in order.
OPT_INS = "sms.opt-ins"


class OptInConfirmedData(BaseModel):
    """YES to a pending ``JOIN``: the number joins the client (source ``sms``), its user
    created in ``locale`` when new. Handling it twice gives one membership."""

    client_id: UUID
    phone_hash: str
    #: The number, encrypted with the platform phone key (never in clear in an event).
    phone_ciphertext: str
    locale: str


class LocaleRequestedData(BaseModel):
    """``LANG <code>``: the language of the number's user, when Nudges has one."""

    phone_hash: str
    locale: str


opt_in_confirmed = REGISTRY.declare("sms.opt_in.confirmed", OPT_INS, OptInConfirmedData)
locale_requested = REGISTRY.declare("sms.locale.requested", OPT_INS, LocaleRequestedData)
