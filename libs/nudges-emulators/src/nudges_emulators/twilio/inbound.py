"""A phone texting the Nudges number: the request Twilio makes to the SMS webhook, signed,
and the TwiML reply read back."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import httpx
import phonenumbers

from nudges_emulators.twilio.messages import API_VERSION, Message, segments
from nudges_emulators.twilio.signature import twilio_signature

#: Twilio's default opt-out and opt-in keywords (Advanced Opt-Out).
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})


def _country(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""


def inbound_params(message: Message, messaging_service_sid: str | None = None) -> dict[str, str]:
    """The form parameters of an incoming-message webhook, as Twilio sends them."""
    params = {
        "ToCountry": _country(message.to),
        "ToState": "",
        "SmsMessageSid": message.sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": message.sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": message.body,
        "FromCountry": _country(message.from_ or ""),
        "To": message.to,
        "ToZip": "",
        "NumSegments": str(segments(message.body)),
        "MessageSid": message.sid,
        "AccountSid": message.account_sid,
        "From": message.from_ or "",
        "ApiVersion": API_VERSION,
    }
    if messaging_service_sid:
        params["MessagingServiceSid"] = messaging_service_sid
    return params


async def deliver(
    client: httpx.AsyncClient, url: str, params: dict[str, str], auth_token: str
) -> httpx.Response:
    """POST the webhook once, as Twilio does (it does not retry incoming messages)."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(url, params, auth_token),
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        "User-Agent": "TwilioProxy/1.1",
    }
    return await client.post(url, content=urlencode(params).encode(), headers=headers)


def twiml_replies(twiml: str) -> list[str]:
    """The texts of the ``<Message>`` verbs of a TwiML response (``<Message>text</Message>``
    or ``<Message><Body>text</Body></Message>``); none when it is not TwiML."""
    try:
        # The TwiML comes from the Nudges webhook this emulator serves in development.
        root = ET.fromstring(twiml)  # noqa: S314
    except ET.ParseError:
        return []
    replies = []
    for verb in root.iter("Message"):
        body = verb.find("Body")
        text = body.text if body is not None else verb.text
        replies.append((text or "").strip())
    return replies
