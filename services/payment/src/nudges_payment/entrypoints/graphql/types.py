"""The GraphQL types of PaymentApi: entities keyed by ``id`` (``CheckoutSession``,
``PaymentConfirmation``), the ``Client`` entity UserApi owns (extended with ``payments``),
and the ``PriceTier`` reference ProductApi resolves."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, NewType
from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from nudges_kit.graphql import (
    Connection,
    Page,
    bad_input,
    decode_cursor,
    encode_cursor,
    page_size,
)
from nudges_payment.adapters.repository import MerchantCursor, PaymentCursor
from nudges_payment.domain import model
from nudges_payment.entrypoints.graphql.context import (
    Info,
    context,
    dependencies,
    may_read,
    require_reader_of,
    require_staff,
)
from nudges_payment.service_layer import checkout, payments

#: Money in minor units; GraphQL's Int stops at 32 bits, revenue totals need more.
MinorUnits = NewType("MinorUnits", int)


def _parse_minor_units(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("an amount is a whole number of minor units")
    return value


MINOR_UNITS_SCALAR = strawberry.scalar(
    name="MinorUnits",
    description="An amount of money in the currency's minor units (cents); may exceed 32 bits.",
    serialize=int,
    parse_value=_parse_minor_units,
)


@strawberry.enum(description="Where a checkout session stands.")
class CheckoutSessionStatus(Enum):
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"


@strawberry.federation.type(keys=[Key(fields=FieldSet("id"), resolvable=False)])
class PriceTier:
    """A price tier of a plan (ProductApi resolves its fields)."""

    id: strawberry.ID


@strawberry.federation.type(keys=["id"], description="A client of Nudges (owned by UserApi).")
class Client:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Client:
        return cls(id=id)

    @strawberry.field(description="Invoices the client paid, newest first (the client, admins).")
    async def payments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[PaymentConfirmation]:
        try:
            client_id = UUID(str(self.id))
        except ValueError:
            return Page[PaymentConfirmation]([], [], False, 0).connection()
        require_reader_of(info, client_id)
        size = page_size(first)
        cursor = parse_payment_cursor(after)
        loader = context(info).loader("client_payments", lambda: _client_payments_loader(info))
        window = await loader.load((client_id, size, cursor))
        return confirmations_connection(window)


@strawberry.federation.type(keys=["id"], description="A Stripe checkout a client opened.")
class CheckoutSession:
    id: strawberry.ID
    client: Client
    price_tier: PriceTier
    price_tier_id: strawberry.ID
    discount_code: str | None
    url: str = strawberry.field(description="The hosted Stripe page to send the payer to.")
    status: CheckoutSessionStatus
    expires_at: datetime | None
    created_at: datetime | None
    completed_at: datetime | None
    record: strawberry.Private[model.CheckoutSession]

    @strawberry.field(description="The Stripe Checkout Session (admins, services).")
    def stripe_session_id(self, info: Info) -> str:
        require_staff(info)
        return self.record.stripe_session_id

    @strawberry.field(description="The Stripe Subscription it started (admins, services).")
    def stripe_subscription_id(self, info: Info) -> str | None:
        require_staff(info)
        return self.record.stripe_subscription_id

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> CheckoutSession | None:
        try:
            session_id = UUID(str(id))
        except ValueError:
            return None
        session = await load_checkout_session(info, session_id)
        # Another client's session is as absent as a missing one.
        if session is None or not may_read(info, session.client_id):
            return None
        return checkout_session_type(session)


@strawberry.federation.type(keys=["id"], description="An invoice Stripe reported paid.")
class PaymentConfirmation:
    id: strawberry.ID
    client: Client
    amount: MinorUnits
    currency: str = strawberry.field(description="ISO 4217 code, lowercase as Stripe sends it.")
    paid_at: datetime
    recorded_at: datetime | None
    stripe_invoice: strawberry.Private[str]

    @strawberry.field(description="The Stripe Invoice (admins, services).")
    def stripe_invoice_id(self, info: Info) -> str:
        require_staff(info)
        return self.stripe_invoice

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> PaymentConfirmation | None:
        try:
            confirmation_id = UUID(str(id))
        except ValueError:
            return None

        def create() -> DataLoader[UUID, model.PaymentConfirmation | None]:
            return DataLoader(
                load_fn=lambda ids: payments.payment_confirmations_by_id(dependencies(info), ids)
            )

        loader = context(info).loader("payment_confirmations", create)
        confirmation = await loader.load(confirmation_id)
        if confirmation is None or not may_read(info, confirmation.client_id):
            return None
        return confirmation_type(confirmation)


@strawberry.type(description="Money taken in one currency.")
class PaymentRevenue:
    currency: str
    amount: MinorUnits
    confirmations: int


@strawberry.type(description="Payments at a glance, for the admin dashboard.")
class PaymentTotals:
    confirmations: int
    revenue: list[PaymentRevenue]


@strawberry.type(description="A payment provider Nudges takes money through.")
class MerchantService:
    id: strawberry.ID
    name: str
    active: bool
    created_at: datetime


# --- conversions and loading ------------------------------------------------------------


def checkout_session_type(session: model.CheckoutSession) -> CheckoutSession:
    return CheckoutSession(
        id=strawberry.ID(str(session.id)),
        client=Client(id=strawberry.ID(str(session.client_id))),
        price_tier=PriceTier(id=strawberry.ID(str(session.price_tier_id))),
        price_tier_id=strawberry.ID(str(session.price_tier_id)),
        discount_code=session.discount_code,
        url=session.url,
        status=CheckoutSessionStatus(session.status.value),
        expires_at=session.expires_at,
        created_at=session.created_at,
        completed_at=session.completed_at,
        record=session,
    )


def confirmation_type(confirmation: model.PaymentConfirmation) -> PaymentConfirmation:
    return PaymentConfirmation(
        id=strawberry.ID(str(confirmation.id)),
        client=Client(id=strawberry.ID(str(confirmation.client_id))),
        stripe_invoice=confirmation.stripe_invoice_id,
        amount=MinorUnits(confirmation.amount),
        currency=confirmation.currency,
        paid_at=confirmation.paid_at,
        recorded_at=confirmation.recorded_at,
    )


def merchant_service_type(service: model.MerchantService) -> MerchantService:
    return MerchantService(
        id=strawberry.ID(str(service.id)),
        name=service.name,
        active=service.active,
        created_at=service.created_at,
    )


def totals_type(totals: model.PaymentTotals) -> PaymentTotals:
    return PaymentTotals(
        confirmations=totals.confirmations,
        revenue=[
            PaymentRevenue(
                currency=r.currency, amount=MinorUnits(r.amount), confirmations=r.confirmations
            )
            for r in totals.revenue
        ],
    )


async def load_checkout_session(info: Info, session_id: UUID) -> model.CheckoutSession | None:
    """The session, through the request's DataLoader (one query per batch of ids)."""

    def create() -> DataLoader[UUID, model.CheckoutSession | None]:
        return DataLoader(load_fn=lambda ids: checkout.checkout_sessions(dependencies(info), ids))

    return await context(info).loader("checkout_sessions", create).load(session_id)


