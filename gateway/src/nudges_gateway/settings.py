"""Gateway settings, from environment variables."""

from __future__ import annotations

from nudges_kit.settings import NudgesSettings


class GatewaySettings(NudgesSettings):
    """Settings of Gateway."""

    service_name: str = "gateway"
    http_port: int = 4000
