"""Use cases of payment confirmations (paid invoices Stripe reports on ``stripe.events``),
failed invoices, totals and merchant services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from uuid6 import uuid7

from nudges_kit.errors import BadInput, NotFound
from nudges_kit.events.catalog.payment import InvoiceData, invoice_failed, invoice_paid
from nudges_kit.logging import get_logger
from nudges_payment.adapters import repository
from nudges_payment.adapters.repository import MerchantCursor, PaymentCursor
from nudges_payment.bootstrap import Dependencies
from nudges_payment.domain.invoices import StripeInvoice, client_of_metadata
from nudges_payment.domain.model import (
    MerchantService,
    NewPaymentConfirmation,
    PaymentConfirmation,
    PaymentTotals,
    Window,
)
from nudges_payment.service_layer.unit_of_work import unit_of_work

log = get_logger(__name__)


async def record_paid_invoice(deps: Dependencies, db: Any, invoice: StripeInvoice) -> None:
    """Record a paid invoice once per Stripe invoice and, the first time, publish
    ``payment.invoice.paid`` for a subscription's invoice, in the same transaction.
    ``db`` is a pool or a connection in a transaction (see :func:`unit_of_work`)."""
    client_id = await _client_of(deps, invoice)
    new = NewPaymentConfirmation.checked(
        invoice.stripe_invoice_id,
        str(client_id),
        invoice.amount_paid,
        invoice.currency,
        invoice.paid_at or datetime.now(UTC),
    )
    async with unit_of_work(db) as uow:
        confirmation, recorded = await repository.add_payment_confirmation(uow.conn, uuid7(), new)
        if not recorded:
            return
        if invoice.stripe_subscription_id:
            await uow.publish(
                invoice_paid,
                invoice.stripe_subscription_id,
                _invoice_data(invoice, client_id, invoice.amount_paid),
            )
    log.info(
        "payment confirmed",
        payment_confirmation_id=str(confirmation.id),
        client_id=str(confirmation.client_id),
    )


async def report_failed_invoice(deps: Dependencies, db: Any, invoice: StripeInvoice) -> None:
    """Publish ``payment.invoice.failed`` for a subscription's invoice Stripe could not
    collect; an invoice no subscription billed is not Nudges' business."""
    if not invoice.stripe_subscription_id:
        return
    client_id = await _client_of(deps, invoice)
    async with unit_of_work(db) as uow:
        await uow.publish(
            invoice_failed,
            invoice.stripe_subscription_id,
            _invoice_data(invoice, client_id, invoice.amount_due),
        )
    log.info("invoice payment failed", client_id=str(client_id))


def _invoice_data(invoice: StripeInvoice, client_id: UUID, amount: int) -> InvoiceData:
    assert invoice.stripe_subscription_id is not None
    return InvoiceData(
        stripe_invoice_id=invoice.stripe_invoice_id,
        stripe_subscription_id=invoice.stripe_subscription_id,
        client_id=client_id,
        price_tier_id=invoice.price_tier_id,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        amount=amount,
        currency=invoice.currency,
    )


async def _client_of(deps: Dependencies, invoice: StripeInvoice) -> UUID:
    """The client an invoice bills: named by its own or its subscription's metadata, else
    by the Stripe subscription's or customer's metadata (asked of Stripe)."""
    if invoice.client_id is not None:
        return invoice.client_id
    for kind, object_id in (
        ("subscription", invoice.stripe_subscription_id),
        ("customer", invoice.customer_id),
    ):
        if object_id:
            found = client_of_metadata(await deps.payments.metadata_of(kind, object_id))
            if found is not None:
                return found
    raise NotFound(f"the client of invoice {invoice.stripe_invoice_id} not found")


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
        raise BadInput("until must come after since", field="until")
    async with deps.pool.acquire() as conn:
        return await repository.payment_totals(conn, since, until)


async def merchant_services(
    deps: Dependencies, first: int, after: MerchantCursor | None
) -> Window[MerchantService]:
    """The payment providers Nudges takes money through."""
    async with deps.pool.acquire() as conn:
        return await repository.merchant_services(conn, first, after)
