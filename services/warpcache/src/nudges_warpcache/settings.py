"""WarpCache settings, from environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from nudges_kit.settings import NudgesSettings
from nudges_warpcache.domain.cache import MAX_KEY_BYTES


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
