"""The pieces that must match Stripe and Twilio byte for byte, checked against the official
libraries, and the form decoding the Stripe library relies on."""

from __future__ import annotations

import stripe
from twilio.request_validator import RequestValidator

from nudges_emulators.forms import parse_nested
from nudges_emulators.stripe.billing import add_interval
from nudges_emulators.stripe.webhooks import stripe_signature
from nudges_emulators.twilio.messages import segments
from nudges_emulators.twilio.signature import twilio_signature


def test_nested_form_keys_become_objects_and_arrays() -> None:
    pairs = [
        ("metadata[client_id]", "42"),
        ("metadata[0]", "zero"),
        ("line_items[0][price]", "price_a"),
        ("line_items[0][quantity]", "2"),
        ("line_items[1][price]", "price_b"),
        ("recurring[interval]", "month"),
        ("expand[]", "customer"),
        ("expand[]", "subscription"),
        ("email", "a@example.com"),
    ]
    assert parse_nested(pairs) == {
        "metadata": {"client_id": "42", "0": "zero"},
        "line_items": [{"price": "price_a", "quantity": "2"}, {"price": "price_b"}],
        "recurring": {"interval": "month"},
        "expand": ["customer", "subscription"],
        "email": "a@example.com",
    }


def test_stripe_signature_verifies_with_the_stripe_library() -> None:
    payload = b'{"id": "evt_1", "object": "event", "type": "customer.created"}'
    header = stripe_signature(payload, "whsec_x")
    assert stripe.WebhookSignature.verify_header(payload.decode(), header, "whsec_x")


def test_twilio_signature_matches_the_twilio_validator() -> None:
    url = "http://127.0.0.1:4005/webhooks/twilio/status?x=1"
    params = {"MessageSid": "SM1", "MessageStatus": "sent", "To": "+14155550123", "Body": "a b"}
    signature = twilio_signature(url, params, "token")
    assert signature == RequestValidator("token").compute_signature(url, params)
    assert RequestValidator("token").validate(url, params, signature)


def test_segments_count_gsm7_and_ucs2() -> None:
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("€" * 80) == 1  # extension characters take two septets
    assert segments("€" * 81) == 2
    assert segments("ñ" * 160) == 1  # ñ is in the GSM-7 alphabet
    assert segments("ś" * 70) == 1  # ś is not: UCS-2
    assert segments("ś" * 71) == 2


def test_monthly_periods_clamp_to_the_end_of_the_month() -> None:
    jan_31 = 1706659200  # 2024-01-31T00:00:00Z
    assert add_interval(jan_31, "month") == 1709164800  # 2024-02-29
    assert add_interval(jan_31, "year") == 1738281600  # 2025-01-31
    assert add_interval(jan_31, "week") == jan_31 + 7 * 86400
