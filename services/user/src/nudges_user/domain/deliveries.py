"""What became of each recipient's copy of an announcement, and when the announcement is
complete: plain rules, no I/O. The service layer (``service_layer/deliveries.py``) locks the
rows, asks these rules, and writes what they decide."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from nudges_user.domain.model import Announcement, AnnouncementStatus, DeliveryStatus

#: A delivery's status only moves forward: a late "sent" never overwrites "delivered".
DELIVERY_RANK = {
    DeliveryStatus.HELD: -1,
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.UNDELIVERED: 2,
    DeliveryStatus.STOPPED: 2,
}


#: The sender's outcome of a copy (``sms.announcement-outcomes``) in the words of deliveries.
OUTCOME_STATUSES = {
    "queued": DeliveryStatus.QUEUED,
    "failed": DeliveryStatus.FAILED,
    "held_back": DeliveryStatus.STOPPED,
    "held": DeliveryStatus.HELD,
}


def delivery_moves_forward(current: DeliveryStatus | None, new: DeliveryStatus) -> bool:
    """True when ``new`` is a later status than ``current`` (callbacks arrive out of order).

    ``stopped`` is only ever a first status, or follows ``held`` (the subscriber texted STOP
    overnight): a copy that went to Twilio was not held back."""
    if new is DeliveryStatus.STOPPED or current is DeliveryStatus.STOPPED:
        return current is None or current is DeliveryStatus.HELD
    return current is None or DELIVERY_RANK[new] > DELIVERY_RANK[current]


@dataclass(frozen=True)
class CountChanges:
    """What an announcement's counters gain when one of its deliveries changes status."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    stopped: int = 0
    #: Copies held for quiet hours: +1 when one is held, -1 when it goes (or is held back).
    held: int = 0

    def __add__(self, other: CountChanges) -> CountChanges:
        return CountChanges(
            self.sent + other.sent,
            self.delivered + other.delivered,
            self.failed + other.failed,
            self.stopped + other.stopped,
            self.held + other.held,
        )

    def __bool__(self) -> bool:
        return bool(self.sent or self.delivered or self.failed or self.stopped or self.held)


def count_changes(previous: DeliveryStatus | None, status: DeliveryStatus) -> CountChanges:
    """The counters' gains when a delivery moves forward from ``previous`` to ``status``:
    ``sent`` once per copy whatever the order of "sent" and "delivered", the final statuses
    once each."""
    was_sent = previous in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    return CountChanges(
        sent=int(status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED) and not was_sent),
        delivered=int(status is DeliveryStatus.DELIVERED),
        failed=int(status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED)),
        stopped=int(status is DeliveryStatus.STOPPED),
        held=int(status is DeliveryStatus.HELD) - int(previous is DeliveryStatus.HELD),
    )


@dataclass(frozen=True)
class DeliveryUpdate:
    """One recipient's delivery status to record (the sender's or a status callback's)."""

    subscriber_id: str
    status: DeliveryStatus
    provider_message_id: str | None = None
    error_code: str | None = None
    #: Twilio's segments of the copy, when it was sent.
    segments: int | None = None


#: Twilio's message statuses in the words of deliveries; the others (queued, sending,
#: accepted, received...) change nothing.
PROVIDER_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


@dataclass(frozen=True)
class DeliveryWrite:
    """One recipient's row of ``deliveries`` to write. A message id or a segment count left
    out (None) keeps the one recorded, and so does an error code while the status stays (a
    late "sent" after "undelivered" 30003 keeps 30003)."""

    subscriber_id: UUID
    status: DeliveryStatus
    provider_message_id: str | None
    error_code: str | None
    segments: int | None = None


