"""UserApi settings, from environment variables."""

from __future__ import annotations

from nudges_kit.settings import NudgesSettings


class UserSettings(NudgesSettings):
    """Settings of UserApi."""

    service_name: str = "user"
    http_port: int = 4002
    database_name: str = "userdb"
    #: The admin created by ``make dev`` (development only).
    seed_admin_phone: str = "+14155550100"
