"""WarpCache settings, from environment variables."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from nudges_kit.settings import (
    MissingProductionSettings,
    NudgesSettings,
    development_warpcache_token,
)
from nudges_warpcache.domain.access import DEFAULT_GRANTS, AccessPolicy, Grants
from nudges_warpcache.domain.cache import MAX_KEY_BYTES
from nudges_warpcache.domain.store import Engine


class UnsafeCallers(RuntimeError):
    """Raised at startup when ``WARPCACHE_CALLERS`` would let a caller in unsafely."""


class CallerSetting(BaseModel):
    """One caller of ``WARPCACHE_CALLERS``: its token and, for a caller WarpCache does not
    know by name (or to narrow one it does), its prefixes."""

    model_config = {"extra": "forbid", "frozen": True}

    token: SecretStr
    #: None: the default grants of this caller's name (:data:`DEFAULT_GRANTS`).
    read_write: tuple[str, ...] | None = None
    read: tuple[str, ...] | None = None

    def grants(self, name: str) -> Grants:
        default = DEFAULT_GRANTS.get(name)
        if default is None and self.read_write is None and self.read is None:
            raise UnsafeCallers(
                f"warpcache: WARPCACHE_CALLERS: caller {name!r} needs read_write or read "
                f"prefixes (known callers: {', '.join(DEFAULT_GRANTS)})"
            )
        default = default or Grants()
        return Grants(
            default.read_write if self.read_write is None else self.read_write,
            default.read if self.read is None else self.read,
        )


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

    #: The caller services, as JSON: ``{"auth": {"token": "..."}, "gateway": "..."}`` (a bare
    #: string is the token). A known caller (auth, gateway, webhooks) gets its default
    #: prefixes; ``read_write`` / ``read`` lists replace them. Empty outside production: every
    #: known caller with its development token.
    warpcache_callers: dict[str, CallerSetting] = Field(default_factory=dict)

    #: WarpCache needs no database, broker or keys; production needs its callers' tokens.
    production_required: ClassVar[tuple[str, ...]] = ("warpcache_callers",)

    @field_validator("warpcache_callers", mode="before")
    @classmethod
    def _bare_token(cls, callers: Any) -> Any:
        if isinstance(callers, dict):
            return {
                name: {"token": value} if isinstance(value, str) else value
                for name, value in callers.items()
            }
        return callers

    @model_validator(mode="after")
    def _callers_are_safe(self) -> WarpcacheSettings:
        if self.environment == "production":
            # Set but empty ("{}") would let nobody in, or be mistaken for the defaults.
            if not self.warpcache_callers:
                raise MissingProductionSettings(
                    "warpcache: missing production settings: WARPCACHE_CALLERS"
                )
            for name, caller in self.warpcache_callers.items():
                if caller.token.get_secret_value() == development_warpcache_token(name):
                    raise UnsafeCallers(
                        f"warpcache: WARPCACHE_CALLERS: caller {name!r} has the development token"
                    )
        self.access_policy()  # refuses a caller without prefixes or tokens shared by two
        return self

    def access_policy(self) -> AccessPolicy:
        """The callers to accept: ``WARPCACHE_CALLERS``, else (outside production) every
        known caller with its development token."""
        if not self.warpcache_callers and self.environment != "production":
            return AccessPolicy(
                {
                    name: (development_warpcache_token(name), grants)
                    for name, grants in DEFAULT_GRANTS.items()
                }
            )
        return AccessPolicy(
            {
                name: (caller.token.get_secret_value(), caller.grants(name))
                for name, caller in self.warpcache_callers.items()
            }
        )

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
            raise MissingProductionSettings(
                "warpcache: missing production settings: WARPCACHE_REDIS_URL "
                "(WARPCACHE_ENGINE=redis)"
            )
        return self
