"""Stripe events and Twilio status callbacks: verified, then published."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from nudges_kit.errors import BadInput
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import providers
from nudges_kit.logging import get_logger
from nudges_webhooks.adapters.publisher import EventPublisher, PublishedOnce, envelope_id_for

log = get_logger(__name__)


class MalformedEvent(BadInput):
    """A signed body that is not a Stripe event."""


def stripe_envelope(event: Mapping[str, Any]) -> Envelope:
    """The envelope of a Stripe event, keyed by the id of the object it is about."""
    try:
        obj = event["data"]["object"]
        data = providers.StripeEventData(
            stripe_event_id=str(event["id"]), stripe_type=str(event["type"]), object=dict(obj)
        )
        key = str(obj.get("id") or event["id"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedEvent(f"not a Stripe event: missing {exc}") from None
    return Envelope(
        id=envelope_id_for(f"stripe:{data.stripe_event_id}"),
        type=providers.stripe_event.name,
        version=providers.stripe_event.version,
        key=key,
        data=data.model_dump(mode="json"),
    )


async def receive_stripe_event(
    payload: bytes, publisher: EventPublisher, once: PublishedOnce
) -> bool:
    """Publish a verified Stripe event unless it was already; True when published now."""
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise MalformedEvent("the body is not JSON") from None
    if not isinstance(event, dict):
        raise MalformedEvent("the body is not a Stripe event")
    envelope = stripe_envelope(event)
    event_id = str(event["id"])
    if not await once.claim(event_id):
        log.info("stripe event already published", stripe_event_id=event_id)
        return False
    try:
        await publisher.publish(providers.stripe_event.topic, envelope)
    except BaseException:
        await once.release(event_id)
        raise
    await once.done(event_id)
    log.info("stripe event published", stripe_event_id=event_id, stripe_type=event["type"])
    return True


async def receive_twilio_status(params: Mapping[str, str], publisher: EventPublisher) -> None:
    """Publish a message status callback, keyed by the message sid."""
    sid = params.get("MessageSid") or params.get("SmsSid")
    status = params.get("MessageStatus") or params.get("SmsStatus")
    if not sid or not status:
        raise MalformedEvent("MessageSid and MessageStatus are required")
    data = providers.TwilioStatusData(
        message_sid=sid, status=status, error_code=params.get("ErrorCode") or None
    )
    envelope = Envelope(
        id=envelope_id_for(f"twilio:{sid}:{status}"),
        type=providers.twilio_status.name,
        version=providers.twilio_status.version,
        key=sid,
        data=data.model_dump(mode="json"),
    )
    await publisher.publish(providers.twilio_status.topic, envelope)
