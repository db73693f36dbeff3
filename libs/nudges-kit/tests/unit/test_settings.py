"""Settings: development defaults, and a clear error for missing production settings."""

from __future__ import annotations

from typing import ClassVar

import pytest

from nudges_kit.settings import (
    REQUIRES_BROKER,
    REQUIRES_DATABASE,
    REQUIRES_PHONES,
    REQUIRES_TOKENS,
    DevelopmentSecretsInProduction,
    MissingProductionSettings,
    NudgesSettings,
    load_settings,
    with_database,
)


class PhoneService(NudgesSettings):
    """A service with a database, the broker, tokens and phone numbers."""

    production_required: ClassVar[tuple[str, ...]] = (
        *REQUIRES_DATABASE,
        *REQUIRES_BROKER,
        *REQUIRES_TOKENS,
        *REQUIRES_PHONES,
    )


def test_development_defaults_need_no_environment() -> None:
    settings = NudgesSettings()
    assert settings.environment == "development"
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"


def test_production_names_every_missing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("POSTGRES_URL", "postgresql://db.internal/postgres")
    with pytest.raises(MissingProductionSettings) as error:
        PhoneService(service_name="user")
    message = str(error.value)
    assert message.startswith("user: missing production settings:")
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "PHONE_ENCRYPTION_KEY", "PHONE_HASH_KEY", "JWKS_URL"):
        assert name in message
    assert "POSTGRES_URL" not in message


def test_production_starts_when_everything_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PhoneService.production_required:
        monkeypatch.setenv(name.upper(), "set-explicitly")
    monkeypatch.setenv("ENVIRONMENT", "production")
    assert PhoneService().environment == "production"


def test_a_service_requires_nothing_it_does_not_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    assert NudgesSettings().environment == "production"


def test_production_names_every_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PhoneService.production_required:
        monkeypatch.setenv(name.upper(), "set-explicitly")
    monkeypatch.setenv("PHONE_HASH_KEY", "dev-only-phone-hash-key")
    monkeypatch.setenv("PHONE_ENCRYPTION_KEY", "ZGV2LW9ubHktcGhvbmUta2V5LTMyLWJ5dGVzLWxvbmc=")
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(DevelopmentSecretsInProduction) as refused:
        PhoneService(service_name="user")
    assert str(refused.value) == (
        "user: development secrets in production: PHONE_ENCRYPTION_KEY, PHONE_HASH_KEY"
    )
    monkeypatch.setenv("ENVIRONMENT", "development")
    assert PhoneService().phone_hash_key.get_secret_value() == "dev-only-phone-hash-key"


def test_database_url_keeps_host_user_and_query() -> None:
    assert (
        with_database("postgresql://postgres:@/postgres?host=/tmp/pg", "userdb")
        == "postgresql://postgres:@/userdb?host=/tmp/pg"
    )
    settings = NudgesSettings(postgres_url="postgresql://u@h:5432/postgres", database_name="x")
    assert settings.database_url() == "postgresql://u@h:5432/x"


def test_the_jwks_refetch_interval_is_a_positive_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert NudgesSettings().jwks_refetch_seconds == 30.0
    monkeypatch.setenv("JWKS_REFETCH_SECONDS", "5")
    assert NudgesSettings().jwks_refetch_seconds == 5.0
    monkeypatch.setenv("JWKS_REFETCH_SECONDS", "0")
    with pytest.raises(ValueError, match="greater than 0"):
        NudgesSettings()


def test_refused_settings_end_the_process_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(SystemExit) as missing:
        load_settings(PhoneService)
    assert str(missing.value).startswith("nudges: missing production settings: POSTGRES_URL")
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("HTTP_PORT", "eighty")
    with pytest.raises(SystemExit) as invalid:
        load_settings(PhoneService)
    assert str(invalid.value) == (
        "nudges: invalid settings: HTTP_PORT: Input should be a valid integer,"
        " unable to parse string as an integer"
    )
    assert "\n" not in str(invalid.value)
