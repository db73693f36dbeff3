"""Stripe emulator settings, from environment variables."""

from __future__ import annotations

from pydantic import SecretStr

from nudges_kit.settings import NudgesSettings


class StripeEmulatorSettings(NudgesSettings):  # type: ignore[misc]  # kit: no py.typed
    """Where the emulator listens, where it sends webhooks and how it signs them."""

    service_name: str = "stripe-emulator"
    http_port: int = 12111

    #: The receiver of every event (the webhooks service); empty sends nothing.
    stripe_webhook_url: str = "http://127.0.0.1:4005/webhooks/stripe"
    #: The endpoint secret the receiver verifies ``Stripe-Signature`` with.
    stripe_webhook_secret: SecretStr = SecretStr("whsec_dev")
    stripe_webhook_max_attempts: int = 8
    stripe_webhook_retry_seconds: float = 1.0
    stripe_webhook_timeout_seconds: float = 10.0
    #: When set, only this API key is accepted; otherwise any key is.
    stripe_emulator_api_key: SecretStr = SecretStr("")
    #: The base URL browsers reach the emulator at (hosted checkout links); default: the
    #: address the API request came in on.
    stripe_emulator_public_url: str = ""
    #: How long a checkout session stays open, in seconds (Stripe: 24 hours).
    stripe_checkout_session_ttl_seconds: int = 24 * 3600
    #: The file the emulator keeps its objects, events and idempotency keys in across
    #: restarts (``nudges-dev up``: ``.nudges/stripe-emulator.json``); empty: memory only.
    stripe_emulator_state_file: str = ""
