"""Stripe through the official library (the emulator in development: only the base differs)."""

from __future__ import annotations

import stripe

from nudges_consumers.settings import ConsumersSettings
from nudges_kit.stripe_version import STRIPE_API_VERSION


def stripe_client(settings: ConsumersSettings) -> stripe.StripeClient:
    """A Stripe client for the configured API base, speaking the pinned API version."""
    return stripe.StripeClient(
        settings.stripe_api_key.get_secret_value(),
        stripe_version=STRIPE_API_VERSION,
        base_addresses={"api": settings.stripe_api_base},
        max_network_retries=2,
        http_client=stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds),
    )
