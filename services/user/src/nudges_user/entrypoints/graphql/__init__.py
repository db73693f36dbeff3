"""The UserApi subgraph: thin types whose resolvers call the service layer and repository
reads, with authorization per field."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.federation import Schema

from nudges_kit import dlq
from nudges_kit.auth import Principal
from nudges_kit.errors import BadInput, Forbidden, NotFound
from nudges_kit.graphql import (
    Connection,
    DomainErrors,
    Page,
    SubgraphContext,
    context_of,
    decode_cursor,
    encode_cursor,
    page_size,
)
from nudges_kit.kafka import all_topics
from nudges_kit.notify import ChangeListener
from nudges_kit.phone import PhoneVault, mask
from nudges_user.adapters import repository as repo
from nudges_user.domain import model
from nudges_user.service_layer.services import (
    ANNOUNCEMENT_PROGRESS,
    CLIENT_UPDATED,
    UserService,
)

Info = strawberry.Info[SubgraphContext, None]


def _ctx(info: Info) -> SubgraphContext:
    return context_of(info)


def _service(info: Info) -> UserService:
    return UserService(_pool(info))


def _pool(info: Info) -> Any:
    pool = _ctx(info).pool
    assert pool is not None, "UserApi runs with its database"
    return pool


def _vault(info: Info) -> PhoneVault:
    request = _ctx(info).request
    assert request is not None
    return request.app.state.phone_vault  # type: ignore[no-any-return]


def _uuid(value: str, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise BadInput(f"{field} is not a valid id", field=field) from None


def _after(cursor: str | None) -> tuple[datetime, UUID] | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        moment, row_id = values
        return datetime.fromisoformat(moment), UUID(row_id)
    except ValueError:
        raise BadInput("the cursor is not valid", field="after") from None


def _owner_or(principal: Principal | None, client_id: str, *roles: str) -> bool:
    if principal is None:
        return False
    return principal.user_id == client_id or principal.has_role(*roles)  # type: ignore[arg-type]


async def _visible_announcement(info: Info, id: strawberry.ID) -> model.Announcement:
    """The announcement, when the caller is its client, an admin or a service. Anyone else
    hears NOT_FOUND whether it exists or not, so that ids of other clients' announcements
    cannot be probed."""
    principal = _ctx(info).require()
    found = await _announcements_loader(info).load(str(_uuid(id, "id")))
    if found is None or not _owner_or(principal, found.client_id, "admin", "service"):
        raise NotFound("announcement not found")
    return found


def _require_owner(info: Info, client_id: str) -> Principal:
    principal = _ctx(info).require()
    if not _owner_or(principal, client_id, "admin", "service"):
        raise Forbidden("only this client or an admin may see this")
    return principal


# --- loaders (one per request: no N+1 queries) ---------------------------------------------


def _clients_loader(info: Info) -> DataLoader[str, model.Client | None]:
    pool = _pool(info)

    async def load(ids: list[str]) -> Sequence[model.Client | None]:
        found = await repo.clients_by_ids(pool, [UUID(i) for i in ids])
        return [found.get(i) for i in ids]

    return _ctx(info).loader("clients", lambda: DataLoader(load_fn=load))


def _member_counts_loader(info: Info) -> DataLoader[str, int]:
    pool = _pool(info)

    async def load(ids: list[str]) -> Sequence[int]:
        counts = await repo.active_member_counts(pool, [UUID(i) for i in ids])
        return [counts[i] for i in ids]

    return _ctx(info).loader("member_counts", lambda: DataLoader(load_fn=load))


def _subscribers_loader(info: Info) -> DataLoader[str, model.Subscriber | None]:
    pool = _pool(info)

    async def load(ids: list[str]) -> Sequence[model.Subscriber | None]:
        found = await repo.subscribers_by_ids(pool, [UUID(i) for i in ids])
        return [found.get(i) for i in ids]

    return _ctx(info).loader("subscribers", lambda: DataLoader(load_fn=load))


def _memberships_loader(info: Info) -> DataLoader[str, list[model.Membership]]:
    pool = _pool(info)

    async def load(ids: list[str]) -> Sequence[list[model.Membership]]:
        found = await repo.memberships_of_subscribers(pool, [UUID(i) for i in ids])
        return [found[i] for i in ids]

    return _ctx(info).loader("memberships", lambda: DataLoader(load_fn=load))


def _announcements_loader(info: Info) -> DataLoader[str, model.Announcement | None]:
    pool = _pool(info)

    async def load(ids: list[str]) -> Sequence[model.Announcement | None]:
        found = await repo.announcements_by_ids(pool, [UUID(i) for i in ids])
        return [found.get(i) for i in ids]

    return _ctx(info).loader("announcements", lambda: DataLoader(load_fn=load))


# --- types -----------------------------------------------------------------------------------


@strawberry.enum
class MembershipStatus(Enum):
    ACTIVE = "active"
    STOPPED = "stopped"


@strawberry.enum
class AnnouncementStatus(Enum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@strawberry.federation.type(keys=["id"])
class Client:
    """A creator, coach, shop or community that texts its subscribers."""

    id: strawberry.ID
    name: str
    slug: str
    locale: str
    created_at: datetime
    _stripe_customer_id: strawberry.Private[str | None]

    @classmethod
    def of(cls, client: model.Client) -> Client:
        return cls(
            id=strawberry.ID(client.id),
            name=client.name,
            slug=client.slug,
            locale=client.locale,
            created_at=client.created_at,  # type: ignore[arg-type]
            _stripe_customer_id=client.stripe_customer_id,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Client | None:
        found = await _clients_loader(info).load(str(_uuid(id, "id")))
        return cls.of(found) if found else None

    @strawberry.field(description="The Stripe customer (admins and services).")
    def stripe_customer_id(self, info: Info) -> str | None:
        # Stripe ids are for staff: not even the client itself reads its own.
        _ctx(info).require("admin", "service")
        return self._stripe_customer_id

    @strawberry.field(description="Active subscribers (the client and admins).")
    async def subscriber_count(self, info: Info) -> int:
        _require_owner(info, str(self.id))
        return await _member_counts_loader(info).load(str(self.id))

    @strawberry.field(description="The client's subscribers, in join order.")
    async def subscribers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: MembershipStatus | None = None,
    ) -> Connection[Membership]:
        _require_owner(info, str(self.id))
        return await _members_page(info, UUID(self.id), first, after, status)

    @strawberry.field(description="The client's announcements, newest first.")
    async def announcements(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Announcement]:
        _require_owner(info, str(self.id))
        return await _announcements_page(info, UUID(self.id), first, after)


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
        principal = _ctx(info).require()
        if not _owner_or(principal, str(id), "admin", "service"):
            raise Forbidden("only the subscriber or an admin may see this subscriber")
        found = await _subscribers_loader(info).load(str(_uuid(id, "id")))
        return cls.of(found) if found else None

    @strawberry.field(description="The number, masked: +1•••••4567. Never in clear.")
    def phone_masked(self, info: Info) -> str:
        return mask(_vault(info).decrypt(self._phone_ciphertext))

    @strawberry.field(description="Every membership (the subscriber and admins).")
    async def memberships(self, info: Info) -> list[Membership]:
        principal = _ctx(info).require()
        if not _owner_or(principal, str(self.id), "admin", "service"):
            raise Forbidden("only the subscriber or an admin may see memberships")
        found = await _memberships_loader(info).load(str(self.id))
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
        found = await _clients_loader(info).load(self._client_id)
        return Client.of(found) if found else None

    @strawberry.field
    async def subscriber(self, info: Info) -> Subscriber | None:
        found = self._subscriber or await _subscribers_loader(info).load(self._subscriber_id)
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
            created_at=a.created_at,
            confirmed_at=a.confirmed_at,  # type: ignore[arg-type]
            completed_at=a.completed_at,  # type: ignore[arg-type]
            _client_id=a.client_id,
            _model=a,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Announcement | None:
        try:
            return cls.of(await _visible_announcement(info, id))
        except NotFound:
            return None  # another client's announcement is as absent as a missing one

    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        found = await _clients_loader(info).load(self._client_id)
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


#: The longest range one dailyActivity call covers.
MAX_ACTIVITY_DAYS = 366


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput("timeZone is not a known time zone", field="timeZone") from None
    return name


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


async def _dead_letters(info: Info, topic: str | None) -> list[dlq.DeadLetter]:
    topics = [t for t in all_topics() if not t.endswith(".dlq")]
    if topic is not None:
        if topic not in topics:
            raise BadInput(f"no topic {topic!r}", field="topic")
        topics = [topic]
    letters = await dlq.read_dead_letters(_ctx(info).settings, *topics)
    return sorted(letters, key=lambda x: (x.failed_at, x.id), reverse=True)


# --- pages -------------------------------------------------------------------------------------


async def _members_page(
    info: Info,
    client_id: UUID | None,
    first: int | None,
    after: str | None,
    status: MembershipStatus | None,
) -> Connection[Membership]:
    size = page_size(first)
    rows, total = await repo.list_members(
        _pool(info),
        client_id,
        size + 1,
        _after(after),
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


async def _announcements_page(
    info: Info, client_id: UUID | None, first: int | None, after: str | None
) -> Connection[Announcement]:
    size = page_size(first)
    rows, total = await repo.list_announcements(_pool(info), client_id, size + 1, _after(after))
    page = rows[:size]
    return Page(
        [Announcement.of(a) for a in page],
        [encode_cursor(a.created_at.isoformat(), a.id) for a in page],
        len(rows) > size,
        total,
    ).connection()


# --- root types -----------------------------------------------------------------------------


@strawberry.input
class CreateClientInput:
    name: str
    slug: str | None = None
    locale: str | None = None


@strawberry.input
class UpdateClientInput:
    name: str | None = None
    slug: str | None = None
    locale: str | None = None


@strawberry.type
class Query:
    @strawberry.field(description="The caller: an Admin, a Client or a Subscriber.")
    async def viewer(self, info: Info) -> Viewer | None:
        principal = _ctx(info).principal
        # A service account is none of the three: no viewer, and its ``sub`` is no user id.
        if principal is None or not principal.has_role("admin", "client", "subscriber"):
            return None
        pool = _pool(info)
        user_id = _uuid(principal.user_id, "sub")
        if principal.has_role("admin") and await repo.is_admin(pool, user_id):
            return Admin(id=strawberry.ID(str(user_id)))
        if principal.has_role("client") and (client := await repo.client_by_user(pool, user_id)):
            return Client.of(client)
        if principal.has_role("subscriber") and (
            subscriber := await repo.subscriber_by_user(pool, user_id)
        ):
            return Subscriber.of(subscriber)
        return None

    @strawberry.field(description="A client's public page (anyone).")
    async def client_by_slug(self, info: Info, slug: str) -> Client | None:
        wanted = slug.strip().lower()
        if not model.SLUG_PATTERN.match(wanted):
            return None  # no client can have it
        found = await repo.client_by_slug(_pool(info), wanted)
        return Client.of(found) if found else None

    @strawberry.field(description="One client (the client and admins).")
    async def client(self, info: Info, id: strawberry.ID) -> Client | None:
        _require_owner(info, str(id))
        found = await _clients_loader(info).load(str(_uuid(id, "id")))
        return Client.of(found) if found else None

    @strawberry.field(description="Every client (admins).")
    async def clients(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Client]:
        _ctx(info).require("admin")
        size = page_size(first)
        rows, total = await repo.list_clients(_pool(info), size + 1, _after(after), search)
        page = rows[:size]
        return Page(
            [Client.of(c) for c in page],
            [encode_cursor(c.created_at.isoformat(), c.id) for c in page],
            len(rows) > size,
            total,
        ).connection()

    @strawberry.field(description="Subscribers: all for admins, their own for a client.")
    async def subscribers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: MembershipStatus | None = None,
    ) -> Connection[Membership]:
        principal = _ctx(info).require("admin", "client")
        client_id = None if principal.has_role("admin") else _uuid(principal.user_id, "sub")
        return await _members_page(info, client_id, first, after, status)

    @strawberry.field(description="Announcements: all for admins, their own for a client.")
    async def announcements(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Announcement]:
        principal = _ctx(info).require("admin", "client")
        client_id = None if principal.has_role("admin") else _uuid(principal.user_id, "sub")
        return await _announcements_page(info, client_id, first, after)

    @strawberry.field(description="Totals for the admin dashboard.")
    async def user_totals(self, info: Info) -> UserTotals:
        _ctx(info).require("admin")
        return UserTotals(**await repo.totals(_pool(info)))

    @strawberry.field(
        description="Per-day series from `from` to `to` (both included, at most 366 days) in"
        " `timeZone` (IANA name, UTC by default): messages sent, delivered and failed and new"
        " subscribers, of one client or, for admins, of all. A client sees only its own."
    )
    async def daily_activity(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        client_id: strawberry.ID | None = None,
        time_zone: str = "UTC",
    ) -> list[ActivityDay]:
        principal = _ctx(info).require("admin", "client")
        if not principal.has_role("admin"):
            if client_id is not None and str(client_id) != principal.user_id:
                raise Forbidden("a client sees only its own activity")
            client_id = strawberry.ID(str(principal.user_id))
        if to < from_:
            raise BadInput("to is before from", field="to")
        if (to - from_).days >= MAX_ACTIVITY_DAYS:
            raise BadInput(f"at most {MAX_ACTIVITY_DAYS} days at once", field="to")
        rows = await repo.daily_activity(
            _pool(info),
            from_,
            to,
            _time_zone(time_zone),
            _uuid(client_id, "clientId") if client_id is not None else None,
        )
        return [ActivityDay(**row) for row in rows]

    @strawberry.field(description="Events parked on dead-letter topics, newest first (admins).")
    async def dead_letters(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        topic: str | None = None,
    ) -> Connection[DeadLetter]:
        _ctx(info).require("admin")
        size = page_size(first)
        letters = await _dead_letters(info, topic)
        start = 0
        if after is not None:
            values = decode_cursor(after)
            ids = [x.id for x in letters]
            if not values or values[0] not in ids:
                raise BadInput("the cursor is not valid", field="after")
            start = ids.index(values[0]) + 1
        page = letters[start : start + size]
        return Page(
            [DeadLetter.of(x) for x in page],
            [encode_cursor(x.id) for x in page],
            start + size < len(letters),
            len(letters),
        ).connection()

    @strawberry.federation.field(
        description="Recipients of a client's announcement, or active members of a client"
        " (services).",
        inaccessible=True,
    )
    async def announcement_recipients(
        self,
        info: Info,
        client_id: strawberry.ID,
        first: int = 500,
        after: strawberry.ID | None = None,
        announcement_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The audience of this announcement: the members active at its"
                " confirmation, including those who stopped since."
            ),
        ] = None,
        subscriber_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="Only these subscribers, and only those whose copy may be sent"
                " now: active members, their copy of `announcementId` not held back (the"
                " sender asks right before sending). One page: `first` and `after` are ignored."
            ),
        ] = None,
    ) -> RecipientPage:
        """Service-only: numbers in ciphertext, for the fan-out's paging through an audience,
        the sender's STOP check right before a work item's first attempt, and the notices'
        check that a new member is still active; no person may list another's numbers."""
        _ctx(info).require("service")
        if not 1 <= first <= 5000:
            raise BadInput("first must be between 1 and 5000", field="first")
        if subscriber_ids is not None and len(subscriber_ids) > 5000:
            raise BadInput("at most 5000 subscriber ids", field="subscriberIds")
        cid = _uuid(client_id, "clientId")
        announcement = None
        if announcement_id is not None:
            aid = _uuid(announcement_id, "announcementId")
            announcement = (await repo.announcements_by_ids(_pool(info), [aid])).get(str(aid))
            if announcement is None or announcement.client_id != str(cid):
                raise NotFound("announcement not found")
        if subscriber_ids is not None:
            ids = [_uuid(s, "subscriberIds") for s in subscriber_ids]
            if announcement is not None:
                rows = await _service(info).recipients_to_send(announcement, [str(i) for i in ids])
            else:
                rows = await repo.active_members(_pool(info), cid, ids)
            return RecipientPage(recipients=[Recipient.of(s) for s in rows], next_after=None)
        rows = await repo.recipients_page(
            _pool(info),
            cid,
            first,
            _uuid(after, "after") if after else None,
            announcement.confirmed_at if announcement else None,
        )
        return RecipientPage(
            recipients=[Recipient.of(s) for s in rows],
            next_after=strawberry.ID(rows[-1].id) if len(rows) == first else None,
        )

    @strawberry.federation.field(
        description="How to text a user, client or subscriber (services).", inaccessible=True
    )
    async def contact(self, info: Info, user_id: strawberry.ID) -> Contact | None:
        """Service-only: a user's number in ciphertext, for the notices the consumers text
        to clients (their welcome, new members, plans, an announcement's end)."""
        _ctx(info).require("service")
        row = await _pool(info).fetchrow(
            "SELECT locale, phone_ciphertext FROM users WHERE id = $1", _uuid(user_id, "userId")
        )
        return (
            Contact(locale=row["locale"], phone_ciphertext=row["phone_ciphertext"]) if row else None
        )

    @strawberry.federation.field(
        description="Who a phone number is (services, for the SMS dialogue).", inaccessible=True
    )
    async def phone_identity(self, info: Info, phone_hash: str) -> PhoneIdentity:
        """Service-only: who texted the Nudges number (the SMS dialogue knows only the
        number's hash), to choose the reply."""
        _ctx(info).require("service")
        pool = _pool(info)
        user_id = await repo.user_id_by_phone_hash(pool, phone_hash)
        if user_id is None:
            return PhoneIdentity(
                user_id=None,
                locale="en",
                is_admin=False,
                client=None,
                active_memberships=0,
                stopped_memberships=0,
            )
        client = await repo.client_by_user(pool, user_id)
        memberships = await repo.memberships_of_user_readonly(pool, user_id)
        locale = await pool.fetchval("SELECT locale FROM users WHERE id = $1", user_id)
        return PhoneIdentity(
            user_id=strawberry.ID(str(user_id)),
            locale=locale,
            is_admin=await repo.is_admin(pool, user_id),
            client=Client.of(client) if client else None,
            active_memberships=sum(m.status is model.MembershipStatus.ACTIVE for m in memberships),
            stopped_memberships=sum(
                m.status is model.MembershipStatus.STOPPED for m in memberships
            ),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Become a client (a signed-in client account).")
    async def create_client(self, info: Info, input: CreateClientInput) -> Client:
        principal = _ctx(info).require("client")
        created = await _service(info).create_client(
            principal, input.name, input.slug, input.locale
        )
        return Client.of(created)

    @strawberry.mutation(description="Change a client's name, address or language.")
    async def update_client(
        self, info: Info, id: strawberry.ID, input: UpdateClientInput
    ) -> Client:
        principal = _ctx(info).require("client", "admin")
        updated = await _service(info).update_client(
            principal, str(id), input.name, input.slug, input.locale
        )
        return Client.of(updated)

    @strawberry.mutation(description="Join a client by its address (idempotent).")
    async def join_client(self, info: Info, slug: str) -> Membership:
        principal = _ctx(info).require("subscriber")
        return Membership.of(await _service(info).join_client(principal, slug))

    @strawberry.mutation(description="Stop receiving a client's messages.")
    async def leave_client(self, info: Info, client_id: strawberry.ID) -> Membership:
        principal = _ctx(info).require("subscriber")
        return Membership.of(await _service(info).leave_client(principal, str(client_id)))

    @strawberry.mutation(description="Publish a dead letter's event again to its topic (admins).")
    async def replay_dead_letter(self, info: Info, id: strawberry.ID) -> DeadLetter:
        _ctx(info).require("admin")
        topic = str(id).split(":")[0]
        letters = [x for x in await _dead_letters(info, topic) if x.id == str(id)]
        if not letters:
            raise NotFound("dead letter not found")
        await dlq.republish(_ctx(info).settings, letters[:1])
        return DeadLetter.of(letters[0])

    @strawberry.federation.mutation(
        description="STOP / START by SMS: every membership of a number (services).",
        inaccessible=True,
    )
    async def set_memberships_by_phone(
        self, info: Info, phone_hash: str, status: MembershipStatus
    ) -> int:
        """Stop (STOP) or restart (START) every membership of the number; how many changed.

        Service-only because the caller is the number, not a signed-in user: a STOP reaches
        Nudges as a text, which Webhooks authenticates by Twilio's signature and passes on as
        its machine account. Carrier rules require it to act at once, without a sign-in."""
        _ctx(info).require("service")
        target = model.MembershipStatus(status.value)
        return await _service(info).set_all_memberships(phone_hash, target)

    @strawberry.federation.mutation(
        description="Create the announcement of a confirmed draft, once.", inaccessible=True
    )
    async def confirm_announcement(
        self, info: Info, client_id: strawberry.ID, body: str, draft_key: str
    ) -> Announcement:
        """Service-only: the SMS dialogue's CONFIRM of a client's draft (the draft lives in
        WarpCache, outside any client session), once per draft key."""
        _ctx(info).require("service")
        return Announcement.of(
            await _service(info).confirm_announcement(str(client_id), body, draft_key)
        )


def _changes(info: Info) -> ChangeListener:
    """This process's one listening connection for the subscriptions below; it opens with
    the first subscriber and holds no connection of the request pool."""
    request = _ctx(info).request
    assert request is not None
    state = request.app.state
    listener: ChangeListener | None = getattr(state, "change_listener", None)
    if listener is None:
        listener = ChangeListener(
            _ctx(info).settings.database_url(), [CLIENT_UPDATED, ANNOUNCEMENT_PROGRESS]
        )
        state.change_listener = listener
    return listener


@strawberry.type
class Subscription:
    @strawberry.subscription(description="A client's profile each time it changes.")
    async def client_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Client, None]:
        _require_owner(info, str(id))
        cid = _uuid(id, "id")
        async with _changes(info).subscribe(CLIENT_UPDATED) as changes:
            while True:
                if await changes.get() != str(cid):
                    continue
                found = await repo.clients_by_ids(_pool(info), [cid])
                if str(cid) in found:
                    yield Client.of(found[str(cid)])

    @strawberry.subscription(description="An announcement's counts as deliveries progress.")
    async def announcement_progress(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[Announcement, None]:
        aid = UUID((await _visible_announcement(info, id)).id)
        # Listening before reading the counts: no change falls between the two.
        async with _changes(info).subscribe(ANNOUNCEMENT_PROGRESS) as changes:
            latest = (await repo.announcements_by_ids(_pool(info), [aid]))[str(aid)]
            yield Announcement.of(latest)
            while latest.completed_at is None:
                if await changes.get() != str(aid):
                    continue
                latest = (await repo.announcements_by_ids(_pool(info), [aid]))[str(aid)]
                yield Announcement.of(latest)


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[Admin, Client, Subscriber, Announcement],
    extensions=[DomainErrors],
)
