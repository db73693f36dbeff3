"""Choosing and configuring the storage engine from settings (no server needed)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nudges_kit.settings import MissingProductionSettings
from nudges_warpcache.adapters.memory_store import MemoryStore
from nudges_warpcache.adapters.redis_store import RedisStore, redacted, redis_client
from nudges_warpcache.bootstrap import build_store
from nudges_warpcache.settings import WarpcacheSettings


def test_memory_is_the_default_engine() -> None:
    settings = WarpcacheSettings(environment="test")
    assert settings.warpcache_engine == "memory"
    assert isinstance(build_store(settings), MemoryStore)


async def test_redis_engine_with_tls_and_an_auth_token() -> None:
    settings = WarpcacheSettings(
        environment="test",
        warpcache_engine="redis",
        warpcache_redis_url="rediss://primary.example:6379/0",
        warpcache_redis_auth_token="s3cret-token",
        warpcache_redis_ca_file="/etc/ssl/certs/ca-certificates.crt",
    )
    store = build_store(settings)
    assert isinstance(store, RedisStore)
    await store.close()

    client = redis_client(settings)
    options = client.connection_pool.connection_kwargs
    assert options["password"] == "s3cret-token"
    assert options["ssl_ca_certs"] == "/etc/ssl/certs/ca-certificates.crt"
    assert options["socket_timeout"] == settings.warpcache_redis_timeout_seconds
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"
    await client.aclose()


def test_a_ca_file_needs_rediss() -> None:
    with pytest.raises(ValidationError, match="WARPCACHE_REDIS_CA_FILE"):
        WarpcacheSettings(
            warpcache_engine="redis",
            warpcache_redis_url="redis://primary.example:6379/0",
            warpcache_redis_ca_file="/ca.pem",
        )


def test_the_url_must_be_a_redis_url() -> None:
    with pytest.raises(ValidationError, match="WARPCACHE_REDIS_URL"):
        WarpcacheSettings(warpcache_engine="redis", warpcache_redis_url="http://x:6379")


def test_production_names_its_redis() -> None:
    callers = {"auth": "a-production-token-for-auth"}
    with pytest.raises(MissingProductionSettings, match="WARPCACHE_REDIS_URL"):
        WarpcacheSettings(
            environment="production", warpcache_engine="redis", warpcache_callers=callers
        )
    named = WarpcacheSettings(
        environment="production",
        warpcache_engine="redis",
        warpcache_redis_url="rediss://primary.example:6379/0",
        warpcache_callers=callers,
    )
    assert named.warpcache_redis_url.startswith("rediss://")


def test_errors_never_show_the_password() -> None:
    assert redacted("rediss://:tok3n@host:6379/0") == "rediss://:***@host:6379/0"
    assert redacted("redis://user:pw@host:6379/0") == "redis://user:***@host:6379/0"
    assert redacted("redis://host:6379/0") == "redis://host:6379/0"
