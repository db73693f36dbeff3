"""Twilio status callbacks (``twilio.status``) into delivery records and announcement counts,
and the end of an announcement: its usage and the client's final SMS, once.

The send ledger knows the announcement and subscriber of every sid Nudges sent, so each
callback is recorded with ``recordDelivery`` (statuses only move forward in UserApi: late or
repeated callbacks change nothing). A callback can overtake the sender: Twilio's answer was
lost (the worker died, a timeout) and the send is reconciled later. Such a status is parked in
``early_statuses`` (committed before the ledger is read again) and the sender applies it as
soon as it records the sid (it records the sid before reading the parked ones): whichever
order they run in, one of them sees the other.

When the counts say the announcement is complete, the messages it used (Twilio's segments of
every message sent) are recorded against the plan's allowance (``recordUsage``, idempotent by
the announcement id) and the client is told the counts by SMS: the
``announcement_completions`` row and that ``sms.outbound`` event are written in one
transaction, so whichever worker sees the completion first does it, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from nudges_consumers.bootstrap import Deps
from nudges_consumers.service_layer import notifications
from nudges_kit.consumer import EventConsumer, HandlerContext, PermanentError
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import providers, sms
from nudges_kit.localization import ANNOUNCEMENT_DONE, LocalizationError, LocalizationUnavailable
from nudges_kit.logging import get_logger
from nudges_kit.outbox import add_event

log = get_logger(__name__)

GROUP = "delivery-status"

#: What the consumers read of an announcement after each delivery update.
ANNOUNCEMENT_FIELDS = (
    "id status recipients sent delivered failed stopped completedAt client { id name locale }"
)
RECORD_DELIVERY = f"""
mutation($a: ID!, $s: ID!, $st: DeliveryStatus!, $p: String, $e: String) {{
  recordDelivery(announcementId: $a, subscriberId: $s, status: $st, providerMessageId: $p,
                 errorCode: $e) {{ {ANNOUNCEMENT_FIELDS} }}
}}"""
RECORD_USAGE = """
mutation($c: ID!, $n: Int!, $k: String!) {
  recordUsage(clientId: $c, messages: $n, idempotencyKey: $k) { used remaining }
}"""

#: Twilio's message statuses in the words of UserApi's deliveries; the others (queued,
#: sending, accepted, received...) change nothing.
STATUSES = {
    "sent": "SENT",
    "delivered": "DELIVERED",
    "read": "DELIVERED",
    "undelivered": "UNDELIVERED",
    "failed": "FAILED",
    "canceled": "FAILED",
}


@dataclass(frozen=True)
class Progress:
    """An announcement's counts as UserApi returned them after an update."""

    announcement_id: UUID
    client_id: UUID
    client_name: str
    client_locale: str
    status: str
    recipients: int
    sent: int
    delivered: int
    failed: int
    completed: bool
    #: Recipients who texted STOP before their copy was sent (nothing was sent to them).
    stopped: int = 0

    @classmethod
    def of(cls, found: dict[str, Any]) -> Progress:
        client = found.get("client") or {}
        return cls(
            announcement_id=UUID(found["id"]),
            client_id=UUID(client["id"]),
            client_name=client.get("name") or "",
            client_locale=client.get("locale") or "en",
            status=found["status"],
            recipients=int(found["recipients"]),
            sent=int(found["sent"]),
            delivered=int(found["delivered"]),
            failed=int(found["failed"]),
            completed=found.get("completedAt") is not None,
            stopped=int(found.get("stopped") or 0),
        )


@dataclass(frozen=True)
class AnnouncementSend:
    """Whose copy of which announcement a message is."""

    announcement_id: UUID
    subscriber_id: UUID


@dataclass(frozen=True)
class LedgerMessage:
    """A message the send ledger knows: an announcement's copy, or another SMS (None)."""

    announcement_send: AnnouncementSend | None


async def _ledger_message(conn: asyncpg.Connection, message_sid: str) -> LedgerMessage | None:
    row = await conn.fetchrow(
        "SELECT announcement_id, subscriber_id FROM sms_sends WHERE message_sid = $1",
        message_sid,
    )
    if row is None:
        return None
    if row["announcement_id"] is None:
        return LedgerMessage(None)
    return LedgerMessage(AnnouncementSend(row["announcement_id"], row["subscriber_id"]))


async def record_delivery(
    deps: Deps,
    send: AnnouncementSend,
    status: str,
    message_sid: str | None,
    error_code: str | None,
) -> Progress:
    """One recipient's delivery status in UserApi; the announcement's counts after it."""
    found = await deps.graph.user(
        RECORD_DELIVERY,
        a=str(send.announcement_id),
        s=str(send.subscriber_id),
        st=status,
        p=message_sid,
        e=error_code,
    )
    return Progress.of(found["recordDelivery"])


