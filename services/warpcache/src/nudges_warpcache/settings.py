"""WarpCache settings, from environment variables."""

from __future__ import annotations

from nudges_kit.settings import NudgesSettings


class WarpcacheSettings(NudgesSettings):
    """Settings of WarpCache."""

    service_name: str = "warpcache"
    http_port: int = 4011
