"""The service starts and reports itself healthy and ready."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from nudges_registry.entrypoints.http import build_app
from nudges_registry.settings import RegistrySettings


def test_healthy_and_ready(tmp_path: Path) -> None:
    settings = RegistrySettings(environment="test", registry_dir=tmp_path)
    with TestClient(build_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok", "service": "registry"}
        assert client.get("/readyz").status_code == 200
        assert "python_info" in client.get("/metrics").text
