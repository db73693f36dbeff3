"""GraphMonitor settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import field_validator

from nudges_kit.settings import NudgesSettings
from nudges_registry.domain.subgraph_urls import UrlPattern


class RegistrySettings(NudgesSettings):
    """Settings of GraphMonitor."""

    service_name: str = "registry"
    http_port: int = 4010
    #: Subgraphs and supergraph versions live in registrydb.
    database_name: str = "registrydb"
    #: Connections of the pool: reads, and one per change in progress (changes wait for the
    #: composition lock holding theirs).
    db_pool_max_size: int = 5
    #: How long to wait for a subgraph's ``_service { sdl }`` on refresh.
    sdl_fetch_timeout_seconds: float = 5.0
    #: Where subgraphs may be registered (JSON list of ``scheme://host[:port][/path]``; host
    #: may be a glob, port ``*``). Development: this machine only; production sets its own.
    registry_allowed_subgraph_urls: tuple[str, ...] = ("http://127.0.0.1:*", "http://localhost:*")

    #: GraphMonitor keeps its data in PostgreSQL and verifies machine tokens (JWKS); it uses
    #: no broker.
    production_required: ClassVar[tuple[str, ...]] = (
        "postgres_url",
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
