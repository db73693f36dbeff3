"""The GraphQL types of UserApi: thin views of domain values, their nested fields loaded
through the request's DataLoaders and guarded per field."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated
from uuid import UUID

import strawberry

from nudges_kit import dlq
from nudges_kit.errors import Forbidden, NotFound
from nudges_kit.graphql import Connection, Page, context_of, encode_cursor, page_size
from nudges_kit.phone import mask
from nudges_user.adapters import repository as repo
from nudges_user.domain import model
from nudges_user.entrypoints.graphql import loaders
from nudges_user.entrypoints.graphql.access import owner_or, require_owner, visible_announcement
from nudges_user.entrypoints.graphql.context import (
    Info,
    composer_of,
    parse_id,
    pool_of,
    position,
    vault_of,
)


@strawberry.enum
class MembershipStatus(Enum):
    ACTIVE = "active"
    STOPPED = "stopped"


@strawberry.enum(description="What clientBySlug matches its slug argument against.")
class ClientMatch(Enum):
    SLUG = "slug"
    #: JOIN <word> by SMS: a client's slug, else its keyword.
    SLUG_OR_KEYWORD = "slug_or_keyword"
    #: A word texted alone: a client's keyword, in any case.
    KEYWORD = "keyword"


@strawberry.enum
class AnnouncementStatus(Enum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@strawberry.federation.type(inaccessible=True)
class LocaleAudience:
    """How many of a client's active subscribers read ``locale`` (service accounts only)."""

    locale: str
    count: int


@strawberry.federation.type(keys=["id"])
class Client:
    """A creator, coach, shop or community that texts its subscribers."""

    id: strawberry.ID
    name: str
    slug: str
    locale: str
    created_at: datetime
    keyword: str | None = strawberry.field(
        description="The word people text to the Nudges number to join (public, as the slug)."
    )
    _stripe_customer_id: strawberry.Private[str | None]
    _quiet_hours: strawberry.Private[bool]
    _client: strawberry.Private[model.Client]

    @classmethod
    def of(cls, client: model.Client) -> Client:
        return cls(
            id=strawberry.ID(client.id),
            name=client.name,
            slug=client.slug,
            locale=client.locale,
            created_at=client.created_at,  # type: ignore[arg-type]
            keyword=client.keyword,
            _stripe_customer_id=client.stripe_customer_id,
            _quiet_hours=client.quiet_hours,
            _client=client,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Client | None:
        found = await loaders.clients(info).load(str(parse_id(id, "id")))
        return cls.of(found) if found else None

    @strawberry.field(description="The Stripe customer (admins and services).")
    def stripe_customer_id(self, info: Info) -> str | None:
        # Stripe ids are for staff: not even the client itself reads its own.
        context_of(info).require("admin", "service")
        return self._stripe_customer_id

    @strawberry.field(
        description="Announcement copies wait for 08:00 in each subscriber's time zone (no"
        " copy between 21:00 and 08:00 their time); on unless the client turned it off (the"
        " client, admins and services)."
    )
    def quiet_hours(self, info: Info) -> bool:
        require_owner(info, str(self.id))
        return self._quiet_hours

    @strawberry.field(
        description="The IANA zone the client's times are read in (scheduled announcements):"
        " their setting; else the zone of their number when it has exactly one; else"
        " browserTimeZone (the zone of the browser asking), when it is a known zone; else UTC"
        " (the client, admins and services)."
    )
    async def time_zone(self, info: Info, browser_time_zone: str | None = None) -> str:
        require_owner(info, str(self.id))
        return await composer_of(info).time_zone(self._client, browser_time_zone)

    @strawberry.field(
        description="Whether the client chose their time zone (false: timeZone is the default)."
    )
    def time_zone_set(self, info: Info) -> bool:
        require_owner(info, str(self.id))
        return self._client.time_zone is not None

    @strawberry.field(description="Active subscribers (the client and admins).")
    async def subscriber_count(self, info: Info) -> int:
        require_owner(info, str(self.id))
        return await loaders.member_counts(info).load(str(self.id))

    @strawberry.federation.field(
        description="Active subscribers by language, for the SMS dialogue's quote (services).",
        inaccessible=True,
    )
    async def audience_locales(self, info: Info) -> list[LocaleAudience]:
        context_of(info).require("service")
        counts = await repo.active_member_locales(pool_of(info), UUID(self.id))
        return [LocaleAudience(locale=locale, count=n) for locale, n in counts.items()]

    @strawberry.field(description="The client's subscribers, in join order.")
    async def subscribers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: MembershipStatus | None = None,
    ) -> Connection[Membership]:
        require_owner(info, str(self.id))
        return await members_page(info, UUID(self.id), first, after, status)

    @strawberry.field(description="The client's announcements, newest first.")
    async def announcements(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Announcement]:
        require_owner(info, str(self.id))
        return await announcements_page(info, UUID(self.id), first, after)


