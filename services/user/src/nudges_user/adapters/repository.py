"""All SQL of userdb. Functions take the connection of the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from nudges_user.domain.deliveries import AnnouncementCounts, DeliveryWrite
from nudges_user.domain.model import (
    Announcement,
    AnnouncementStatus,
    Client,
    DeliveryStatus,
    Membership,
    MembershipStatus,
    Subscriber,
)
from nudges_user.domain.schedules import Refusal, ScheduledAnnouncement, ScheduleStatus

Conn: TypeAlias = "asyncpg.Connection[Any] | asyncpg.Pool[Any]"


def _client(row: asyncpg.Record) -> Client:
    return Client(
        id=str(row["id"]),
        user_id=str(row["user_id"]),
        name=row["name"],
        slug=row["slug"],
        locale=row["locale"],
        stripe_customer_id=row["stripe_customer_id"],
        created_at=row["created_at"],
        quiet_hours=row["quiet_hours"],
        keyword=row["keyword"],
        time_zone=row["time_zone"],
    )


def _subscriber(row: asyncpg.Record) -> Subscriber:
    return Subscriber(
        id=str(row["id"]),
        user_id=str(row["user_id"]),
        locale=row["locale"],
        phone_ciphertext=row["phone_ciphertext"],
        created_at=row["created_at"],
    )


def _membership(row: asyncpg.Record) -> Membership:
    return Membership(
        id=str(row["id"]),
        client_id=str(row["client_id"]),
        subscriber_id=str(row["subscriber_id"]),
        status=MembershipStatus(row["status"]),
        source=row["source"],
        joined_at=row["joined_at"],
        stopped_at=row["stopped_at"],
    )


def _announcement(row: asyncpg.Record) -> Announcement:
    return Announcement(
        id=str(row["id"]),
        client_id=str(row["client_id"]),
        body=row["body"],
        status=AnnouncementStatus(row["status"]),
        recipients=row["recipients"],
        sent=row["sent"],
        delivered=row["delivered"],
        failed=row["failed"],
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        completed_at=row["completed_at"],
        stopped=row["stopped"],
        held=row["held"],
    )


# --- users ---------------------------------------------------------------------------------


async def upsert_user(
    conn: Conn, user_id: UUID, phone_hash: str, phone_ciphertext: str, locale: str
) -> UUID:
    """The id of the user with ``phone_hash``, created with ``user_id`` when new.

    Two first requests of one person at once both insert the same row (its id, phone hash and
    subject are all unique): the second waits for the first and then finds it."""
    created = await conn.fetchval(
        "INSERT INTO users (id, phone_hash, phone_ciphertext, locale, identity_subject)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT DO NOTHING"
        " RETURNING id",
        user_id,
        phone_hash,
        phone_ciphertext,
        locale,
        str(user_id),
    )
    if created is not None:
        return created  # type: ignore[no-any-return]
    existing = await user_id_by_phone_hash(conn, phone_hash)
    if existing is None:
        raise RuntimeError("a user with this id or subject exists under another phone hash")
    return existing


async def user_id_by_phone_hash(conn: Conn, phone_hash: str) -> UUID | None:
    return await conn.fetchval("SELECT id FROM users WHERE phone_hash = $1", phone_hash)  # type: ignore[no-any-return]


async def is_admin(conn: Conn, user_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM admins WHERE user_id = $1", user_id))


async def set_user_locale(conn: Conn, phone_hash: str, locale: str) -> bool:
    """Set the language of the user with ``phone_hash``; False when there is none."""
    updated = await conn.fetchval(
        "UPDATE users SET locale = $2 WHERE phone_hash = $1 RETURNING id", phone_hash, locale
    )
    return updated is not None


async def user_locale(conn: Conn, user_id: UUID) -> str:
    """The language of a user who exists."""
    return await conn.fetchval("SELECT locale FROM users WHERE id = $1", user_id)  # type: ignore[no-any-return]


async def contact(conn: Conn, user_id: UUID) -> tuple[str, str] | None:
    """A user's locale and encrypted number, None when no such user."""
    row = await conn.fetchrow("SELECT locale, phone_ciphertext FROM users WHERE id = $1", user_id)
    return (row["locale"], row["phone_ciphertext"]) if row else None


# --- clients -------------------------------------------------------------------------------

