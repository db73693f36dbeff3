"""WarpCache settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator

from nudges_kit.settings import NudgesSettings
from nudges_warpcache.domain.cache import MAX_KEY_BYTES
from nudges_warpcache.domain.store import Engine


class WarpcacheSettings(NudgesSettings):
    """Settings of WarpCache (``GRPC_PORT``, ``MAX_ENTRIES``, ``MAX_BYTES``, ...)."""

    service_name: str = "warpcache"
    http_port: int = 4011
    grpc_host: str = "127.0.0.1"
    #: 0 picks a free port (tests).
    grpc_port: int = Field(default=50051, ge=0, le=65535)

    #: Bounds of the cache; past either one the least recently used entries are evicted.
    max_entries: int = Field(default=1_000_000, ge=1)
    #: Bytes of keys plus values (Python's own per-entry overhead comes on top).
    max_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    max_value_bytes: int = Field(default=1024 * 1024, ge=0)
    #: Most keys in one GetMany or SetMany.
    max_batch_keys: int = Field(default=1000, ge=1)
    #: How often expired entries are reclaimed when nobody reads them.
    sweep_interval_seconds: float = Field(default=1.0, gt=0)
    #: Largest gRPC message received or sent (a SetMany or GetMany is one message).
    grpc_max_message_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    #: How long in-flight calls may finish when the service stops.
    shutdown_grace_seconds: float = Field(default=5.0, ge=0)

    #: Storage engine: ``memory`` (this process, bounded by MAX_ENTRIES and MAX_BYTES) or
    #: ``redis`` (shared by every WarpCache process on it, survives their restarts).
    warpcache_engine: Engine = "memory"
    #: The Redis of the redis engine: ``redis://`` or ``rediss://`` (TLS), with the db number.
    warpcache_redis_url: str = "redis://127.0.0.1:6379/0"
    #: Redis AUTH token (ElastiCache's), sent as the password; unset: the URL's, if any.
    warpcache_redis_auth_token: SecretStr | None = None
    #: CA bundle that verifies the server certificate of a ``rediss://`` Redis; unset: the
    #: system's trust store.
    warpcache_redis_ca_file: str = ""
    #: Prefix of every key WarpCache writes in Redis (its namespace there).
    warpcache_redis_key_prefix: str = "warpcache:"
    #: Connect and command timeout: past it a call answers UNAVAILABLE.
    warpcache_redis_timeout_seconds: float = Field(default=0.5, gt=0)
    #: Connections to Redis; a call waits up to the timeout for a free one.
    warpcache_redis_max_connections: int = Field(default=64, ge=1)

    #: WarpCache needs no database, broker or keys: nothing is required beyond the defaults.
    production_required: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _largest_entry_fits(self) -> WarpcacheSettings:
        if self.max_bytes < self.max_value_bytes + MAX_KEY_BYTES:
            raise ValueError(
                f"MAX_BYTES ({self.max_bytes}) must hold at least one entry of "
                f"MAX_VALUE_BYTES ({self.max_value_bytes}) plus a {MAX_KEY_BYTES}-byte key"
            )
        if self.grpc_max_message_bytes < self.max_value_bytes + 2 * MAX_KEY_BYTES:
            raise ValueError("GRPC_MAX_MESSAGE_BYTES must hold a request of MAX_VALUE_BYTES")
        return self

    @model_validator(mode="after")
    def _redis_settings_agree(self) -> WarpcacheSettings:
        if self.warpcache_engine != "redis":
            return self
        scheme = urlsplit(self.warpcache_redis_url).scheme
        if scheme not in ("redis", "rediss"):
            raise ValueError(
                f"WARPCACHE_REDIS_URL must start with redis:// or rediss://, not {scheme}://"
            )
        if self.warpcache_redis_ca_file and scheme != "rediss":
            raise ValueError("WARPCACHE_REDIS_CA_FILE needs a rediss:// WARPCACHE_REDIS_URL")
        if self.environment == "production" and "warpcache_redis_url" not in self.model_fields_set:
            # The development default would point every task at a Redis of its own host.
            raise ValueError("WARPCACHE_ENGINE=redis needs WARPCACHE_REDIS_URL in production")
        return self
