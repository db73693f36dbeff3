"""GraphMonitor settings, from environment variables."""

from __future__ import annotations

from pathlib import Path

from nudges_kit.settings import NudgesSettings


class RegistrySettings(NudgesSettings):
    """Settings of GraphMonitor."""

    service_name: str = "registry"
    http_port: int = 4010
    #: Where subgraphs and supergraph versions are kept (JSON files, atomic writes).
    registry_dir: Path = Path(".nudges/registry")
    #: How long to wait for a subgraph's ``_service { sdl }`` on refresh.
    sdl_fetch_timeout_seconds: float = 5.0
