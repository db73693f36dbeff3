"""The JSON envelope every Nudges event travels in (SPEC §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field
from uuid6 import uuid7


def new_event_id() -> UUID:
    """A time-ordered event id (UUIDv7)."""
    return UUID(str(uuid7()))


class Envelope(BaseModel):
    """``id``, ``type``, ``version``, ``occurred_at``, ``key`` and the event ``data``."""

    model_config = ConfigDict(frozen=True)

    id: UUID = Field(default_factory=new_event_id)
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    key: str
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        """The envelope as Kafka message value."""
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse a Kafka message value; raises ``ValueError`` when it is not an envelope."""
        return cls.model_validate(orjson.loads(raw))
