"""The web composer (SPEC §5): a client previews an announcement as the SMS dialogue quotes a
draft, sends it now with CONFIRM's once-per-draft rule, or schedules it for later in their time
zone; and the scheduler that starts schedules when they are due.

A schedule starts exactly once: the scheduler claims due rows with ``FOR UPDATE SKIP LOCKED``
and, in that same transaction, checks it again as "Send now" is checked (the quote and the
plan's allowance at that moment), then either creates the announcement (whose
``user.announcement.confirmed`` goes to the outbox) and marks the schedule started, or marks
it refused with the reason and writes ``user.scheduled-announcement.refused`` (the client's
SMS notice) to the outbox. A crash before the commit leaves the schedule due for the next
claim; after it, the row is no longer due. When ProductApi or LocalizationApi does not
answer, nothing is decided: the row stays due for the next round. Two schedulers never hold
the same row, and a cancel waits for the row's lock, so it sees whether it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from nudges_kit.announcement_copies import quote_announcement
from nudges_kit.errors import BadInput, Conflict, NotFound, UpstreamUnavailable
from nudges_kit.events.catalog import user as events
from nudges_kit.localization import LocalizationClient, LocalizationError
from nudges_kit.logging import get_logger
from nudges_kit.operations import product as product_ops
from nudges_kit.phone import PhoneVault
from nudges_kit.service_client import ServiceCallError, ServiceClient
from nudges_kit.sms_text import AnnouncementQuote
from nudges_user.adapters import repository as repo
from nudges_user.domain.model import (
    Announcement,
    Client,
    InvalidInput,
    check_announcement_body,
)
from nudges_user.domain.schedules import (
    REFUSALS_LISTED,
    Refusal,
    ScheduledAnnouncement,
    ScheduleStatus,
    client_time_zone,
    refusal,
    start_time,
)
from nudges_user.service_layer.services import create_confirmed_announcement
from nudges_user.service_layer.unit_of_work import UnitOfWork, unit_of_work

log = get_logger(__name__)

Clock = Callable[[], datetime]

#: What each refusal tells the client (the composer shows its own localized text by code).
REFUSALS = {
    Refusal.NO_ACTIVE_PLAN: "you have no active plan",
    Refusal.NO_SUBSCRIBERS: "you have no subscribers yet",
    Refusal.TOO_LONG: "the message is too long for every copy to fit in one SMS text",
    Refusal.ALLOWANCE_EXCEEDED: "this message needs more SMS than your plan has left",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Preview:
    """An announcement as it would be sent now: the quote, and the plan's allowance."""

    quote: AnnouncementQuote
    allowance_active: bool
    allowance_left: int

    @property
    def refusal(self) -> Refusal | None:
        return refusal(
            active=self.allowance_active,
            recipients=self.quote.recipients,
            fits=self.quote.fits,
            messages=self.quote.messages,
            remaining=self.allowance_left,
        )


def _text(body: str) -> str:
    try:
        return check_announcement_body(body)
    except InvalidInput as exc:
        raise BadInput(str(exc), field=exc.field) from None


def _draft_key(client_id: UUID, key: str) -> str:
    """The announcement key of a web draft: the client's own key, kept apart from other
    clients' and from the SMS dialogue's drafts."""
    if not 8 <= len(key) <= 100:
        raise BadInput("idempotencyKey must have 8 to 100 characters", field="idempotencyKey")
    return f"web:{client_id}:{key}"