ClientPaymentsKey = tuple[UUID, int, PaymentCursor | None]


def _client_payments_loader(
    info: Info,
) -> DataLoader[ClientPaymentsKey, model.Window[model.PaymentConfirmation]]:
    """Pages of many clients' payments in one query per distinct (first, after)."""

    async def load(
        keys: list[ClientPaymentsKey],
    ) -> list[model.Window[model.PaymentConfirmation]]:
        groups: dict[tuple[int, PaymentCursor | None], list[UUID]] = {}
        for client_id, first, after in keys:
            groups.setdefault((first, after), []).append(client_id)
        found: dict[ClientPaymentsKey, model.Window[model.PaymentConfirmation]] = {}
        for (first, after), client_ids in groups.items():
            windows = await payments.payments_of_clients(
                dependencies(info), client_ids, first, after
            )
            for client_id, window in zip(client_ids, windows, strict=True):
                found[(client_id, first, after)] = window
        return [found[key] for key in keys]

    return DataLoader(load_fn=load)


# --- cursors ----------------------------------------------------------------------------


def payment_cursor(confirmation: model.PaymentConfirmation) -> str:
    return encode_cursor(confirmation.paid_at.isoformat(), confirmation.id)


def parse_payment_cursor(after: str | None) -> PaymentCursor | None:
    """The (paid_at, id) a page of payments starts after; BAD_USER_INPUT when not ours."""
    values = decode_cursor(after)
    if values is None:
        return None
    try:
        paid_at_text, id_text = values
        paid_at = datetime.fromisoformat(paid_at_text)
        if paid_at.tzinfo is None:
            raise ValueError("naive")
        return paid_at, UUID(id_text)
    except ValueError:
        raise _bad_cursor() from None


def merchant_cursor(service: model.MerchantService) -> str:
    return encode_cursor(service.name, service.id)


def parse_merchant_cursor(after: str | None) -> MerchantCursor | None:
    values = decode_cursor(after)
    if values is None:
        return None
    try:
        name, id_text = values
        return name, UUID(id_text)
    except ValueError:
        raise _bad_cursor() from None


def _bad_cursor() -> Exception:
    return bad_input("the cursor is not valid", field="after")


def confirmations_connection(
    window: model.Window[model.PaymentConfirmation],
) -> Connection[PaymentConfirmation]:
    return Page(
        items=[confirmation_type(c) for c in window.items],
        cursors=[payment_cursor(c) for c in window.items],
        has_next=window.has_next,
        total=window.total,
    ).connection()


def merchant_services_connection(
    window: model.Window[model.MerchantService],
) -> Connection[MerchantService]:
    return Page(
        items=[merchant_service_type(s) for s in window.items],
        cursors=[merchant_cursor(s) for s in window.items],
        has_next=window.has_next,
        total=window.total,
    ).connection()