CLIENT_COLUMNS = (
    "id, user_id, name, slug, locale, stripe_customer_id, created_at, quiet_hours, keyword,"
    " time_zone"
)


async def insert_client(
    conn: Conn, client_id: UUID, user_id: UUID, name: str, slug: str, locale: str
) -> Client | None:
    """The new client, or None when ``slug`` is taken."""
    row = await conn.fetchrow(
        f"INSERT INTO clients (id, user_id, name, slug, locale) VALUES ($1, $2, $3, $4, $5)"
        f" ON CONFLICT (slug) DO NOTHING RETURNING {CLIENT_COLUMNS}",
        client_id,
        user_id,
        name,
        slug,
        locale,
    )
    return _client(row) if row else None


async def client_by_user(conn: Conn, user_id: UUID) -> Client | None:
    row = await conn.fetchrow(f"SELECT {CLIENT_COLUMNS} FROM clients WHERE user_id = $1", user_id)
    return _client(row) if row else None


async def client_by_slug(conn: Conn, slug: str) -> Client | None:
    row = await conn.fetchrow(f"SELECT {CLIENT_COLUMNS} FROM clients WHERE slug = $1", slug)
    return _client(row) if row else None


async def client_to_join(conn: Conn, word: str, by_slug: bool) -> Client | None:
    """The client whose keyword is ``word`` (in any case) or, when ``by_slug``, whose slug it
    is (a slug first: it is the client's address)."""
    row = await conn.fetchrow(
        f"SELECT {CLIENT_COLUMNS} FROM clients"
        " WHERE ($2 AND slug = lower($1)) OR upper(keyword) = upper($1)"
        " ORDER BY ($2 AND slug = lower($1)) DESC LIMIT 1",
        word,
        by_slug,
    )
    return _client(row) if row else None


async def clients_by_ids(conn: Conn, ids: Sequence[UUID]) -> dict[str, Client]:
    rows = await conn.fetch(f"SELECT {CLIENT_COLUMNS} FROM clients WHERE id = ANY($1)", list(ids))
    return {str(r["id"]): _client(r) for r in rows}


async def update_client(conn: Conn, client_id: UUID, changes: dict[str, Any]) -> Client | None:
    """Apply ``changes`` (column → value); None when the client does not exist.

    Raises ``asyncpg.UniqueViolationError`` when a new slug or keyword is taken."""
    allowed = {
        "name",
        "slug",
        "locale",
        "stripe_customer_id",
        "quiet_hours",
        "keyword",
        "time_zone",
    }
    columns = [c for c in changes if c in allowed]
    sets = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
    row = await conn.fetchrow(
        f"UPDATE clients SET {sets + ', ' if sets else ''}updated_at = now() WHERE id = $1"
        f" RETURNING {CLIENT_COLUMNS}",
        client_id,
        *(changes[c] for c in columns),
    )
    return _client(row) if row else None