class Composer:
    """Preview, send now, schedule and cancel, for one client at a time."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        subgraphs: ServiceClient,
        localization: LocalizationClient,
        vault: PhoneVault,
        clock: Clock = _utc_now,
    ) -> None:
        self._pool = pool
        self._subgraphs = subgraphs
        self._l10n = localization
        self._vault = vault
        self._clock = clock

    async def time_zone(self, client: Client, browser: str | None = None) -> str:
        """The zone ``client``'s times are read in: their setting, else their number's only
        zone, else ``browser`` (the zone of the browser they use), else UTC."""
        if client.time_zone:
            return client.time_zone
        found = await repo.contact(self._pool, UUID(client.user_id))
        phone = self._vault.decrypt(found[1]) if found else None
        return client_time_zone(None, phone, browser)

    async def _client(self, client_id: UUID) -> Client:
        client = (await repo.clients_by_ids(self._pool, [client_id])).get(str(client_id))
        if client is None:
            raise NotFound("client not found")
        return client

    async def preview(self, client_id: UUID, body: str) -> Preview:
        """``body`` as each locale of the client's active subscribers receives it, with
        segments, total and what the plan has left: the SMS dialogue's quote of a draft."""
        text = _text(body)
        client = await self._client(client_id)
        audience = await repo.active_member_locales(self._pool, client_id)
        try:
            quoted, allowance = await asyncio.gather(
                quote_announcement(self._l10n, client.name, text, audience, client.locale),
                self._subgraphs.call(
                    product_ops.client_allowance,
                    product_ops.ClientIdVars(client_id=str(client_id)),
                ),
            )
        except (ServiceCallError, LocalizationError, TimeoutError) as exc:
            log.warning("composer dependency failed", error=f"{type(exc).__name__}: {exc}")
            raise UpstreamUnavailable(
                "the preview is not available right now; please try again"
            ) from exc
        return Preview(quoted, allowance.active, allowance.remaining)

    async def _sendable(self, client_id: UUID, body: str) -> Preview:
        preview = await self.preview(client_id, body)
        if (why := preview.refusal) is not None:
            raise Conflict(REFUSALS[why], field="body")
        return preview

    async def send_now(self, client_id: UUID, body: str, idempotency_key: str) -> Announcement:
        """Create the announcement of this draft, once per ``idempotency_key`` (a double
        click sends once), as CONFIRM does; refused as CONFIRM refuses (no plan, nobody to
        send to, too long, over the allowance)."""
        draft_key = _draft_key(client_id, idempotency_key)
        async with unit_of_work(self._pool) as uow:
            existing = await repo.announcement_by_draft_key(uow.conn, draft_key)
        if existing is not None:
            return existing
        preview = await self._sendable(client_id, body)
        async with unit_of_work(self._pool) as uow:
            created = await create_confirmed_announcement(
                uow, client_id, preview.quote.body, draft_key
            )
        log.info(
            "announcement sent from the composer",
            announcement_id=created.id,
            client_id=str(client_id),
            quoted_segments=preview.quote.messages,
        )
        return created

    async def schedule(
        self, client_id: UUID, body: str, local_time: datetime, time_zone: str | None = None
    ) -> ScheduledAnnouncement:
        """Keep ``body`` to start at ``local_time`` in ``time_zone`` (by default the client's
        zone, :meth:`time_zone`); refused as "Send now" would be refused at this moment."""
        if time_zone is None:
            time_zone = await self.time_zone(await self._client(client_id))
        try:
            run_at = start_time(local_time, time_zone, self._clock())
        except InvalidInput as exc:
            raise BadInput(str(exc), field=exc.field) from None
        preview = await self._sendable(client_id, body)
        async with unit_of_work(self._pool) as uow:
            return await repo.insert_schedule(
                uow.conn, uuid.uuid4(), client_id, preview.quote.body, run_at, time_zone
            )

    async def scheduled(self, client_id: UUID) -> list[ScheduledAnnouncement]:
        """The client's schedules not started yet, and those refused at their time in the
        last :data:`REFUSALS_LISTED`, soonest first."""
        return await repo.schedules_of_client(
            self._pool,
            client_id,
            [ScheduleStatus.SCHEDULED.value],
            refused_since=self._clock() - REFUSALS_LISTED,
        )

    async def cancel(self, client_id: UUID, schedule_id: UUID) -> ScheduledAnnouncement:
        """Cancel a schedule that has not started (CONFLICT once it has, or was refused)."""
        async with unit_of_work(self._pool) as uow:
            found = await repo.lock_schedule(uow.conn, schedule_id)
            if found is None or found.client_id != str(client_id):
                raise NotFound("scheduled announcement not found")
            if found.status is ScheduleStatus.CANCELED:
                return found
            if found.status is ScheduleStatus.REFUSED:
                raise Conflict("this announcement was refused at its time")
            if not found.cancellable:
                raise Conflict("this announcement has started already")
            return await repo.cancel_schedule(uow.conn, schedule_id)

    async def start_due(self, now: datetime, limit: int = 50) -> list[str]:
        """Start the schedules due at ``now`` that no other scheduler holds, each checked
        again as "Send now" is; the ids of the announcements created. Each is started, or
        refused and its client told, in the transaction of its claim (see the module's
        docstring); one whose check cannot be made now stays due."""
        started: list[str] = []
        async with unit_of_work(self._pool) as uow:
            for due in await repo.claim_due_schedules(uow.conn, now, limit):
                try:
                    preview = await self.preview(UUID(due.client_id), due.body)
                except UpstreamUnavailable:
                    log.warning(
                        "scheduled announcement left due: its check is not available now",
                        schedule_id=due.id,
                        client_id=due.client_id,
                    )
                    continue
                if (why := preview.refusal) is not None:
                    await self._refuse(uow, due, why, now)
                    continue
                created = await create_confirmed_announcement(
                    uow, UUID(due.client_id), due.body, f"schedule:{due.id}"
                )
                await repo.mark_schedule_started(uow.conn, UUID(due.id), UUID(created.id))
                started.append(created.id)
                log.info(
                    "scheduled announcement started",
                    schedule_id=due.id,
                    announcement_id=created.id,
                    client_id=due.client_id,
                    late_seconds=round((now - due.run_at).total_seconds(), 1),
                )
        return started

    async def _refuse(
        self, uow: UnitOfWork, due: ScheduledAnnouncement, why: Refusal, now: datetime
    ) -> None:
        """Mark ``due`` refused and queue the client's notice, in the claim's transaction."""
        await repo.mark_schedule_refused(uow.conn, UUID(due.id), why, now)
        await uow.publish(
            events.schedule_refused,
            due.id,
            events.ScheduleRefusedData(
                schedule_id=UUID(due.id),
                client_id=UUID(due.client_id),
                refusal=why.value,
                body=due.body,
                run_at=due.run_at,
                time_zone=due.time_zone,
                refused_at=now,
            ),
        )
        log.info(
            "scheduled announcement refused",
            schedule_id=due.id,
            client_id=due.client_id,
            refusal=why.value,
        )


async def run_scheduler(
    composer: Composer, stop: asyncio.Event, poll_seconds: float, clock: Clock = _utc_now
) -> None:
    """Start due schedules every ``poll_seconds`` until ``stop`` is set (an error is logged
    and the next round tries again: the schedules stay due)."""
    while not stop.is_set():
        try:
            await composer.start_due(clock())
        except Exception:
            log.exception("scheduler round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_seconds)
