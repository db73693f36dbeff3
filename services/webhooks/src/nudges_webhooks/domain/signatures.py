"""Signature checks of Stripe and Twilio requests, with the providers' own libraries."""

from __future__ import annotations

from collections.abc import Mapping

from stripe import SignatureVerificationError, WebhookSignature
from twilio.request_validator import RequestValidator

from nudges_kit.errors import Unauthenticated


class InvalidSignature(Unauthenticated):
    """The request was not signed by the provider (or not recently)."""


def verify_stripe(payload: bytes, header: str | None, secret: str, tolerance: int) -> None:
    """Raise :class:`InvalidSignature` unless ``Stripe-Signature`` signs ``payload``."""
    try:
        WebhookSignature.verify_header(payload, header, secret, tolerance)
    except SignatureVerificationError as exc:
        raise InvalidSignature(str(exc).split(".")[0]) from None
    except UnicodeDecodeError:
        # Stripe signs UTF-8 JSON: any other body is not from Stripe.
        raise InvalidSignature("the body is not UTF-8") from None


def verify_twilio(url: str, params: Mapping[str, str], signature: str | None, token: str) -> None:
    """Raise :class:`InvalidSignature` unless ``X-Twilio-Signature`` signs URL and params."""
    if not signature or not RequestValidator(token).validate(url, dict(params), signature):
        raise InvalidSignature("X-Twilio-Signature does not match")
