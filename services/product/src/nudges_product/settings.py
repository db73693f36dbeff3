"""ProductApi settings, from environment variables."""

from __future__ import annotations

from nudges_kit.settings import NudgesSettings


class ProductSettings(NudgesSettings):
    """Settings of ProductApi."""

    service_name: str = "product"
    http_port: int = 4003
    database_name: str = "productdb"