async def learn_stripe_customer(
    conn: Conn, client_id: UUID, stripe_customer_id: str, replaces: str | None = None
) -> str | None:
    """Record the client's Stripe customer unless it has one (or has ``replaces``, the
    customer Stripe lost that this one stands for); the customer it has after (None when no
    such client)."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        "UPDATE clients SET stripe_customer_id = CASE WHEN stripe_customer_id IS NULL"
        " OR stripe_customer_id = $3 THEN $2 ELSE stripe_customer_id END,"
        " updated_at = CASE WHEN stripe_customer_id IS NULL OR stripe_customer_id = $3"
        " THEN now() ELSE updated_at END"
        " WHERE id = $1 RETURNING stripe_customer_id",
        client_id,
        stripe_customer_id,
        replaces,
    )


async def client_phone_hash(conn: Conn, client_id: UUID) -> str | None:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "SELECT u.phone_hash FROM clients c JOIN users u ON u.id = c.user_id WHERE c.id = $1",
        client_id,
    )


async def list_clients(
    conn: Conn, limit: int, after: tuple[datetime, UUID] | None, search: str | None
) -> tuple[list[Client], int]:
    """A page of clients ordered by (created_at, id), and the total matching ``search``."""
    pattern = f"%{search.lower()}%" if search else None
    rows = await conn.fetch(
        f"SELECT {CLIENT_COLUMNS} FROM clients"
        " WHERE ($1::text IS NULL OR lower(name) LIKE $1 OR slug LIKE $1)"
        " AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))"
        " ORDER BY created_at, id LIMIT $4",
        pattern,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    total = await conn.fetchval(
        "SELECT count(*) FROM clients WHERE ($1::text IS NULL OR lower(name) LIKE $1"
        " OR slug LIKE $1)",
        pattern,
    )
    return [_client(r) for r in rows], int(total)


# --- subscribers and memberships -----------------------------------------------------------

SUBSCRIBER_SELECT = (
    "SELECT s.id, s.user_id, u.locale, u.phone_ciphertext, s.created_at"
    " FROM subscribers s JOIN users u ON u.id = s.user_id"
)
MEMBERSHIP_COLUMNS = "id, client_id, subscriber_id, status, source, joined_at, stopped_at"


async def upsert_subscriber(conn: Conn, subscriber_id: UUID, user_id: UUID) -> UUID:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "INSERT INTO subscribers (id, user_id) VALUES ($1, $2)"
        " ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id RETURNING id",
        subscriber_id,
        user_id,
    )


async def subscriber_by_user(conn: Conn, user_id: UUID) -> Subscriber | None:
    row = await conn.fetchrow(f"{SUBSCRIBER_SELECT} WHERE s.user_id = $1", user_id)
    return _subscriber(row) if row else None


async def subscribers_by_ids(conn: Conn, ids: Sequence[UUID]) -> dict[str, Subscriber]:
    rows = await conn.fetch(f"{SUBSCRIBER_SELECT} WHERE s.id = ANY($1)", list(ids))
    return {str(r["id"]): _subscriber(r) for r in rows}


async def membership(conn: Conn, client_id: UUID, subscriber_id: UUID) -> Membership | None:
    row = await conn.fetchrow(
        f"SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE client_id = $1"
        " AND subscriber_id = $2 FOR UPDATE",
        client_id,
        subscriber_id,
    )
    return _membership(row) if row else None


async def lock_clients_for_memberships(conn: Conn, client_ids: Sequence[UUID]) -> None:
    """Hold the rows of ``client_ids`` until the transaction ends, in id order, so that the
    membership changes of one client run one after the other and each counts the subscribers
    the one before left. ``FOR NO KEY UPDATE`` leaves inserts referencing the client free."""
    await conn.execute(
        "SELECT 1 FROM clients WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE",
        list(client_ids),
    )


async def user_membership_client_ids(conn: Conn, user_id: UUID) -> list[UUID]:
    """The clients the user has a membership of, whatever its status."""
    rows = await conn.fetch(
        "SELECT m.client_id FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id"
        " WHERE s.user_id = $1",
        user_id,
    )
    return [r["client_id"] for r in rows]


async def insert_membership(
    conn: Conn, membership_id: UUID, client_id: UUID, subscriber_id: UUID, source: str
) -> Membership | None:
    """The new active membership, or None when one exists already."""
    row = await conn.fetchrow(
        f"INSERT INTO memberships (id, client_id, subscriber_id, status, source)"
        f" VALUES ($1, $2, $3, 'active', $4) ON CONFLICT (client_id, subscriber_id) DO NOTHING"
        f" RETURNING {MEMBERSHIP_COLUMNS}",
        membership_id,
        client_id,
        subscriber_id,
        source,
    )
    return _membership(row) if row else None


async def set_membership_status(
    conn: Conn, membership_id: UUID, status: MembershipStatus
) -> Membership:
    row = await conn.fetchrow(
        f"UPDATE memberships SET status = $2,"
        f" stopped_at = CASE WHEN $2 = 'stopped' THEN now() ELSE NULL END,"
        f" joined_at = CASE WHEN $2 = 'active' AND status = 'stopped' THEN now() ELSE joined_at END"
        f" WHERE id = $1 RETURNING {MEMBERSHIP_COLUMNS}",
        membership_id,
        status.value,
    )
    return _membership(row)


async def memberships_of_user(
    conn: Conn, user_id: UUID, status: MembershipStatus | None = None
) -> list[Membership]:
    rows = await conn.fetch(
        f"SELECT m.{MEMBERSHIP_COLUMNS.replace(', ', ', m.')} FROM memberships m"
        " JOIN subscribers s ON s.id = m.subscriber_id WHERE s.user_id = $1"
        " AND ($2::text IS NULL OR m.status = $2) ORDER BY m.joined_at, m.id FOR UPDATE OF m",
        user_id,
        status.value if status else None,
    )
    return [_membership(r) for r in rows]


async def memberships_of_user_readonly(conn: Conn, user_id: UUID) -> list[Membership]:
    rows = await conn.fetch(
        f"SELECT m.{MEMBERSHIP_COLUMNS.replace(', ', ', m.')} FROM memberships m"
        " JOIN subscribers s ON s.id = m.subscriber_id WHERE s.user_id = $1",
        user_id,
    )
    return [_membership(r) for r in rows]


async def memberships_of_subscribers(
    conn: Conn, subscriber_ids: Sequence[UUID]
) -> dict[str, list[Membership]]:
    rows = await conn.fetch(
        f"SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE subscriber_id = ANY($1)"
        " ORDER BY joined_at, id",
        list(subscriber_ids),
    )
    out: dict[str, list[Membership]] = {str(i): [] for i in subscriber_ids}
    for r in rows:
        out[str(r["subscriber_id"])].append(_membership(r))
    return out


async def active_member_counts(conn: Conn, client_ids: Sequence[UUID]) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT client_id, count(*) AS n FROM memberships WHERE client_id = ANY($1)"
        " AND status = 'active' GROUP BY client_id",
        list(client_ids),
    )
    counts = {str(i): 0 for i in client_ids}
    counts.update({str(r["client_id"]): int(r["n"]) for r in rows})
    return counts


async def active_member_locales(conn: Conn, client_id: UUID) -> dict[str, int]:
    """The client's active subscribers by language: how many read each locale."""
    rows = await conn.fetch(
        "SELECT u.locale, count(*) AS n FROM memberships m"
        " JOIN subscribers s ON s.id = m.subscriber_id JOIN users u ON u.id = s.user_id"
        " WHERE m.client_id = $1 AND m.status = 'active' GROUP BY u.locale ORDER BY u.locale",
        client_id,
    )
    return {str(r["locale"]): int(r["n"]) for r in rows}


