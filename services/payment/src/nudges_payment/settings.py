"""PaymentApi settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from nudges_kit.settings import (
    REQUIRES_BROKER,
    REQUIRES_DATABASE,
    REQUIRES_TOKENS,
    NudgesSettings,
)


class PaymentSettings(NudgesSettings):
    """Settings of PaymentApi."""

    service_name: str = "payment"
    http_port: int = 4004
    database_name: str = "paymentdb"

    #: Secret key of the Stripe account (any key works against the emulator).
    stripe_api_key: SecretStr = SecretStr("sk_test_nudges_dev")
    #: Base URL of the Stripe API: the emulator in development, ``https://api.stripe.com``
    #: in production.
    stripe_api_base: str = "http://127.0.0.1:12111"
    stripe_timeout_seconds: float = 20.0
    #: Retries of failed Stripe calls (safe: every call carries an idempotency key).
    stripe_max_network_retries: int = 2

    #: Where Stripe sends the payer after paying; Stripe fills in ``{CHECKOUT_SESSION_ID}``.
    checkout_success_url: str = (
        "http://127.0.0.1:5174/checkout/success?session_id={CHECKOUT_SESSION_ID}"
    )
    #: Where Stripe sends the payer who gives up.
    checkout_cancel_url: str = (
        "http://127.0.0.1:5174/checkout/cancel?session_id={CHECKOUT_SESSION_ID}"
    )

    #: ProductApi's GraphQL endpoint, asked for a price tier's Stripe price and status.
    product_url: str = "http://127.0.0.1:4003/graphql"
    #: UserApi's GraphQL endpoint, asked for a client's Stripe customer.
    user_url: str = "http://127.0.0.1:4002/graphql"
    subgraph_timeout_seconds: float = 5.0
    #: A fixed bearer token (role ``service``) for calls to ProductApi and UserApi. When
    #: empty, PaymentApi's machine account gets its tokens from ``auth_token_url`` (client
    #: credentials); with that empty too, the caller's own token is forwarded, which the
    #: Stripe id fields refuse to anyone but staff.
    service_token: SecretStr = SecretStr("")
    #: The ``payment`` machine account's secret: its token registers the subgraph.
    service_client_secret: SecretStr = SecretStr("dev-only-payment-secret")

    production_required: ClassVar[tuple[str, ...]] = (
        *REQUIRES_DATABASE,
        *REQUIRES_BROKER,
        *REQUIRES_TOKENS,
        "registry_url",
        "subgraph_url",
        "stripe_api_key",
        "stripe_api_base",
        "checkout_success_url",
        "checkout_cancel_url",
        "product_url",
        "user_url",
        "auth_token_url",
        "service_client_secret",
    )
