"""Root queries: the viewer, public pages, admin lists and totals, and the service-only
lookups of the workers."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import strawberry

from nudges_kit import dlq
from nudges_kit.errors import BadInput, Forbidden, NotFound
from nudges_kit.graphql import Connection, Page, context_of, decode_cursor, encode_cursor, page_size
from nudges_kit.kafka import all_topics
from nudges_user.adapters import repository as repo
from nudges_user.domain import model
from nudges_user.entrypoints.graphql import loaders
from nudges_user.entrypoints.graphql.access import require_owner
from nudges_user.entrypoints.graphql.composer import ComposerQuery
from nudges_user.entrypoints.graphql.context import Info, parse_id, pool_of, position, service_of
from nudges_user.entrypoints.graphql.types import (
    ActivityDay,
    Admin,
    Announcement,
    Client,
    ClientMatch,
    Contact,
    DeadLetter,
    Membership,
    MembershipStatus,
    PhoneIdentity,
    Recipient,
    RecipientPage,
    Subscriber,
    UserTotals,
    Viewer,
    announcements_page,
    members_page,
)

#: The longest range one dailyActivity call covers.
MAX_ACTIVITY_DAYS = 366


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput("timeZone is not a known time zone", field="timeZone") from None
    return name


async def parked_letters(info: Info, topic: str | None) -> list[dlq.DeadLetter]:
    """The dead letters of ``topic`` (every topic when None), newest first."""
    topics = [t for t in all_topics() if not t.endswith(".dlq")]
    if topic is not None:
        if topic not in topics:
            raise BadInput(f"no topic {topic!r}", field="topic")
        topics = [topic]
    letters = await dlq.read_dead_letters(context_of(info).settings, *topics)
    return sorted(letters, key=lambda x: (x.failed_at, x.id), reverse=True)


@strawberry.type
class Query(ComposerQuery):
    @strawberry.field(description="The caller: an Admin, a Client or a Subscriber.")
    async def viewer(self, info: Info) -> Viewer | None:
        principal = context_of(info).principal
        # A service account is none of the three: no viewer, and its ``sub`` is no user id.
        if principal is None or not principal.has_role("admin", "client", "subscriber"):
            return None
        pool = pool_of(info)
        user_id = parse_id(principal.user_id, "sub")
        if principal.has_role("admin") and await repo.is_admin(pool, user_id):
            return Admin(id=strawberry.ID(str(user_id)))
        if principal.has_role("client") and (client := await repo.client_by_user(pool, user_id)):
            return Client.of(client)
        if principal.has_role("subscriber") and (
            subscriber := await repo.subscriber_by_user(pool, user_id)
        ):
            return Subscriber.of(subscriber)
        return None

    @strawberry.field(
        description="A client's public page (anyone): by its address, or also by the keyword"
        " people text to join it."
    )
    async def client_by_slug(
        self, info: Info, slug: str, match: ClientMatch = ClientMatch.SLUG
    ) -> Client | None:
        """``SLUG`` finds the Signup page's client; ``SLUG_OR_KEYWORD`` the client of
        ``JOIN <word>`` (its slug, else its keyword) and ``KEYWORD`` that of a word texted
        alone (a keyword, in any case): the SMS dialogue's lookups. A keyword is as public as
        an address: clients print it for people to text."""
        wanted = slug.strip()
        if match is ClientMatch.SLUG:
            if not model.SLUG_PATTERN.match(wanted.lower()):
                return None  # no client can have it
            found = await repo.client_by_slug(pool_of(info), wanted.lower())
        elif not wanted or len(wanted) > 40:
            return None  # no slug or keyword is that long
        else:
            by_slug = match is ClientMatch.SLUG_OR_KEYWORD
            found = await repo.client_to_join(pool_of(info), wanted, by_slug=by_slug)
        return Client.of(found) if found else None

    @strawberry.field(description="One client (the client and admins).")
    async def client(self, info: Info, id: strawberry.ID) -> Client | None:
        require_owner(info, str(id))
        found = await loaders.clients(info).load(str(parse_id(id, "id")))
        return Client.of(found) if found else None

    @strawberry.field(description="Every client (admins).")
    async def clients(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Client]:
        context_of(info).require("admin")
        size = page_size(first)
        rows, total = await repo.list_clients(pool_of(info), size + 1, position(after), search)
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
        principal = context_of(info).require("admin", "client")
        client_id = None if principal.has_role("admin") else parse_id(principal.user_id, "sub")
        return await members_page(info, client_id, first, after, status)

    @strawberry.field(description="Announcements: all for admins, their own for a client.")
    async def announcements(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Announcement]:
        principal = context_of(info).require("admin", "client")
        client_id = None if principal.has_role("admin") else parse_id(principal.user_id, "sub")
        return await announcements_page(info, client_id, first, after)

    @strawberry.field(description="Totals for the admin dashboard.")
    async def user_totals(self, info: Info) -> UserTotals:
        context_of(info).require("admin")
        return UserTotals(**await repo.totals(pool_of(info)))

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
        principal = context_of(info).require("admin", "client")
        if not principal.has_role("admin"):
            if client_id is not None and str(client_id) != principal.user_id:
                raise Forbidden("a client sees only its own activity")
            client_id = strawberry.ID(str(principal.user_id))
        if to < from_:
            raise BadInput("to is before from", field="to")
        if (to - from_).days >= MAX_ACTIVITY_DAYS:
            raise BadInput(f"at most {MAX_ACTIVITY_DAYS} days at once", field="to")
        rows = await repo.daily_activity(
            pool_of(info),
            from_,
            to,
            _time_zone(time_zone),
            parse_id(client_id, "clientId") if client_id is not None else None,
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
        context_of(info).require("admin")
        size = page_size(first)
        letters = await parked_letters(info, topic)
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
        context_of(info).require("service")
        if not 1 <= first <= 5000:
            raise BadInput("first must be between 1 and 5000", field="first")
        if subscriber_ids is not None and len(subscriber_ids) > 5000:
            raise BadInput("at most 5000 subscriber ids", field="subscriberIds")
        cid = parse_id(client_id, "clientId")
        announcement = None
        if announcement_id is not None:
            aid = parse_id(announcement_id, "announcementId")
            announcement = (await repo.announcements_by_ids(pool_of(info), [aid])).get(str(aid))
            if announcement is None or announcement.client_id != str(cid):
                raise NotFound("announcement not found")
        if subscriber_ids is not None:
            ids = [parse_id(s, "subscriberIds") for s in subscriber_ids]
            if announcement is not None:
                rows = await service_of(info).recipients_to_send(
                    announcement, [str(i) for i in ids]
                )
            else:
                rows = await repo.active_members(pool_of(info), cid, ids)
            return RecipientPage(recipients=[Recipient.of(s) for s in rows], next_after=None)
        rows = await repo.recipients_page(
            pool_of(info),
            cid,
            first,
            parse_id(after, "after") if after else None,
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
        context_of(info).require("service")
        found = await repo.contact(pool_of(info), parse_id(user_id, "userId"))
        return Contact(locale=found[0], phone_ciphertext=found[1]) if found else None

    @strawberry.federation.field(
        description="Who a phone number is (services, for the SMS dialogue).", inaccessible=True
    )
    async def phone_identity(self, info: Info, phone_hash: str) -> PhoneIdentity:
        """Service-only: who texted the Nudges number (the SMS dialogue knows only the
        number's hash), to choose the reply."""
        context_of(info).require("service")
        pool = pool_of(info)
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
        locale = await repo.user_locale(pool, user_id)
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
