"""The service starts and reports itself healthy, and ready while WarpCache answers."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from nudges_auth.adapters.signing_keys import SigningKey
from nudges_auth.entrypoints.http import build_app
from nudges_auth.settings import AuthSettings
from nudges_devstack.infra import free_port


def test_healthy_and_ready(warpcache_server: str, tmp_path: Path) -> None:
    settings = AuthSettings(
        environment="test", warpcache_url=warpcache_server, jwt_keys_file=tmp_path / "keys.json"
    )
    with TestClient(build_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok", "service": "auth"}
        assert client.get("/readyz").status_code == 200
        assert "python_info" in client.get("/metrics").text


def test_not_ready_without_warpcache(tmp_path: Path) -> None:
    settings = AuthSettings(
        environment="test",
        warpcache_url=f"127.0.0.1:{free_port()}",
        jwt_keys_file=tmp_path / "keys.json",
    )
    with TestClient(build_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["warpcache"].startswith("failing")


def test_production_publishes_the_openapi_document_but_no_docs() -> None:
    key = SigningKey.generate(not_before=0).to_json()
    settings = AuthSettings(
        environment="production",
        kafka_bootstrap_servers="kafka:9092",
        jwt_issuer="https://nudges.example/auth",
        phone_encryption_key="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        phone_hash_key="k",
        warpcache_url="warpcache:50051",
        warpcache_token="t",
        localization_url="localization:50052",
        user_url="http://user:4002/graphql",
        otp_hmac_secret="s",
        jwt_signing_keys=json.dumps([key]),
        machine_secrets={"consumers": "c", "webhooks": "w"},
        admin_ui_url="https://admin.nudges.example/",
        client_address_topology="alb",
    )
    client = TestClient(build_app(settings))  # no lifespan: nothing is reached
    assert client.get("/auth/openapi.json").status_code == 200
    assert client.get("/auth/docs").status_code == 404
    assert client.get("/auth/.well-known/jwks.json").json()["keys"][0]["kid"] == key["kid"]