@strawberry.federation.type(keys=["id"])
class Subscriber:
    """A person who joined one or more clients by phone."""

    id: strawberry.ID
    locale: str
    created_at: datetime
    _phone_ciphertext: strawberry.Private[str]

    @classmethod
    def of(cls, subscriber: model.Subscriber) -> Subscriber:
        return cls(
            id=strawberry.ID(subscriber.id),
            locale=subscriber.locale,
            created_at=subscriber.created_at,  # type: ignore[arg-type]
            _phone_ciphertext=subscriber.phone_ciphertext,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Subscriber | None:
        principal = context_of(info).require()
        if not owner_or(principal, str(id), "admin", "service"):
            raise Forbidden("only the subscriber or an admin may see this subscriber")
        found = await loaders.subscribers(info).load(str(parse_id(id, "id")))
        return cls.of(found) if found else None

    @strawberry.field(description="The number, masked: +1•••••4567. Never in clear.")
    def phone_masked(self, info: Info) -> str:
        return mask(vault_of(info).decrypt(self._phone_ciphertext))

    @strawberry.field(description="Every membership (the subscriber and admins).")
    async def memberships(self, info: Info) -> list[Membership]:
        principal = context_of(info).require()
        if not owner_or(principal, str(self.id), "admin", "service"):
            raise Forbidden("only the subscriber or an admin may see memberships")
        found = await loaders.memberships(info).load(str(self.id))
        return [Membership.of(m) for m in found]


@strawberry.type
class Membership:
    """A subscriber's opt-in to one client."""

    id: strawberry.ID
    status: MembershipStatus
    source: str
    joined_at: datetime
    stopped_at: datetime | None
    _client_id: strawberry.Private[str]
    _subscriber_id: strawberry.Private[str]
    _subscriber: strawberry.Private[model.Subscriber | None] = None

    @classmethod
    def of(cls, m: model.Membership, subscriber: model.Subscriber | None = None) -> Membership:
        return cls(
            id=strawberry.ID(m.id),
            status=MembershipStatus(m.status.value),
            source=m.source,
            joined_at=m.joined_at,
            stopped_at=m.stopped_at,  # type: ignore[arg-type]
            _client_id=m.client_id,
            _subscriber_id=m.subscriber_id,
            _subscriber=subscriber,
        )

    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        found = await loaders.clients(info).load(self._client_id)
        return Client.of(found) if found else None

    @strawberry.field
    async def subscriber(self, info: Info) -> Subscriber | None:
        found = self._subscriber or await loaders.subscribers(info).load(self._subscriber_id)
        return Subscriber.of(found) if found else None


@strawberry.federation.type(keys=["id"])
class Announcement:
    """A text a client sent to every active subscriber, with its delivery counts."""

    id: strawberry.ID
    body: str
    status: AnnouncementStatus
    recipients: int
    sent: int
    delivered: int
    failed: int
    stopped: int = strawberry.field(
        description="Recipients who texted STOP before their copy was sent: nothing sent."
    )
    held: int = strawberry.field(
        description="Copies waiting for quiet hours to end at their recipient's number (sent"
        " from 08:00 their time); the announcement completes once they are out."
    )
    created_at: datetime
    confirmed_at: datetime | None
    completed_at: datetime | None
    _client_id: strawberry.Private[str]
    _model: strawberry.Private[model.Announcement]

    @classmethod
    def of(cls, a: model.Announcement) -> Announcement:
        return cls(
            id=strawberry.ID(a.id),
            body=a.body,
            status=AnnouncementStatus(a.status.value),
            recipients=a.recipients,
            sent=a.sent,
            delivered=a.delivered,
            failed=a.failed,
            stopped=a.stopped,
            held=a.held,
            created_at=a.created_at,
            confirmed_at=a.confirmed_at,  # type: ignore[arg-type]
            completed_at=a.completed_at,  # type: ignore[arg-type]
            _client_id=a.client_id,
            _model=a,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Announcement | None:
        try:
            return cls.of(await visible_announcement(info, id))
        except NotFound:
            return None  # another client's announcement is as absent as a missing one

    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        found = await loaders.clients(info).load(self._client_id)
        return Client.of(found) if found else None


@strawberry.type
class Admin:
    """Nudges staff."""

    id: strawberry.ID


Viewer = Annotated[Admin | Client | Subscriber, strawberry.union("Viewer")]


@strawberry.type
class UserTotals:
    clients: int
    subscribers: int
    active_memberships: int
    announcements: int
    messages_sent: int
    messages_delivered: int
    messages_failed: int


@strawberry.type(description="One calendar day of the dashboard's series.")
class ActivityDay:
    day: date
    messages_sent: int = strawberry.field(
        description="Messages sent by the announcements that count on this day (completed, else"
        " confirmed)."
    )
    messages_delivered: int
    messages_failed: int
    new_subscribers: int = strawberry.field(description="Memberships that joined on this day.")


@strawberry.federation.type(inaccessible=True)
class Recipient:
    """One active subscriber as the fan-out needs it (service accounts only)."""

    subscriber_id: strawberry.ID
    locale: str
    phone_ciphertext: str

    @classmethod
    def of(cls, subscriber: model.Subscriber) -> Recipient:
        return cls(
            subscriber_id=strawberry.ID(subscriber.id),
            locale=subscriber.locale,
            phone_ciphertext=subscriber.phone_ciphertext,
        )


@strawberry.federation.type(inaccessible=True)
class RecipientPage:
    recipients: list[Recipient]
    next_after: strawberry.ID | None


@strawberry.federation.type(inaccessible=True)
class Contact:
    """How to text a user: their language and encrypted number (service accounts only)."""

    locale: str
    phone_ciphertext: str


@strawberry.federation.type(inaccessible=True)
class PhoneIdentity:
    """Who a phone number is, for the SMS dialogue (service accounts only)."""

    user_id: strawberry.ID | None
    locale: str
    is_admin: bool
    client: Client | None
    active_memberships: int
    stopped_memberships: int


@strawberry.type
class DeadLetter:
    """An event a consumer could not handle, parked on ``<topic>.dlq`` (admins)."""

    id: strawberry.ID
    topic: str
    partition: int
    offset: int
    key: str | None
    consumer_group: str
    event_id: str | None
    event_type: str | None
    error: str
    error_type: str
    attempts: int
    failed_at: datetime

    @classmethod
    def of(cls, letter: dlq.DeadLetter) -> DeadLetter:
        return cls(
            id=strawberry.ID(letter.id),
            topic=letter.topic,
            partition=letter.partition,
            offset=letter.offset,
            key=letter.key,
            consumer_group=letter.consumer_group,
            event_id=letter.event_id,
            event_type=letter.event_type,
            error=letter.error,
            error_type=letter.error_type,
            attempts=letter.attempts,
            failed_at=letter.failed_at,
        )


# --- pages -------------------------------------------------------------------------------------


async def members_page(
    info: Info,
    client_id: UUID | None,
    first: int | None,
    after: str | None,
    status: MembershipStatus | None,
) -> Connection[Membership]:
    """A page of memberships in join order: of one client, or of every client when
    ``client_id`` is None."""
    size = page_size(first)
    rows, total = await repo.list_members(
        pool_of(info),
        client_id,
        size + 1,
        position(after),
        model.MembershipStatus(status.value) if status else None,
    )
    items: list[Membership] = []
    cursors: list[str] = []
    for subscriber, membership in rows[:size]:
        items.append(Membership.of(membership, subscriber))
        # The repository's order: by subscriber within a client, by membership across all.
        tiebreak = subscriber.id if client_id is not None else membership.id
        cursors.append(encode_cursor(membership.joined_at.isoformat(), tiebreak))
    return Page(items, cursors, len(rows) > size, total).connection()


async def announcements_page(
    info: Info, client_id: UUID | None, first: int | None, after: str | None
) -> Connection[Announcement]:
    """A page of announcements, newest first: of one client, or of every client."""
    size = page_size(first)
    rows, total = await repo.list_announcements(pool_of(info), client_id, size + 1, position(after))
    page = rows[:size]
    return Page(
        [Announcement.of(a) for a in page],
        [encode_cursor(a.created_at.isoformat(), a.id) for a in page],
        len(rows) > size,
        total,
    ).connection()
