"""AuthApi settings, from environment variables."""

from __future__ import annotations

from nudges_kit.settings import NudgesSettings


class AuthSettings(NudgesSettings):
    """Settings of AuthApi."""

    service_name: str = "auth"
    http_port: int = 4001
