"""SQL of consumersdb's ``client_digests`` (what each client has not been told yet of their
subscribers); the send ledger's stays with the sender. Functions take the connection of the
caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from nudges_consumers.domain.client_digest import ClientDigest

_COLUMNS = "client_id, last_notice_at, joined, departed, subscribers"


def _digest(row: asyncpg.Record) -> ClientDigest:
    return ClientDigest(
        last_notice_at=row["last_notice_at"],
        joined=row["joined"],
        left=row["departed"],
        subscribers=row["subscribers"],
    )


async def digest_locked(conn: asyncpg.Connection, client_id: UUID) -> ClientDigest:
    """The client's digest, its row held until the transaction ends (created when new)."""
    await conn.execute(
        "INSERT INTO client_digests (client_id) VALUES ($1) ON CONFLICT DO NOTHING", client_id
    )
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM client_digests WHERE client_id = $1 FOR UPDATE", client_id
    )
    assert row is not None
    return _digest(row)


async def save_digest(conn: asyncpg.Connection, client_id: UUID, digest: ClientDigest) -> None:
    await conn.execute(
        "UPDATE client_digests SET last_notice_at = $2, joined = $3, departed = $4,"
        " subscribers = $5, updated_at = now() WHERE client_id = $1",
        client_id,
        digest.last_notice_at,
        digest.joined,
        digest.left,
        digest.subscribers,
    )


async def due_digest_clients(
    conn: asyncpg.Connection, now: datetime, interval: timedelta, limit: int
) -> list[UUID]:
    """Clients whose pending changes are due (the interval since their last notice is up)."""
    rows = await conn.fetch(
        "SELECT client_id FROM client_digests WHERE joined + departed > 0"
        " AND (last_notice_at IS NULL OR last_notice_at <= $1)"
        " ORDER BY last_notice_at NULLS FIRST LIMIT $2",
        now - interval,
        limit,
    )
    return [r["client_id"] for r in rows]


async def digest_locked_if_due(
    conn: asyncpg.Connection, client_id: UUID, now: datetime, interval: timedelta
) -> ClientDigest | None:
    """The client's digest, held until the transaction ends, if it is due and no other
    transaction holds it (that one tells it); else None."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM client_digests WHERE client_id = $1 FOR UPDATE SKIP LOCKED",
        client_id,
    )
    if row is None:
        return None
    digest = _digest(row)
    return digest if digest.due(now, interval) else None