async def list_members(
    conn: Conn,
    client_id: UUID | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
    status: MembershipStatus | None = None,
) -> tuple[list[tuple[Subscriber, Membership]], int]:
    """Memberships with their subscribers (of one client, or of every client when
    ``client_id`` is None), in join order, and the total matching.

    ``after`` is the (joined_at, subscriber id) of the last row seen for one client, the
    (joined_at, membership id) for every client: a subscriber's memberships of several clients
    can share a moment (START restarts them all in one transaction)."""
    tiebreak = "s.id" if client_id is not None else "m.id"
    rows = await conn.fetch(
        "SELECT s.id, s.user_id, u.locale, u.phone_ciphertext, s.created_at,"
        " m.id AS m_id, m.client_id, m.subscriber_id, m.status, m.source, m.joined_at,"
        " m.stopped_at FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id"
        " JOIN users u ON u.id = s.user_id WHERE ($1::uuid IS NULL OR m.client_id = $1)"
        " AND ($2::text IS NULL OR m.status = $2)"
        f" AND ($3::timestamptz IS NULL OR (m.joined_at, {tiebreak}) > ($3::timestamptz, $4::uuid))"
        f" ORDER BY m.joined_at, {tiebreak} LIMIT $5",
        client_id,
        status.value if status else None,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    total = await conn.fetchval(
        "SELECT count(*) FROM memberships WHERE ($1::uuid IS NULL OR client_id = $1)"
        " AND ($2::text IS NULL OR status = $2)",
        client_id,
        status.value if status else None,
    )
    out: list[tuple[Subscriber, Membership]] = []
    for r in rows:
        member = Membership(
            id=str(r["m_id"]),
            client_id=str(r["client_id"]),
            subscriber_id=str(r["subscriber_id"]),
            status=MembershipStatus(r["status"]),
            source=r["source"],
            joined_at=r["joined_at"],
            stopped_at=r["stopped_at"],
        )
        out.append((_subscriber(r), member))
    return out, int(total)


# --- announcements and deliveries -------------------------------------------------------------

ANNOUNCEMENT_COLUMNS = (
    "id, client_id, body, status, recipients, sent, delivered, failed, created_at,"
    " confirmed_at, completed_at, stopped, held"
)


async def announcement_by_draft_key(conn: Conn, draft_key: str) -> Announcement | None:
    row = await conn.fetchrow(
        f"SELECT {ANNOUNCEMENT_COLUMNS} FROM announcements WHERE draft_key = $1", draft_key
    )
    return _announcement(row) if row else None


async def insert_confirmed_announcement(
    conn: Conn, announcement_id: UUID, client_id: UUID, body: str, draft_key: str
) -> Announcement | None:
    """A confirmed announcement addressed to the client's active members at this moment;
    None when ``draft_key`` was confirmed already."""
    row = await conn.fetchrow(
        f"INSERT INTO announcements (id, client_id, body, status, draft_key, recipients,"
        f" confirmed_at) SELECT $1, $2, $3, 'confirmed', $4,"
        f" (SELECT count(*) FROM memberships WHERE client_id = $2 AND status = 'active'), now()"
        f" ON CONFLICT (draft_key) DO NOTHING RETURNING {ANNOUNCEMENT_COLUMNS}",
        announcement_id,
        client_id,
        body,
        draft_key,
    )
    return _announcement(row) if row else None


async def announcements_by_ids(conn: Conn, ids: Sequence[UUID]) -> dict[str, Announcement]:
    rows = await conn.fetch(
        f"SELECT {ANNOUNCEMENT_COLUMNS} FROM announcements WHERE id = ANY($1)", list(ids)
    )
    return {str(r["id"]): _announcement(r) for r in rows}


async def list_announcements(
    conn: Conn, client_id: UUID | None, limit: int, after: tuple[datetime, UUID] | None
) -> tuple[list[Announcement], int]:
    """Newest first."""
    rows = await conn.fetch(
        f"SELECT {ANNOUNCEMENT_COLUMNS} FROM announcements"
        " WHERE ($1::uuid IS NULL OR client_id = $1)"
        " AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))"
        " ORDER BY created_at DESC, id DESC LIMIT $4",
        client_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    total = await conn.fetchval(
        "SELECT count(*) FROM announcements WHERE ($1::uuid IS NULL OR client_id = $1)", client_id
    )
    return [_announcement(r) for r in rows], int(total)


async def recipients_page(
    conn: Conn,
    client_id: UUID,
    limit: int,
    after: UUID | None,
    confirmed_at: datetime | None = None,
) -> list[Subscriber]:
    """Active members of a client in subscriber-id order (the fan-out's paging).

    With ``confirmed_at``, the audience of an announcement confirmed then: the members active
    at that moment, including those who stopped since (whose copies the sender holds back),
    and not those who joined later."""
    rows = await conn.fetch(
        f"{SUBSCRIBER_SELECT} JOIN memberships m ON m.subscriber_id = s.id"
        " WHERE m.client_id = $1 AND ($2::uuid IS NULL OR s.id > $2)"
        " AND CASE WHEN $4::timestamptz IS NULL THEN m.status = 'active'"
        "   ELSE m.joined_at <= $4 AND (m.status = 'active' OR m.stopped_at >= $4) END"
        " ORDER BY s.id LIMIT $3",
        client_id,
        after,
        limit,
        confirmed_at,
    )
    return [_subscriber(r) for r in rows]


async def recipients_to_send(
    conn: Conn, announcement_id: UUID, client_id: UUID, subscriber_ids: Sequence[UUID]
) -> list[Subscriber]:
    """Of ``subscriber_ids``, those whose copy of the announcement may still be sent: active
    members of the client, their copy not held back already; in subscriber-id order."""
    rows = await conn.fetch(
        f"{SUBSCRIBER_SELECT} JOIN memberships m ON m.subscriber_id = s.id"
        " WHERE m.client_id = $2 AND s.id = ANY($3::uuid[]) AND m.status = 'active'"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.announcement_id = $1"
        "   AND d.subscriber_id = s.id AND d.status = 'stopped')"
        " ORDER BY s.id",
        announcement_id,
        client_id,
        list(subscriber_ids),
    )
    return [_subscriber(r) for r in rows]


async def active_members(
    conn: Conn, client_id: UUID, subscriber_ids: Sequence[UUID]
) -> list[Subscriber]:
    """Of ``subscriber_ids``, the active members of the client, in subscriber-id order."""
    rows = await conn.fetch(
        f"{SUBSCRIBER_SELECT} JOIN memberships m ON m.subscriber_id = s.id"
        " WHERE m.client_id = $1 AND s.id = ANY($2::uuid[]) AND m.status = 'active'"
        " ORDER BY s.id",
        client_id,
        list(subscriber_ids),
    )
    return [_subscriber(r) for r in rows]


async def delivery_statuses_for_update(
    conn: Conn, announcement_id: UUID, subscriber_ids: Sequence[UUID]
) -> dict[UUID, DeliveryStatus]:
    """The recorded statuses of these recipients' copies, their rows locked (in subscriber
    order, as every writer locks them) until the transaction ends."""
    rows = await conn.fetch(
        "SELECT subscriber_id, status FROM deliveries WHERE announcement_id = $1"
        " AND subscriber_id = ANY($2::uuid[]) ORDER BY subscriber_id FOR UPDATE",
        announcement_id,
        list(subscriber_ids),
    )
    return {r["subscriber_id"]: DeliveryStatus(r["status"]) for r in rows}


async def write_deliveries(
    conn: Conn, announcement_id: UUID, rows: Sequence[DeliveryWrite]
) -> None:
    """Insert or update each row (one per subscriber), in one statement; a message id or a
    segment count already recorded stays when the row brings none, and an error code while
    the status stays."""
    if not rows:
        return
    await conn.execute(
        "INSERT INTO deliveries (announcement_id, subscriber_id, status, provider_message_id,"
        " error_code, segments)"
        " SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[])"
        " ON CONFLICT (announcement_id, subscriber_id) DO UPDATE SET status = EXCLUDED.status,"
        " provider_message_id = COALESCE(EXCLUDED.provider_message_id,"
        " deliveries.provider_message_id), error_code = CASE WHEN EXCLUDED.status ="
        " deliveries.status THEN COALESCE(EXCLUDED.error_code, deliveries.error_code)"
        " ELSE EXCLUDED.error_code END,"
        " segments = COALESCE(EXCLUDED.segments, deliveries.segments), updated_at = now()",
        announcement_id,
        [r.subscriber_id for r in rows],
        [r.status.value for r in rows],
        [r.provider_message_id for r in rows],
        [r.error_code for r in rows],
        [r.segments for r in rows],
    )


async def lock_messages(conn: Conn, provider_message_ids: Sequence[str]) -> None:
    """Lock these messages until the transaction ends (in one order, as every writer does):
    a status callback and the sender's outcome of one message are recorded one after the
    other, so that whichever comes second sees the first."""
    await conn.execute(
        "SELECT count(pg_advisory_xact_lock(hashtextextended(m, 0)))"
        " FROM (SELECT DISTINCT unnest($1::text[]) AS m ORDER BY 1) AS ordered",
        sorted(provider_message_ids),
    )


async def delivery_by_provider_id(
    conn: Conn, provider_message_id: str
) -> tuple[UUID, UUID, DeliveryStatus] | None:
    """The announcement, subscriber and status of the copy sent as this message."""
    row = await conn.fetchrow(
        "SELECT announcement_id, subscriber_id, status FROM deliveries"
        " WHERE provider_message_id = $1",
        provider_message_id,
    )
    if row is None:
        return None
    return row["announcement_id"], row["subscriber_id"], DeliveryStatus(row["status"])


async def park_status(
    conn: Conn, provider_message_id: str, status: DeliveryStatus, error_code: str | None
) -> None:
    """Keep a status callback of a message no delivery names yet."""
    await conn.execute(
        "INSERT INTO early_statuses (provider_message_id, status, error_code)"
        " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        provider_message_id,
        status.value,
        error_code,
    )


async def take_early_statuses(
    conn: Conn, provider_message_ids: Sequence[str]
) -> dict[str, list[tuple[DeliveryStatus, str | None]]]:
    """The parked callbacks of these messages, oldest first, removed from the parking."""
    rows = await conn.fetch(
        "DELETE FROM early_statuses WHERE provider_message_id = ANY($1::text[])"
        " RETURNING provider_message_id, status, error_code, received_at",
        list(provider_message_ids),
    )
    parked: dict[str, list[tuple[DeliveryStatus, str | None]]] = {}
    for row in sorted(rows, key=lambda r: r["received_at"]):
        parked.setdefault(row["provider_message_id"], []).append(
            (DeliveryStatus(row["status"]), row["error_code"])
        )
    return parked


async def prune_early_statuses(conn: Conn) -> None:
    """Forget parked callbacks older than a day: no outcome will name their messages (the
    texts that are no announcement's copies: codes, notices)."""
    await conn.execute("DELETE FROM early_statuses WHERE received_at < now() - interval '1 day'")


async def announcement_for_update(conn: Conn, announcement_id: UUID) -> Announcement:
    """The announcement, its row locked until the transaction ends."""
    row = await conn.fetchrow(
        f"SELECT {ANNOUNCEMENT_COLUMNS} FROM announcements WHERE id = $1 FOR UPDATE",
        announcement_id,
    )
    return _announcement(row)


async def segments_sent(conn: Conn, announcement_id: UUID) -> int:
    """The SMS segments of every copy of the announcement Twilio took."""
    return int(
        await conn.fetchval(
            "SELECT coalesce(sum(segments), 0) FROM deliveries WHERE announcement_id = $1",
            announcement_id,
        )
    )


async def save_progress(
    conn: Conn,
    announcement_id: UUID,
    counts: AnnouncementCounts,
    status: AnnouncementStatus,
    complete: bool,
) -> Announcement:
    """Write the counters and status the domain decided (the row locked by
    :func:`announcement_for_update`); ``complete`` sets ``completed_at``, once."""
    row = await conn.fetchrow(
        f"UPDATE announcements SET sent = $2, delivered = $3, failed = $4, stopped = $5,"
        f" status = $6, completed_at = CASE WHEN $7 THEN coalesce(completed_at, now())"
        f" ELSE completed_at END, held = $8 WHERE id = $1 RETURNING {ANNOUNCEMENT_COLUMNS}",
        announcement_id,
        counts.sent,
        counts.delivered,
        counts.failed,
        counts.stopped,
        status.value,
        complete,
        counts.held,
    )
    return _announcement(row)


async def totals(conn: Conn) -> dict[str, int]:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM clients) AS clients,"
        " (SELECT count(*) FROM subscribers) AS subscribers,"
        " (SELECT count(*) FROM memberships WHERE status = 'active') AS active_memberships,"
        " (SELECT count(*) FROM announcements) AS announcements,"
        " (SELECT coalesce(sum(sent), 0) FROM announcements) AS messages_sent,"
        " (SELECT coalesce(sum(delivered), 0) FROM announcements) AS messages_delivered,"
        " (SELECT coalesce(sum(failed), 0) FROM announcements) AS messages_failed"
    )
    return {k: int(v) for k, v in dict(row).items()}


