"""ProductApi settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from nudges_kit.settings import NudgesSettings


class ProductSettings(NudgesSettings):
    """Settings of ProductApi."""

    service_name: str = "product"
    http_port: int = 4003
    database_name: str = "productdb"
    #: The ``product`` machine account's secret: its token registers the subgraph.
    service_client_secret: SecretStr = SecretStr("dev-only-product-secret")

    production_required: ClassVar[tuple[str, ...]] = (
        *NudgesSettings.production_required,
        "auth_token_url",
        "service_client_secret",
    )
