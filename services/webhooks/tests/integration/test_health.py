"""The service starts and reports itself healthy and ready."""

from __future__ import annotations

from fastapi.testclient import TestClient

from nudges_webhooks.entrypoints.http import build_app
from nudges_webhooks.settings import WebhooksSettings


def test_healthy_and_ready() -> None:
    with TestClient(build_app(WebhooksSettings(environment="test"))) as client:
        assert client.get("/healthz").json() == {"status": "ok", "service": "webhooks"}
        assert client.get("/readyz").status_code == 200
        assert "python_info" in client.get("/metrics").text