#: The moment an announcement's counts belong to: when it completed, else when it was confirmed.
_ACTIVITY_AT = "coalesce(completed_at, confirmed_at, created_at)"


async def daily_activity(
    conn: Conn, first: date, last: date, time_zone: str, client_id: UUID | None
) -> list[dict[str, Any]]:
    """One row per calendar day from ``first`` to ``last`` (both included) in ``time_zone``,
    zeros included: the sent / delivered / failed counts of the announcements that count on
    that day (completed, else confirmed) and the memberships that joined on it, of one client
    or of all. Counted in SQL over the whole range, so the figures hold at any volume."""
    rows = await conn.fetch(
        f"""
        WITH days AS (
            SELECT d::date AS day FROM generate_series($1::date, $2::date, interval '1 day') AS d
        ), messages AS (
            SELECT ({_ACTIVITY_AT} AT TIME ZONE $3)::date AS day, sum(sent) AS sent,
                   sum(delivered) AS delivered, sum(failed) AS failed
            FROM announcements
            WHERE {_ACTIVITY_AT} >= $1::date::timestamp AT TIME ZONE $3
              AND {_ACTIVITY_AT} < ($2::date + 1)::timestamp AT TIME ZONE $3
              AND ($4::uuid IS NULL OR client_id = $4)
            GROUP BY 1
        ), joined AS (
            SELECT (joined_at AT TIME ZONE $3)::date AS day, count(*) AS joined
            FROM memberships
            WHERE joined_at >= $1::date::timestamp AT TIME ZONE $3
              AND joined_at < ($2::date + 1)::timestamp AT TIME ZONE $3
              AND ($4::uuid IS NULL OR client_id = $4)
            GROUP BY 1
        )
        SELECT days.day, coalesce(m.sent, 0) AS messages_sent,
               coalesce(m.delivered, 0) AS messages_delivered,
               coalesce(m.failed, 0) AS messages_failed, coalesce(j.joined, 0) AS new_subscribers
        FROM days LEFT JOIN messages m USING (day) LEFT JOIN joined j USING (day)
        ORDER BY days.day
        """,
        first,
        last,
        time_zone,
        client_id,
    )
    return [{k: v if k == "day" else int(v) for k, v in dict(row).items()} for row in rows]


