"""Webhooks settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from nudges_kit.settings import REQUIRES_BROKER, REQUIRES_PHONES, NudgesSettings


class WebhooksSettings(NudgesSettings):
    """Settings of the Webhooks service."""

    service_name: str = "webhooks"
    http_port: int = 4005
    #: Stripe events and Twilio callbacks are a few kilobytes; nothing larger is read.
    max_request_body_bytes: int = Field(default=256 * 1024, ge=1)
    stripe_webhook_secret: SecretStr = SecretStr("whsec_dev")
    #: How old a Stripe signature may be, in seconds (Stripe's own default).
    stripe_signature_tolerance: int = 300
    twilio_auth_token: SecretStr = SecretStr("dev-auth-token")
    #: The public base URL Twilio calls (it signs the full URL); empty: the URL as received.
    twilio_webhook_base_url: str = ""
    #: How long a Stripe event id is remembered as published, in seconds.
    stripe_dedupe_seconds: int = 7 * 24 * 3600

    # The SMS dialogue.
    user_url: str = "http://127.0.0.1:4002/graphql"
    product_url: str = "http://127.0.0.1:4003/graphql"
    #: Where the ``webhooks`` machine account gets its tokens (client credentials).
    auth_token_url: str = "http://127.0.0.1:4001/auth/token"  # noqa: S105 - a URL
    service_client_id: str = "webhooks"
    service_client_secret: SecretStr = SecretStr("dev-only-webhooks-secret")
    #: Seconds of one call to a subgraph (or the token endpoint) from the dialogue.
    subgraph_timeout: float = 2.0
    #: Seconds of one call to WarpCache or LocalizationApi from the dialogue.
    dialogue_call_timeout: float = 1.0
    #: The dialogue answers within this many seconds, else says "try again" (Twilio waits 15).
    dialogue_deadline_seconds: float = 8.0
    #: How long a client's draft waits for CONFIRM.
    draft_ttl_seconds: int = 3600
    #: How long after a CONFIRM another CONFIRM is answered "already confirmed" (quoting it).
    confirmed_window_seconds: int = Field(default=600, ge=1)
    #: How long a JOIN waits for its YES (the double opt-in).
    opt_in_ttl_seconds: int = Field(default=24 * 3600, ge=1)
    #: How long after a YES another YES is answered as the first (the same membership).
    joined_window_seconds: int = Field(default=3600, ge=1)
    #: The languages Nudges texts in (LocalizationApi's catalogs): what LANG accepts, and
    #: what a number's country may choose.
    supported_locales: tuple[str, ...] = ("en", "es", "fr", "de")

    production_required: ClassVar[tuple[str, ...]] = (
        *REQUIRES_BROKER,
        *REQUIRES_PHONES,
        "warpcache_url",
        "localization_url",
        "stripe_webhook_secret",
        "twilio_auth_token",
        "twilio_webhook_base_url",
        "user_url",
        "product_url",
        "auth_token_url",
        "service_client_secret",
        "warpcache_token",
    )
