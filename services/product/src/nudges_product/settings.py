"""ProductApi settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

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
    #: The ``product`` machine account's secret: its token registers the subgraph.
    service_client_secret: SecretStr = SecretStr("dev-only-product-secret")

    production_required: ClassVar[tuple[str, ...]] = (
        *REQUIRES_DATABASE,
        *REQUIRES_BROKER,
        *REQUIRES_TOKENS,
        "registry_url",
        "subgraph_url",
        "auth_token_url",
        "service_client_secret",
    )
