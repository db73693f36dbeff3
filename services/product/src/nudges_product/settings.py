"""ProductApi settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from nudges_kit.settings import (
    REQUIRES_BROKER,
    REQUIRES_DATABASE,
    REQUIRES_TOKENS,
    NudgesSettings,
)


class ProductSettings(NudgesSettings):
    """Settings of ProductApi."""

    service_name: str = "product"
    http_port: int = 4003
    database_name: str = "productdb"

    production_required: ClassVar[tuple[str, ...]] = (
        *REQUIRES_DATABASE,
        *REQUIRES_BROKER,
        *REQUIRES_TOKENS,
        "registry_url",
        "subgraph_url",
    )