def apply_updates(
    current: Mapping[UUID, DeliveryStatus], updates: Sequence[DeliveryUpdate]
) -> tuple[list[DeliveryWrite], CountChanges]:
    """The rows to write and the counters' gains when ``updates`` arrive, in order, for
    recipients whose recorded statuses are ``current`` (absent: no row yet).

    A status that does not move forward changes no status and no counter; when it names the
    message, the row learns the message id (a callback that overtook the sender's outcome).
    Several updates of one recipient in one batch make one row, the last status forward,
    keeping the message id and segments an earlier one brought, whatever follows it."""
    statuses = dict(current)
    writes: dict[UUID, DeliveryWrite] = {}
    gains = CountChanges()
    for update in updates:
        sid = UUID(update.subscriber_id)
        previous = statuses.get(sid)
        earlier = writes.get(sid)
        if not delivery_moves_forward(previous, update.status):
            if update.provider_message_id and previous is not None:
                writes[sid] = _message_learned(sid, previous, earlier, update)
            continue
        writes[sid] = DeliveryWrite(
            sid,
            update.status,
            update.provider_message_id or (earlier.provider_message_id if earlier else None),
            update.error_code,
            update.segments
            if update.segments is not None
            else (earlier.segments if earlier else None),
        )
        statuses[sid] = update.status
        gains = gains + count_changes(previous, update.status)
    return list(writes.values()), gains


def _message_learned(
    sid: UUID, status: DeliveryStatus, earlier: DeliveryWrite | None, update: DeliveryUpdate
) -> DeliveryWrite:
    """The row of a recipient whose status stays ``status`` when ``update`` (no move forward)
    names its message: what an earlier update of the batch brought stays, gaps filled."""
    if earlier is None:
        return DeliveryWrite(sid, status, update.provider_message_id, None, update.segments)
    return replace(
        earlier,
        provider_message_id=earlier.provider_message_id or update.provider_message_id,
        segments=earlier.segments if earlier.segments is not None else update.segments,
    )


@dataclass(frozen=True)
class AnnouncementCounts:
    """The counters of an announcement and whether sending is finished."""

    recipients: int
    sent: int
    delivered: int
    failed: int
    stopped: int = 0
    #: Copies waiting for quiet hours to end (not final: they keep it from being done).
    held: int = 0

    @classmethod
    def of(cls, announcement: Announcement) -> AnnouncementCounts:
        return cls(
            announcement.recipients,
            announcement.sent,
            announcement.delivered,
            announcement.failed,
            announcement.stopped,
            announcement.held,
        )

    def __add__(self, gains: CountChanges) -> AnnouncementCounts:
        return AnnouncementCounts(
            self.recipients,
            self.sent + gains.sent,
            self.delivered + gains.delivered,
            self.failed + gains.failed,
            self.stopped + gains.stopped,
            self.held + gains.held,
        )

    @property
    def done(self) -> bool:
        """Every recipient has a final outcome: delivered, failed or held back (stopped); a
        copy held for quiet hours is not final until it is sent."""
        return self.delivered + self.failed + self.stopped >= self.recipients


@dataclass(frozen=True)
class Progress:
    """An announcement's counters and status after some deliveries changed."""

    counts: AnnouncementCounts
    status: AnnouncementStatus
    #: True when this change completes it (it was not complete before).
    completes: bool


def progress(announcement: Announcement, gains: CountChanges) -> Progress:
    """Where ``announcement`` stands once its counters gain ``gains``.

    Complete when every recipient is final: ``sent``, or ``failed`` when no copy was
    delivered and one failed (an audience all held back is ``sent``: nothing went wrong).
    While copies are out a confirmed announcement is ``sending``. Completion happens once:
    an announcement completed already is not completed again."""
    counts = AnnouncementCounts.of(announcement) + gains
    if counts.done:
        failed = counts.delivered == 0 and counts.failed > 0
        status = AnnouncementStatus.FAILED if failed else AnnouncementStatus.SENT
    elif announcement.status is AnnouncementStatus.CONFIRMED:
        status = AnnouncementStatus.SENDING
    else:
        status = announcement.status
    return Progress(counts, status, counts.done and announcement.completed_at is None)