@dataclass(frozen=True)
class DeliveryRecord:
    """One recipient's delivery status to record."""

    send: AnnouncementSend
    status: str
    message_sid: str | None
    error_code: str | None


RECORD_DELIVERIES = f"""
mutation($a: ID!, $d: [DeliveryInput!]!) {{
  recordDeliveries(announcementId: $a, deliveries: $d) {{ {ANNOUNCEMENT_FIELDS} }}
}}"""


async def record_deliveries(deps: Deps, records: list[DeliveryRecord]) -> list[Progress]:
    """Several recipients' statuses, in order, with one ``recordDeliveries`` call (one UserApi
    transaction) per announcement; each announcement's counts after its call."""
    by_announcement: dict[UUID, list[DeliveryRecord]] = {}
    for record in records:
        by_announcement.setdefault(record.send.announcement_id, []).append(record)
    progresses = []
    for announcement_id, recorded in by_announcement.items():
        found = await deps.graph.user(
            RECORD_DELIVERIES,
            a=str(announcement_id),
            d=[
                {
                    "subscriberId": str(r.send.subscriber_id),
                    "status": r.status,
                    "providerMessageId": r.message_sid,
                    "errorCode": r.error_code,
                }
                for r in recorded
            ],
        )
        progresses.append(Progress.of(found["recordDeliveries"]))
    return progresses


async def record_status(deps: Deps, data: providers.TwilioStatusData) -> Progress | None:
    """Record one status callback; the announcement's progress when it is one of its."""
    status = STATUSES.get(data.status.lower())
    if status is None:
        return None
    async with deps.pool.acquire() as conn:
        message = await _ledger_message(conn, data.message_sid)
        if message is None:
            await conn.execute(
                "INSERT INTO early_statuses (message_sid, status, error_code)"
                " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                data.message_sid,
                status,
                data.error_code,
            )
            message = await _ledger_message(conn, data.message_sid)
            if message is None:
                log.info("status of a message not recorded yet, parked", sid=data.message_sid)
                return None
            # The sender recorded the sid meanwhile: this callback is recorded here.
            await conn.execute(
                "DELETE FROM early_statuses WHERE message_sid = $1 AND status = $2",
                data.message_sid,
                status,
            )
    if message.announcement_send is None:
        return None  # a one-off SMS (a code, a notice): no delivery record to update
    return await record_delivery(
        deps, message.announcement_send, status, data.message_sid, data.error_code
    )


async def finish_announcement(deps: Deps, conn: asyncpg.Connection, progress: Progress) -> bool:
    """Once an announcement is complete: record its usage and queue the client's final SMS,
    in the caller's transaction on ``conn``; True when this call did it."""
    if not progress.completed:
        return False
    aid = progress.announcement_id
    if await conn.fetchval(
        "SELECT true FROM announcement_completions WHERE announcement_id = $1", aid
    ):
        return False
    used = int(
        await conn.fetchval(
            "SELECT coalesce(sum(segments), 0) FROM sms_sends"
            " WHERE announcement_id = $1 AND state = 'sent'",
            aid,
        )
    )
    if used > 0:
        await deps.graph.product(RECORD_USAGE, c=str(progress.client_id), n=used, k=str(aid))
    contact = await notifications.client_contact(deps, progress.client_id)
    try:
        text = await deps.localization.render(
            ANNOUNCEMENT_DONE,
            progress.client_locale,
            sent=progress.sent,
            delivered=progress.delivered,
            failed=progress.failed,
        )
    except LocalizationUnavailable:
        raise
    except LocalizationError as exc:
        raise PermanentError(f"announcement.done cannot be rendered: {exc}") from exc
    first = await conn.fetchval(
        "INSERT INTO announcement_completions"
        " (announcement_id, client_id, sent, delivered, failed, messages_used)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
        aid,
        progress.client_id,
        progress.sent,
        progress.delivered,
        progress.failed,
        used,
    )
    if not first:
        return False
    if contact is not None:
        await add_event(
            conn,
            sms.sms_outbound,
            str(progress.client_id),
            sms.OutboundSmsData(
                to_ciphertext=contact.phone_ciphertext,
                body=text,
                idempotency_key=f"announcement.done:{aid}",
            ),
        )
    log.info(
        "announcement finished",
        announcement_id=str(aid),
        sent=progress.sent,
        delivered=progress.delivered,
        failed=progress.failed,
        stopped=progress.stopped,
        messages_used=used,
        client_told=contact is not None,
    )
    return True


def consumers(deps: Deps) -> list[EventConsumer]:
    """The consumer of Twilio's status callbacks."""

    async def status(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
        progress = await record_status(deps, data)
        if progress is not None and progress.completed:
            await finish_announcement(deps, ctx.conn, progress)

    return [
        EventConsumer(
            group=GROUP,
            settings=deps.settings,
            pool=deps.pool,
            handlers={providers.twilio_status: status},
            max_attempts=deps.settings.max_attempts,
        )
    ]
