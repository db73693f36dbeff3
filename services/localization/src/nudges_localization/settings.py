"""LocalizationApi settings, from environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from nudges_kit.settings import NudgesSettings


class LocalizationSettings(NudgesSettings):
    """Settings of LocalizationApi (``GRPC_PORT``, ``CATALOG_DIR``, ``DEFAULT_LOCALE``, ...)."""

    service_name: str = "localization"
    http_port: int = 4012
    grpc_host: str = "127.0.0.1"
    #: 0 picks a free port (tests).
    grpc_port: int = Field(default=50052, ge=0, le=65535)
    #: Where the compiled catalogs are; empty means the ones shipped with the package.
    catalog_dir: Path | None = None
    #: The last locale of every fallback chain.
    default_locale: str = "en"
    #: How long in-flight calls may finish when the service stops.
    shutdown_grace_seconds: float = Field(default=5.0, ge=0)

    #: LocalizationApi needs no database, broker or keys: nothing is required beyond defaults.
    production_required: ClassVar[tuple[str, ...]] = ()
