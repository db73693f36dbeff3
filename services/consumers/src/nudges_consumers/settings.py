"""Consumers settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from nudges_kit.settings import (
    REQUIRES_BROKER,
    REQUIRES_DATABASE,
    REQUIRES_PHONES,
    NudgesSettings,
)


class ConsumersSettings(NudgesSettings):
    """Settings of the Kafka workers."""

    service_name: str = "consumers"
    http_port: int = 4006
    database_name: str = "consumersdb"

    user_url: str = "http://127.0.0.1:4002/graphql"
    product_url: str = "http://127.0.0.1:4003/graphql"
    #: Where machine accounts get their tokens (client credentials).
    auth_token_url: str = "http://127.0.0.1:4001/auth/token"  # noqa: S105 (a URL)
    service_client_id: str = "consumers"
    service_client_secret: SecretStr = SecretStr("dev-only-consumers-secret")

    stripe_api_base: str = "http://127.0.0.1:12111"
    #: Seconds one Stripe call may take (the library's own default is 80).
    stripe_timeout_seconds: float = 10.0
    stripe_api_key: SecretStr = SecretStr("sk_test_nudges")
    twilio_api_url: str = "http://127.0.0.1:12112"
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: SecretStr = SecretStr("dev-auth-token")
    twilio_from_number: str = "+15005550006"
    #: The status callback Twilio calls for each message.
    twilio_status_callback_url: str = "http://127.0.0.1:4005/webhooks/twilio/status"
    #: Messages per second sent through Twilio (0: no limit).
    sms_messages_per_second: float = 50.0
    #: Quiet hours apply (SPEC §5): announcement copies wait for 08:00 in the recipient's
    #: time zone, unless their client turned quiet hours off. ``make dev`` and the tests'
    #: platform turn them off: they run on the wall clock at whatever hour they start.
    quiet_hours: bool = True
    #: Seconds between two looks for held copies whose time has come.
    held_release_interval: float = 30.0

    #: At most one notice of joins and leaves per client in this many seconds (SPEC §4): the
    #: changes after a notice wait for one digest. 0 tells every change at once.
    client_digest_interval_seconds: float = Field(default=3600.0, ge=0)
    #: How often the digests that came due are looked for and sent.
    client_digest_poll_seconds: float = Field(default=15.0, gt=0)

    #: Attempts before an event goes to its dead-letter topic.
    max_attempts: int = 6
    #: Seconds of a GraphQL call to a subgraph.
    graph_timeout: float = 5.0

    production_required: ClassVar[tuple[str, ...]] = (
        *REQUIRES_DATABASE,
        *REQUIRES_BROKER,
        *REQUIRES_PHONES,
        "localization_url",
        "user_url",
        "product_url",
        "auth_token_url",
        "service_client_secret",
        "stripe_api_base",
        "stripe_api_key",
        "twilio_api_url",
        "twilio_auth_token",
        "twilio_from_number",
        "twilio_status_callback_url",
    )
