"""The work items of an announcement's fan-out: produced and consumed by the consumers.

The fan-out of ``user.announcement.confirmed`` pages through the active subscribers and
writes one :data:`announcement_batch` per chunk of recipients to the consumers' outbox, keyed
by announcement and chunk so that chunks spread over the partitions and more workers send
faster. Each carries the finished text once per locale, never a clear phone number.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from nudges_kit.events import REGISTRY

ANNOUNCEMENT_BATCHES = "sms.announcement-batches"


class BatchRecipient(BaseModel):
    subscriber_id: UUID
    locale: str
    #: The recipient, encrypted with the platform phone key.
    to_ciphertext: str


class AnnouncementBatchData(BaseModel):
    announcement_id: UUID
    client_id: UUID
    #: Position of this chunk in the fan-out, from 0.
    batch: int
    #: The whole SMS per locale of the recipients below: client name, body, opt-out line.
    texts: dict[str, str]
    recipients: list[BatchRecipient]
    status_callback: str | None = None
    #: The client keeps quiet hours for their audience (SPEC §5): copies wait for 08:00 in
    #: each recipient's time zone.
    quiet_hours: bool = True


announcement_batch = REGISTRY.declare(
    "sms.announcement-batch", ANNOUNCEMENT_BATCHES, AnnouncementBatchData
)