# --- scheduled announcements ----------------------------------------------------------

SCHEDULE_COLUMNS = (
    "id, client_id, body, run_at, time_zone, status, announcement_id, created_at, refusal,"
    " refused_at"
)


def _schedule(row: asyncpg.Record) -> ScheduledAnnouncement:
    return ScheduledAnnouncement(
        id=str(row["id"]),
        client_id=str(row["client_id"]),
        body=row["body"],
        run_at=row["run_at"],
        time_zone=row["time_zone"],
        status=ScheduleStatus(row["status"]),
        announcement_id=str(row["announcement_id"]) if row["announcement_id"] else None,
        created_at=row["created_at"],
        refusal=Refusal(row["refusal"]) if row["refusal"] else None,
        refused_at=row["refused_at"],
    )


async def insert_schedule(
    conn: Conn, schedule_id: UUID, client_id: UUID, body: str, run_at: datetime, time_zone: str
) -> ScheduledAnnouncement:
    row = await conn.fetchrow(
        "INSERT INTO scheduled_announcements (id, client_id, body, run_at, time_zone)"
        f" VALUES ($1, $2, $3, $4, $5) RETURNING {SCHEDULE_COLUMNS}",
        schedule_id,
        client_id,
        body,
        run_at,
        time_zone,
    )
    assert row is not None
    return _schedule(row)


