"""Use cases of payment confirmations, totals and merchant services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from uuid6 import uuid7

from nudges_kit.logging import get_logger
from nudges_payment.adapters import repository
from nudges_payment.adapters.repository import MerchantCursor, PaymentCursor
from nudges_payment.bootstrap import Dependencies
from nudges_payment.domain.model import (
    InvalidInput,
    MerchantService,
    NewPaymentConfirmation,
    PaymentConfirmation,
    PaymentTotals,
    Window,
)

log = get_logger(__name__)


async def record_payment_confirmation(
    deps: Dependencies, new: NewPaymentConfirmation
) -> PaymentConfirmation:
    """Record a paid invoice once per Stripe invoice; a repeat returns the recorded one."""
    async with deps.pool.acquire() as conn:
        confirmation, recorded = await repository.add_payment_confirmation(conn, uuid7(), new)
    if recorded:
        log.info(
            "payment confirmed",
            payment_confirmation_id=str(confirmation.id),
            client_id=str(confirmation.client_id),
        )
    return confirmation


async def payment_confirmations(
    deps: Dependencies, client_id: UUID | None, first: int, after: PaymentCursor | None
) -> Window[PaymentConfirmation]:
    """A page of confirmations, newest first; of one client or of every client."""
    async with deps.pool.acquire() as conn:
        return await repository.payment_confirmations(conn, client_id, first, after)


async def payment_confirmations_by_id(
    deps: Dependencies, ids: Sequence[UUID]
) -> list[PaymentConfirmation | None]:
    """The confirmations of ``ids``, in order (None where there is none)."""
    async with deps.pool.acquire() as conn:
        found = await repository.payment_confirmations_by_id(conn, ids)
    return [found.get(i) for i in ids]


async def payments_of_clients(
    deps: Dependencies, client_ids: Sequence[UUID], first: int, after: PaymentCursor | None
) -> list[Window[PaymentConfirmation]]:
    """One page per client, in the order of ``client_ids``."""
    async with deps.pool.acquire() as conn:
        pages = await repository.payment_confirmations_of_clients(
            conn, list(dict.fromkeys(client_ids)), first, after
        )
    return [pages[c] for c in client_ids]


async def payment_totals(
    deps: Dependencies, since: datetime | None, until: datetime | None
) -> PaymentTotals:
    """Revenue per currency and the count of confirmations paid in [since, until)."""
    if since is not None and until is not None and until <= since:
        raise InvalidInput("until", "until must come after since")
    async with deps.pool.acquire() as conn:
        return await repository.payment_totals(conn, since, until)


async def merchant_services(
    deps: Dependencies, first: int, after: MerchantCursor | None
) -> Window[MerchantService]:
    """The payment providers Nudges takes money through."""
    async with deps.pool.acquire() as conn:
        return await repository.merchant_services(conn, first, after)
