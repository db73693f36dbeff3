"""Consumers settings, from environment variables."""

from __future__ import annotations

from nudges_kit.settings import NudgesSettings


class ConsumersSettings(NudgesSettings):
    """Settings of Consumers."""

    service_name: str = "consumers"
    http_port: int = 4006
    database_name: str = "consumersdb"
