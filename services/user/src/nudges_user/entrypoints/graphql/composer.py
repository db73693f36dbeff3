"""The web composer's types, queries and mutations (a signed-in client, for itself): the
preview of an announcement, "Send now", and scheduled announcements."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated
from uuid import UUID

import strawberry

from nudges_kit.graphql import context_of
from nudges_user.domain import schedules
from nudges_user.entrypoints.graphql.context import Info, composer_of, parse_id
from nudges_user.entrypoints.graphql.types import Announcement
from nudges_user.service_layer.composer import Preview


def _client_id(info: Info) -> UUID:
    principal = context_of(info).require("client")
    return parse_id(principal.user_id, "sub")


@strawberry.type
class LocaleCopy:
    """One locale's copy of an announcement, as its subscribers receive it."""

    locale: str
    text: str
    segments: int
    recipients: int = strawberry.field(description="Active subscribers who read this locale.")


@strawberry.enum(description="Why an announcement cannot be sent now (as CONFIRM refuses it).")
class AnnouncementRefusal(Enum):
    NO_ACTIVE_PLAN = "no_active_plan"
    NO_SUBSCRIBERS = "no_subscribers"
    TOO_LONG = "too_long"
    ALLOWANCE_EXCEEDED = "allowance_exceeded"


@strawberry.type
class AnnouncementPreview:
    """An announcement as it would be sent now, quoted as the SMS dialogue quotes a draft."""

    copies: list[LocaleCopy]
    recipients: int
    total_segments: int = strawberry.field(
        description="The SMS the whole audience is charged: each copy's segments times its"
        " recipients, summed."
    )
    allowance_left: int
    plan_active: bool
    max_characters: int = strawberry.field(
        description="The longest text every copy would still fit with."
    )
    refusal: AnnouncementRefusal | None = strawberry.field(
        description="Why it cannot be sent now; null when it can."
    )

    @classmethod
    def of(cls, preview: Preview) -> AnnouncementPreview:
        quote = preview.quote
        why = preview.refusal
        return cls(
            copies=[
                LocaleCopy(
                    locale=locale,
                    text=text,
                    segments=quote.segments[locale],
                    recipients=quote.audience.get(locale, 0),
                )
                for locale, text in quote.copies.items()
            ],
            recipients=quote.recipients,
            total_segments=quote.messages,
            allowance_left=preview.allowance_left,
            plan_active=preview.allowance_active,
            max_characters=quote.max_body_characters,
            refusal=AnnouncementRefusal[why.name] if why else None,
        )


@strawberry.enum
class ScheduleStatus(Enum):
    SCHEDULED = "scheduled"
    STARTED = "started"
    CANCELED = "canceled"
    REFUSED = "refused"


@strawberry.type
class ScheduledAnnouncement:
    """An announcement to start at ``sendAt`` (within a minute of it), once; checked again
    then as "Send now" is, and refused (``REFUSED``, with ``refusal``) when it may not be sent
    at that moment."""

    id: strawberry.ID
    body: str
    send_at: datetime
    time_zone: str
    status: ScheduleStatus
    announcement_id: strawberry.ID | None
    created_at: datetime
    refusal: AnnouncementRefusal | None = strawberry.field(
        description="Why it was not started at its time (REFUSED only)."
    )
    refused_at: datetime | None

    @classmethod
    def of(cls, s: schedules.ScheduledAnnouncement) -> ScheduledAnnouncement:
        return cls(
            id=strawberry.ID(s.id),
            body=s.body,
            send_at=s.run_at,
            time_zone=s.time_zone,
            status=ScheduleStatus(s.status.value),
            announcement_id=strawberry.ID(s.announcement_id) if s.announcement_id else None,
            created_at=s.created_at,
            refusal=AnnouncementRefusal[s.refusal.name] if s.refusal else None,
            refused_at=s.refused_at,
        )


@strawberry.type
class ComposerQuery:
    @strawberry.field(
        description="The caller's announcement as it would be sent now: each locale's copy"
        " with its segments, the total and the allowance left (clients)."
    )
    async def preview_announcement(self, info: Info, text: str) -> AnnouncementPreview:
        client_id = _client_id(info)
        return AnnouncementPreview.of(await composer_of(info).preview(client_id, text))

    @strawberry.field(
        description="The caller's announcements scheduled and not started yet, and those"
        " refused at their time in the last 7 days, soonest first."
    )
    async def scheduled_announcements(self, info: Info) -> list[ScheduledAnnouncement]:
        client_id = _client_id(info)
        found = await composer_of(info).scheduled(client_id)
        return [ScheduledAnnouncement.of(s) for s in found]


@strawberry.type
class ComposerMutation:
    @strawberry.mutation(
        description="Send an announcement now, once per idempotencyKey (one key per draft: a"
        " second call with it returns the same announcement), as CONFIRM by SMS does."
    )
    async def send_announcement(self, info: Info, text: str, idempotency_key: str) -> Announcement:
        client_id = _client_id(info)
        return Announcement.of(await composer_of(info).send_now(client_id, text, idempotency_key))

    @strawberry.mutation(
        description="Schedule an announcement for a later time; refused now as Send now would"
        " be, and checked again when it is due."
    )
    async def schedule_announcement(
        self,
        info: Info,
        text: str,
        send_at: Annotated[
            datetime,
            strawberry.argument(description="Wall-clock date and time in timeZone, no offset."),
        ],
        time_zone: Annotated[
            str | None,
            strawberry.argument(
                description="IANA name, e.g. Europe/Paris; the client's timeZone when absent."
            ),
        ] = None,
    ) -> ScheduledAnnouncement:
        client_id = _client_id(info)
        created = await composer_of(info).schedule(client_id, text, send_at, time_zone)
        return ScheduledAnnouncement.of(created)

    @strawberry.mutation(description="Cancel a scheduled announcement that has not started.")
    async def cancel_scheduled_announcement(
        self, info: Info, id: strawberry.ID
    ) -> ScheduledAnnouncement:
        client_id = _client_id(info)
        canceled = await composer_of(info).cancel(client_id, parse_id(id, "id"))
        return ScheduledAnnouncement.of(canceled)
