"""GraphMonitor settings, from environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import field_validator

from nudges_kit.settings import NudgesSettings
from nudges_registry.domain.subgraph_urls import UrlPattern


class RegistrySettings(NudgesSettings):
    """Settings of GraphMonitor."""

    service_name: str = "registry"
    http_port: int = 4010
    #: Where subgraphs and supergraph versions are kept (JSON files, atomic writes).
    registry_dir: Path = Path(".nudges/registry")
    #: How long to wait for a subgraph's ``_service { sdl }`` on refresh.
    sdl_fetch_timeout_seconds: float = 5.0
    #: Where subgraphs may be registered (JSON list of ``scheme://host[:port][/path]``; host
    #: may be a glob, port ``*``). Development: this machine only; production sets its own.
    registry_allowed_subgraph_urls: tuple[str, ...] = ("http://127.0.0.1:*", "http://localhost:*")

    #: GraphMonitor verifies machine tokens (JWKS) and keeps no secret of its own.
    production_required: ClassVar[tuple[str, ...]] = (
        "jwt_issuer",
        "jwks_url",
        "registry_allowed_subgraph_urls",
    )

    @field_validator("registry_allowed_subgraph_urls")
    @classmethod
    def _patterns_parse(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            UrlPattern.parse(pattern)
        return patterns
