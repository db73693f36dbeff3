"""The service starts and reports itself healthy and ready (its database answering)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from nudges_registry.entrypoints.http import build_app
from nudges_registry.settings import RegistrySettings


def test_healthy_and_ready(registry_settings: Callable[..., RegistrySettings]) -> None:
    with TestClient(build_app(registry_settings())) as client:
        assert client.get("/healthz").json() == {"status": "ok", "service": "registry"}
        assert client.get("/readyz").json()["checks"] == {"postgres": "ok"}
        assert "python_info" in client.get("/metrics").text
