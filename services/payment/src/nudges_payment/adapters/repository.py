"""Every SQL statement of paymentdb: checkout sessions, payment confirmations, merchant
services. Functions take the caller's connection, so the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from nudges_payment.domain.model import (
    CheckoutSession,
    CheckoutStatus,
    MerchantService,
    NewPaymentConfirmation,
    PaymentConfirmation,
    PaymentTotals,
    Revenue,
    Window,
)

#: Where a page of payment confirmations starts: after this (paid_at, id).
PaymentCursor = tuple[datetime, UUID]
#: Where a page of merchant services starts: after this (name, id).
MerchantCursor = tuple[str, UUID]

_CHECKOUT_COLUMNS = (
    "id, client_id, price_tier_id, discount_code, stripe_session_id, url, status,"
    " expires_at, created_at, completed_at, stripe_subscription_id"
)
_CONFIRMATION_COLUMNS = "id, stripe_invoice_id, client_id, amount, currency, paid_at, recorded_at"


def _checkout_session(row: asyncpg.Record) -> CheckoutSession:
    return CheckoutSession(
        id=row["id"],
        client_id=row["client_id"],
        price_tier_id=row["price_tier_id"],
        discount_code=row["discount_code"],
        stripe_session_id=row["stripe_session_id"],
        url=row["url"],
        status=CheckoutStatus(row["status"]),
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        stripe_subscription_id=row["stripe_subscription_id"],
    )


def _confirmation(row: asyncpg.Record) -> PaymentConfirmation:
    return PaymentConfirmation(
        id=row["id"],
        stripe_invoice_id=row["stripe_invoice_id"],
        client_id=row["client_id"],
        amount=row["amount"],
        currency=row["currency"],
        paid_at=row["paid_at"],
        recorded_at=row["recorded_at"],
    )


# --- checkout sessions ------------------------------------------------------------------


async def add_checkout_session(conn: Any, session: CheckoutSession) -> CheckoutSession:
    """Store a new session; when a retry stored it first, the stored one."""
    row = await conn.fetchrow(
        f"INSERT INTO checkout_sessions ({_CHECKOUT_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), $9, $10)"
        f" ON CONFLICT DO NOTHING RETURNING {_CHECKOUT_COLUMNS}",
        session.id,
        session.client_id,
        session.price_tier_id,
        session.discount_code,
        session.stripe_session_id,
        session.url,
        session.status.value,
        session.expires_at,
        session.completed_at,
        session.stripe_subscription_id,
    )
    if row is None:
        row = await conn.fetchrow(
            f"SELECT {_CHECKOUT_COLUMNS} FROM checkout_sessions"
            " WHERE id = $1 OR stripe_session_id = $2 ORDER BY (id = $1) DESC LIMIT 1",
            session.id,
            session.stripe_session_id,
        )
    return _checkout_session(row)


async def checkout_session(conn: Any, session_id: UUID) -> CheckoutSession | None:
    """The session with our id ``session_id``."""
    row = await conn.fetchrow(
        f"SELECT {_CHECKOUT_COLUMNS} FROM checkout_sessions WHERE id = $1", session_id
    )
    return _checkout_session(row) if row else None


async def checkout_sessions(conn: Any, ids: Sequence[UUID]) -> dict[UUID, CheckoutSession]:
    """The sessions among ``ids`` that exist, by id (one query for a whole batch)."""
    rows = await conn.fetch(
        f"SELECT {_CHECKOUT_COLUMNS} FROM checkout_sessions WHERE id = ANY($1::uuid[])",
        list(ids),
    )
    return {row["id"]: _checkout_session(row) for row in rows}


async def lock_checkout_session(conn: Any, stripe_session_id: str) -> CheckoutSession | None:
    """The session of a Stripe session id, locked until the caller's transaction ends."""
    row = await conn.fetchrow(
        f"SELECT {_CHECKOUT_COLUMNS} FROM checkout_sessions"
        " WHERE stripe_session_id = $1 FOR UPDATE",
        stripe_session_id,
    )
    return _checkout_session(row) if row else None


async def save_checkout_status(conn: Any, session: CheckoutSession) -> None:
    """Write the session's status and completion back."""
    await conn.execute(
        "UPDATE checkout_sessions SET status = $2, completed_at = $3,"
        " stripe_subscription_id = $4 WHERE id = $1",
        session.id,
        session.status.value,
        session.completed_at,
        session.stripe_subscription_id,
    )


# --- payment confirmations --------------------------------------------------------------


async def add_payment_confirmation(
    conn: Any, confirmation_id: UUID, new: NewPaymentConfirmation
) -> tuple[PaymentConfirmation, bool]:
    """Record a paid invoice once: ``(confirmation, True)`` when this call recorded it,
    ``(the existing one, False)`` when the invoice was already recorded."""
    row = await conn.fetchrow(
        "INSERT INTO payment_confirmations"
        " (id, stripe_invoice_id, client_id, amount, currency, paid_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        f" ON CONFLICT (stripe_invoice_id) DO NOTHING RETURNING {_CONFIRMATION_COLUMNS}",
        confirmation_id,
        new.stripe_invoice_id,
        new.client_id,
        new.amount,
        new.currency,
        new.paid_at,
    )
    if row is not None:
        return _confirmation(row), True
    # The conflicting insert has committed (ON CONFLICT waited for it), so this sees it.
    row = await conn.fetchrow(
        f"SELECT {_CONFIRMATION_COLUMNS} FROM payment_confirmations WHERE stripe_invoice_id = $1",
        new.stripe_invoice_id,
    )
    return _confirmation(row), False


