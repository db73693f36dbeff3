"""The service starts and reports itself healthy and ready."""

from __future__ import annotations

from fastapi.testclient import TestClient

from nudges_localization.entrypoints.http import build_app
from nudges_localization.settings import LocalizationSettings


def test_healthy_and_ready() -> None:
    with TestClient(build_app(LocalizationSettings(environment="test", grpc_port=0))) as client:
        assert client.get("/healthz").json() == {"status": "ok", "service": "localization"}
        assert client.get("/readyz").status_code == 200
        assert "python_info" in client.get("/metrics").text
