"""The service starts and is ready once WarpCache and the broker answer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from nudges_webhooks.entrypoints.http import build_app
from nudges_webhooks.settings import WebhooksSettings


def test_healthy_and_ready(settings: WebhooksSettings) -> None:
    with TestClient(build_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok", "service": "webhooks"}
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.json()
        assert ready.json()["checks"] == {"kafka": "ok", "warpcache": "ok"}


def test_not_ready_without_the_broker(settings: WebhooksSettings) -> None:
    nowhere = settings.model_copy(update={"kafka_bootstrap_servers": "127.0.0.1:1"})
    with TestClient(build_app(nowhere)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["kafka"].startswith("failing")
