"""Webhooks settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from nudges_kit.settings import NudgesSettings


class WebhooksSettings(NudgesSettings):
    """Settings of the Webhooks service."""

    service_name: str = "webhooks"
    http_port: int = 4005
    stripe_webhook_secret: SecretStr = SecretStr("whsec_dev")
    #: How old a Stripe signature may be, in seconds (Stripe's own default).
    stripe_signature_tolerance: int = 300
    twilio_auth_token: SecretStr = SecretStr("dev-auth-token")
    #: The public base URL Twilio calls (it signs the full URL); empty: the URL as received.
    twilio_webhook_base_url: str = ""
    #: How long a Stripe event id is remembered as published, in seconds.
    stripe_dedupe_seconds: int = 7 * 24 * 3600

    production_required: ClassVar[tuple[str, ...]] = (
        *NudgesSettings.production_required,
        "stripe_webhook_secret",
        "twilio_auth_token",
        "twilio_webhook_base_url",
    )
