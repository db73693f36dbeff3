"""Queries: who may ask is checked here, field by field; the answers come from the service
layer."""

from __future__ import annotations

from datetime import datetime

import strawberry

from nudges_kit.graphql import Connection, forbidden, not_found, page_size
from nudges_payment.domain.access import client_id_of, may_read_client_payments
from nudges_payment.entrypoints.graphql.context import (
    Info,
    context,
    dependencies,
    domain_errors,
    parse_uuid,
)
from nudges_payment.entrypoints.graphql.types import (
    CheckoutSession,
    MerchantService,
    PaymentConfirmation,
    PaymentTotals,
    checkout_session_type,
    confirmations_connection,
    load_checkout_session,
    merchant_services_connection,
    parse_merchant_cursor,
    parse_payment_cursor,
    totals_type,
)
from nudges_payment.service_layer import payments


@strawberry.type
class Query:
    @strawberry.field(description="One checkout session (its client, admins).")
    async def checkout_session(self, info: Info, id: strawberry.ID) -> CheckoutSession:
        principal = context(info).require()
        session = await load_checkout_session(info, parse_uuid(id, "id"))
        # Another client's session is answered as a missing one: its id is not probed.
        if session is None or not may_read_client_payments(principal, session.client_id):
            raise not_found("checkout session")
        return checkout_session_type(session)

    @strawberry.field(
        description="Paid invoices, newest first: admins see every client's (or one's with "
        "clientId), a client only their own."
    )
    async def payment_confirmations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        client_id: strawberry.ID | None = None,
    ) -> Connection[PaymentConfirmation]:
        principal = context(info).require("admin", "client")
        wanted = parse_uuid(client_id, "clientId") if client_id is not None else None
        if not principal.has_role("admin"):
            own = client_id_of(principal)
            if own is None:
                raise forbidden("the token does not name a client")
            if wanted is not None and wanted != own:
                raise forbidden("a client sees only their own payments")
            wanted = own
        size = page_size(first)
        cursor = parse_payment_cursor(after)
        window = await payments.payment_confirmations(dependencies(info), wanted, size, cursor)
        return confirmations_connection(window)

    @strawberry.field(
        description="Revenue per currency and the number of paid invoices, paid in "
        "[since, until) when given (admins)."
    )
    async def payment_totals(
        self, info: Info, since: datetime | None = None, until: datetime | None = None
    ) -> PaymentTotals:
        context(info).require("admin")
        with domain_errors():
            totals = await payments.payment_totals(dependencies(info), since, until)
        return totals_type(totals)

    @strawberry.field(description="The payment providers Nudges takes money through (admins).")
    async def merchant_services(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[MerchantService]:
        context(info).require("admin")
        size = page_size(first)
        cursor = parse_merchant_cursor(after)
        window = await payments.merchant_services(dependencies(info), size, cursor)
        return merchant_services_connection(window)
