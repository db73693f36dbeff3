"""The service starts and reports itself healthy and ready."""

from __future__ import annotations

from fastapi.testclient import TestClient

from nudges_warpcache.entrypoints.http import build_app
from nudges_warpcache.settings import WarpcacheSettings


def test_healthy_and_ready() -> None:
    with TestClient(build_app(WarpcacheSettings(environment="test"))) as client:
        assert client.get("/healthz").json() == {"status": "ok", "service": "warpcache"}
        assert client.get("/readyz").status_code == 200
        assert "python_info" in client.get("/metrics").text
