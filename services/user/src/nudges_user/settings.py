"""UserApi settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from nudges_kit.settings import NudgesSettings


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
        *NudgesSettings.production_required,
        "auth_token_url",
        "service_client_secret",
    )
