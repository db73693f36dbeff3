"""LocalizationApi settings, from environment variables."""

from __future__ import annotations

from nudges_kit.settings import NudgesSettings


class LocalizationSettings(NudgesSettings):
    """Settings of LocalizationApi."""

    service_name: str = "localization"
    http_port: int = 4012
