"""AuthApi's settings: development defaults, and production refusing what is unsafe."""

from __future__ import annotations

from typing import Any

import pytest

from nudges_auth.settings import AuthSettings, InsecureSetting
from nudges_kit.settings import MissingProductionSettings, development_warpcache_token

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "kafka_bootstrap_servers": "kafka:9092",
    "jwt_issuer": "https://nudges.example/auth",
    "phone_encryption_key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "phone_hash_key": "phone-hash-key",
    "warpcache_url": "warpcache:50051",
    "warpcache_token": "auth-warpcache-token",
    "localization_url": "localization:50052",
    "user_url": "http://user:4002/graphql",
    "otp_hmac_secret": "otp-secret",
    "jwt_signing_keys": "[]",
    "machine_secrets": {"consumers": "c", "webhooks": "w"},
    "admin_ui_url": "https://admin.nudges.example/",
    "client_address_topology": "alb",
}


def test_development_defaults_work_without_any_setting() -> None:
    settings = AuthSettings()
    assert settings.otp_echo is False
    assert settings.access_token_ttl_seconds == 900
    assert settings.refresh_token_ttl_seconds == 30 * 86400
    assert set(settings.machine_secrets) == {"consumers", "webhooks", "user", "product", "payment"}
    # The subgraphs register their SDL; the workers may not.
    assert settings.machine_scopes == {
        "user": ("registry:write",),
        "product": ("registry:write",),
        "payment": ("registry:write",),
    }


def test_production_starts_with_every_required_setting() -> None:
    assert AuthSettings(**PRODUCTION).environment == "production"


def test_production_names_every_missing_secret() -> None:
    with pytest.raises(MissingProductionSettings) as refused:
        AuthSettings(environment="production")
    for name in (
        "OTP_HMAC_SECRET",
        "JWT_SIGNING_KEYS",
        "MACHINE_SECRETS",
        "PHONE_HASH_KEY",
        "CLIENT_ADDRESS_TOPOLOGY",
        "WARPCACHE_TOKEN",
    ):
        assert name in str(refused.value)
    # AuthApi has no database.
    assert "POSTGRES_URL" not in str(refused.value)


def test_the_warpcache_token_is_the_development_one_only_outside_production() -> None:
    assert AuthSettings().warpcache_caller_token() == development_warpcache_token("auth")
    configured = AuthSettings(**PRODUCTION)
    assert configured.warpcache_caller_token() == "auth-warpcache-token"


def test_otp_echo_is_refused_in_production() -> None:
    with pytest.raises(InsecureSetting, match="OTP_ECHO"):
        AuthSettings(**PRODUCTION, otp_echo=True)
    assert AuthSettings(environment="development", otp_echo=True).otp_echo


def test_otp_echo_from_the_environment_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTP_ECHO", "true")
    with pytest.raises(InsecureSetting):
        AuthSettings(**PRODUCTION)


def test_keycloak_needs_its_client_secret_and_keys_outlive_tokens() -> None:
    with pytest.raises(ValueError, match="KEYCLOAK_CLIENT_SECRET"):
        AuthSettings(keycloak_url="http://keycloak:8080")
    with pytest.raises(ValueError, match="JWT_KEY_ROTATION_SECONDS"):
        AuthSettings(jwt_key_rotation_seconds=600, access_token_ttl_seconds=900)
