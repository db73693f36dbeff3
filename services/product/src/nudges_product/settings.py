"""ProductApi settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from nudges_kit.settings import (
    REQUIRES_BROKER,
    REQUIRES_DATABASE,
    REQUIRES_TOKENS,
    NudgesSettings,
)
from nudges_product.domain.allowance import DEFAULT_GRACE_DAYS


class ProductSettings(NudgesSettings):
    """Settings of ProductApi."""

    service_name: str = "product"
    http_port: int = 4003
    database_name: str = "productdb"
    #: The ``product`` machine account's secret: its token registers the subgraph.
    service_client_secret: SecretStr = SecretStr("dev-only-product-secret")
    #: Days a past-due client may still send, from the first failed payment (SPEC §5).
    past_due_grace_days: int = Field(default=DEFAULT_GRACE_DAYS, ge=0)

    production_required: ClassVar[tuple[str, ...]] = (
        *REQUIRES_DATABASE,
        *REQUIRES_BROKER,
        *REQUIRES_TOKENS,
        "registry_url",
        "subgraph_url",
        "auth_token_url",
        "service_client_secret",
    )
