"""UserApi settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

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
    )