async def payment_confirmations_by_id(
    conn: Any, ids: Sequence[UUID]
) -> dict[UUID, PaymentConfirmation]:
    """The confirmations among ``ids`` that exist, by id."""
    rows = await conn.fetch(
        f"SELECT {_CONFIRMATION_COLUMNS} FROM payment_confirmations WHERE id = ANY($1::uuid[])",
        list(ids),
    )
    return {row["id"]: _confirmation(row) for row in rows}


async def payment_confirmations(
    conn: Any, client_id: UUID | None, limit: int, after: PaymentCursor | None
) -> Window[PaymentConfirmation]:
    """Newest first, ``limit`` at most, after ``after``; of one client or of all."""
    after_paid, after_id = after if after else (None, None)
    rows = await conn.fetch(
        f"SELECT {_CONFIRMATION_COLUMNS} FROM payment_confirmations"
        " WHERE ($1::uuid IS NULL OR client_id = $1)"
        "   AND ($2::timestamptz IS NULL OR (paid_at, id) < ($2, $3::uuid))"
        " ORDER BY paid_at DESC, id DESC LIMIT $4",
        client_id,
        after_paid,
        after_id,
        limit + 1,
    )
    total = await conn.fetchval(
        "SELECT count(*) FROM payment_confirmations WHERE ($1::uuid IS NULL OR client_id = $1)",
        client_id,
    )
    items = [_confirmation(row) for row in rows[:limit]]
    return Window(items=items, has_next=len(rows) > limit, total=total)


async def payment_confirmations_of_clients(
    conn: Any, client_ids: Sequence[UUID], limit: int, after: PaymentCursor | None
) -> dict[UUID, Window[PaymentConfirmation]]:
    """One page per client, for a whole batch of clients in two queries."""
    after_paid, after_id = after if after else (None, None)
    rows = await conn.fetch(
        f"SELECT page.* FROM unnest($1::uuid[]) AS wanted (client_id)"
        " CROSS JOIN LATERAL ("
        f"   SELECT {_CONFIRMATION_COLUMNS} FROM payment_confirmations p"
        "    WHERE p.client_id = wanted.client_id"
        "      AND ($2::timestamptz IS NULL OR (p.paid_at, p.id) < ($2, $3::uuid))"
        "    ORDER BY p.paid_at DESC, p.id DESC LIMIT $4"
        " ) AS page",
        list(client_ids),
        after_paid,
        after_id,
        limit + 1,
    )
    counts = dict(
        await conn.fetch(
            "SELECT client_id, count(*) FROM payment_confirmations"
            " WHERE client_id = ANY($1::uuid[]) GROUP BY client_id",
            list(client_ids),
        )
    )
    by_client: dict[UUID, list[PaymentConfirmation]] = {c: [] for c in client_ids}
    for row in rows:
        by_client[row["client_id"]].append(_confirmation(row))
    return {
        client_id: Window(
            items=items[:limit], has_next=len(items) > limit, total=counts.get(client_id, 0)
        )
        for client_id, items in by_client.items()
    }


async def payment_totals(
    conn: Any, since: datetime | None, until: datetime | None
) -> PaymentTotals:
    """Revenue per currency and the number of confirmations, paid in [since, until)."""
    rows = await conn.fetch(
        "SELECT currency, sum(amount)::bigint AS amount, count(*) AS confirmations"
        " FROM payment_confirmations"
        " WHERE ($1::timestamptz IS NULL OR paid_at >= $1)"
        "   AND ($2::timestamptz IS NULL OR paid_at < $2)"
        " GROUP BY currency ORDER BY currency",
        since,
        until,
    )
    revenue = tuple(
        Revenue(currency=r["currency"], amount=r["amount"], confirmations=r["confirmations"])
        for r in rows
    )
    return PaymentTotals(confirmations=sum(r.confirmations for r in revenue), revenue=revenue)


# --- merchant services ------------------------------------------------------------------


async def merchant_services(
    conn: Any, limit: int, after: MerchantCursor | None
) -> Window[MerchantService]:
    """Merchant services by name, ``limit`` at most, after ``after``."""
    after_name, after_id = after if after else (None, None)
    rows = await conn.fetch(
        "SELECT id, name, active, created_at FROM merchant_services"
        " WHERE ($1::text IS NULL OR (name, id) > ($1, $2::uuid))"
        " ORDER BY name, id LIMIT $3",
        after_name,
        after_id,
        limit + 1,
    )
    total = await conn.fetchval("SELECT count(*) FROM merchant_services")
    items = [
        MerchantService(id=r["id"], name=r["name"], active=r["active"], created_at=r["created_at"])
        for r in rows[:limit]
    ]
    return Window(items=items, has_next=len(rows) > limit, total=total)