async def schedules_of_client(
    conn: Conn, client_id: UUID, statuses: Sequence[str], refused_since: datetime | None = None
) -> list[ScheduledAnnouncement]:
    """The client's schedules in ``statuses``, and those refused since ``refused_since``
    (when given), soonest first."""
    rows = await conn.fetch(
        f"SELECT {SCHEDULE_COLUMNS} FROM scheduled_announcements"
        " WHERE client_id = $1 AND (status = ANY($2)"
        " OR (status = 'refused' AND refused_at >= $3)) ORDER BY run_at, id",
        client_id,
        list(statuses),
        refused_since,
    )
    return [_schedule(r) for r in rows]


async def lock_schedule(conn: Conn, schedule_id: UUID) -> ScheduledAnnouncement | None:
    """The schedule, its row locked until the transaction ends (waits for a scheduler that
    is starting it)."""
    row = await conn.fetchrow(
        f"SELECT {SCHEDULE_COLUMNS} FROM scheduled_announcements WHERE id = $1 FOR UPDATE",
        schedule_id,
    )
    return _schedule(row) if row else None


async def cancel_schedule(conn: Conn, schedule_id: UUID) -> ScheduledAnnouncement:
    row = await conn.fetchrow(
        "UPDATE scheduled_announcements SET status = 'canceled', canceled_at = now()"
        f" WHERE id = $1 RETURNING {SCHEDULE_COLUMNS}",
        schedule_id,
    )
    assert row is not None
    return _schedule(row)


async def claim_due_schedules(conn: Conn, now: datetime, limit: int) -> list[ScheduledAnnouncement]:
    """Due schedules no other transaction holds, locked until this one ends (a scheduler
    elsewhere skips them rather than waiting: ``SKIP LOCKED``)."""
    rows = await conn.fetch(
        f"SELECT {SCHEDULE_COLUMNS} FROM scheduled_announcements"
        " WHERE status = 'scheduled' AND run_at <= $1 ORDER BY run_at, id LIMIT $2"
        " FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [_schedule(r) for r in rows]


async def mark_schedule_refused(
    conn: Conn, schedule_id: UUID, refusal: Refusal, at: datetime
) -> None:
    await conn.execute(
        "UPDATE scheduled_announcements SET status = 'refused', refused_at = $3, refusal = $2"
        " WHERE id = $1",
        schedule_id,
        refusal.value,
        at,
    )


async def mark_schedule_started(conn: Conn, schedule_id: UUID, announcement_id: UUID) -> None:
    await conn.execute(
        "UPDATE scheduled_announcements SET status = 'started', started_at = now(),"
        " announcement_id = $2 WHERE id = $1",
        schedule_id,
        announcement_id,
    )
