"""GraphMonitor settings, from environment variables."""

from __future__ import annotations

from nudges_kit.settings import NudgesSettings


class RegistrySettings(NudgesSettings):
    """Settings of GraphMonitor."""

    service_name: str = "registry"
    http_port: int = 4010
