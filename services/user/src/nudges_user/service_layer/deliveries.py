"""Deliveries: the one copy of what became of each recipient's copy of an announcement, and
the announcement's completion, decided here once.

Two events feed them, each handled in the consumer loop's transaction (handled event ids make
a redelivery change nothing):

- the sender's outcomes of a work item (``sms.announcement-outcomes``): queued with Twilio's
  message sid and segments, failed with Twilio's error code, or held back (``stopped``)
  because the recipient texted STOP;
- Twilio's status callbacks (``twilio.status``), by message sid. A callback can overtake the
  sender's outcome (the sender's answer from Twilio was lost and the send reconciled later):
  it is parked in ``early_statuses`` and applied when the outcome names its message. Both
  lock the message first, so whichever comes second sees the first.

Statuses only move forward (a late ``sent`` never overwrites ``delivered``), and counters move
once per transition. When every recipient has a final outcome (delivered, failed or
stopped), the same transaction marks the announcement complete and publishes
``user.announcement.completed`` with the segments sent, once: only the transaction that sets
``completed_at`` publishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from nudges_kit.events.catalog import providers, sms
from nudges_kit.events.catalog import user as events
from nudges_kit.logging import get_logger
from nudges_user.adapters import repository as repo
from nudges_user.domain.deliveries import (
    OUTCOME_STATUSES,
    PROVIDER_STATUSES,
    DeliveryUpdate,
    apply_updates,
    progress,
)
from nudges_user.domain.model import Announcement
from nudges_user.service_layer.services import ANNOUNCEMENT_PROGRESS
from nudges_user.service_layer.unit_of_work import UnitOfWork

log = get_logger(__name__)


async def record_outcomes(
    uow: UnitOfWork, data: sms.AnnouncementOutcomesData
) -> Announcement | None:
    """Record the sender's outcomes of a work item, then the callbacks parked for their
    messages; the announcement after them (None when it does not exist)."""
    sids = [o.message_sid for o in data.outcomes if o.message_sid]
    await repo.lock_messages(uow.conn, sids)
    updates = [
        DeliveryUpdate(
            str(o.subscriber_id),
            OUTCOME_STATUSES[o.outcome],
            o.message_sid,
            o.error_code,
            o.segments,
        )
        for o in data.outcomes
    ]
    parked = await repo.take_early_statuses(uow.conn, sids) if sids else {}
    by_sid = {o.message_sid: str(o.subscriber_id) for o in data.outcomes if o.message_sid}
    for sid, statuses in parked.items():
        updates += [DeliveryUpdate(by_sid[sid], status, sid, code) for status, code in statuses]
    return await record_deliveries(uow, data.announcement_id, updates)


async def record_status(uow: UnitOfWork, data: providers.TwilioStatusData) -> Announcement | None:
    """Record one status callback; the announcement after it, None when it changed nothing
    or the message is no recorded copy yet (then the status is parked)."""
    status = PROVIDER_STATUSES.get(data.status.lower())
    if status is None:
        return None
    await repo.lock_messages(uow.conn, [data.message_sid])
    found = await repo.delivery_by_provider_id(uow.conn, data.message_sid)
    if found is None:
        await repo.park_status(uow.conn, data.message_sid, status, data.error_code)
        await repo.prune_early_statuses(uow.conn)
        return None
    announcement_id, subscriber_id, _ = found
    return await record_deliveries(
        uow,
        announcement_id,
        [DeliveryUpdate(str(subscriber_id), status, data.message_sid, data.error_code)],
    )


async def record_deliveries(
    uow: UnitOfWork, announcement_id: UUID, deliveries: Sequence[DeliveryUpdate]
) -> Announcement | None:
    """Record recipients' statuses of one announcement, in order, in the unit of
    work's transaction; counters move once per transition, and the announcement completes (and
    its completion is published) when the last recipient's outcome is final."""
    found = (await repo.announcements_by_ids(uow.conn, [announcement_id])).get(str(announcement_id))
    if found is None:
        log.warning("deliveries of an unknown announcement", announcement_id=str(announcement_id))
        return None
    ids = [UUID(d.subscriber_id) for d in deliveries]
    current = await repo.delivery_statuses_for_update(uow.conn, announcement_id, ids)
    writes, gains = apply_updates(current, deliveries)
    await repo.write_deliveries(uow.conn, announcement_id, writes)
    if not gains:
        return found
    # Read again under the row's lock: concurrent writers of one announcement add up.
    locked = await repo.announcement_for_update(uow.conn, announcement_id)
    after = progress(locked, gains)
    announcement = await repo.save_progress(
        uow.conn, announcement_id, after.counts, after.status, complete=after.completes
    )
    if after.completes:
        await _completed(uow, announcement)
    await uow.notify(ANNOUNCEMENT_PROGRESS, announcement.id)
    return announcement


async def _completed(uow: UnitOfWork, announcement: Announcement) -> None:
    """Publish the completion, in the transaction that completed the announcement."""
    assert announcement.completed_at is not None
    segments = await repo.segments_sent(uow.conn, UUID(announcement.id))
    await uow.publish(
        events.announcement_completed,
        announcement.id,
        events.AnnouncementCompletedData(
            announcement_id=UUID(announcement.id),
            client_id=UUID(announcement.client_id),
            recipients=announcement.recipients,
            sent=announcement.sent,
            delivered=announcement.delivered,
            failed=announcement.failed,
            stopped=announcement.stopped,
            segments=segments,
            completed_at=announcement.completed_at,
        ),
    )
    log.info(
        "announcement completed",
        announcement_id=announcement.id,
        recipients=announcement.recipients,
        delivered=announcement.delivered,
        failed=announcement.failed,
        stopped=announcement.stopped,
        segments=segments,
    )
