"""Webhooks settings, from environment variables."""

from __future__ import annotations

from nudges_kit.settings import NudgesSettings


class WebhooksSettings(NudgesSettings):
    """Settings of Webhooks."""

    service_name: str = "webhooks"
    http_port: int = 4005
