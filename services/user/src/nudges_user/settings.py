"""UserApi settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from nudges_kit.settings import (
    REQUIRES_BROKER,
    REQUIRES_DATABASE,
    REQUIRES_PHONES,
    REQUIRES_TOKENS,
    NudgesSettings,
)


class UserSettings(NudgesSettings):
    """Settings of UserApi."""

    service_name: str = "user"
    http_port: int = 4002
    database_name: str = "userdb"
    #: The ``user`` machine account's secret: its token registers the subgraph.
    service_client_secret: SecretStr = SecretStr("dev-only-user-secret")

    #: ProductApi, asked (as the ``user`` machine account) for a client's allowance when the
    #: composer previews, sends or schedules an announcement.
    product_url: str = "http://127.0.0.1:4003/graphql"
    #: Seconds of one call to ProductApi, AuthApi's token endpoint or LocalizationApi.
    composer_call_timeout: float = Field(default=3.0, gt=0)
    #: How often the scheduler looks for due scheduled announcements (they start within
    #: this many seconds of their time, plus one round's work).
    scheduler_poll_seconds: float = Field(default=5.0, gt=0, le=30)

    #: The admin created by ``make dev`` (development only).
    seed_admin_phone: str = "+14155550100"

    production_required: ClassVar[tuple[str, ...]] = (
        *REQUIRES_DATABASE,
        *REQUIRES_BROKER,
        *REQUIRES_TOKENS,
        *REQUIRES_PHONES,
        "registry_url",
        "subgraph_url",
        "auth_token_url",
        "service_client_secret",
        "product_url",
        "localization_url",
    )
