"""PaymentApi settings, from environment variables."""

from __future__ import annotations

from nudges_kit.settings import NudgesSettings


class PaymentSettings(NudgesSettings):
    """Settings of PaymentApi."""

    service_name: str = "payment"
    http_port: int = 4004
    database_name: str = "paymentdb"
