"""Mutations: a client opens a checkout; the consumers (role ``service``) report what Stripe
said about it and about invoices."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from nudges_payment.domain.model import CheckoutRequest, NewPaymentConfirmation
from nudges_payment.entrypoints.graphql.context import (
    Info,
    caller_token,
    context,
    dependencies,
    domain_errors,
    require_client,
)
from nudges_payment.entrypoints.graphql.types import (
    CheckoutSession,
    PaymentConfirmation,
    RecordPaymentConfirmationInput,
    checkout_session_type,
    confirmation_type,
)
from nudges_payment.service_layer import checkout, payments


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Open a Stripe checkout for a price tier (clients). Repeats of one request "
        "return the same session: pass idempotencyKey to say which requests are one; without "
        "it, identical requests within the same minute are."
    )
    async def create_checkout_session(
        self,
        info: Info,
        price_tier_id: strawberry.ID,
        discount_code: str | None = None,
        idempotency_key: str | None = None,
    ) -> CheckoutSession:
        _, client_id = require_client(info)
        with domain_errors():
            request = CheckoutRequest.checked(
                client_id, price_tier_id, discount_code, idempotency_key, datetime.now(UTC)
            )
            session = await checkout.create_checkout_session(
                dependencies(info), request, caller_token(info)
            )
        return checkout_session_type(session)

    @strawberry.federation.mutation(
        description="Stripe completed the checkout (service). Idempotent: the first call "
        "publishes payment.checkout.completed, repeats change nothing.",
        inaccessible=True,
    )
    async def complete_checkout_session(
        self, info: Info, stripe_session_id: str, stripe_subscription_id: str
    ) -> CheckoutSession:
        context(info).require("service")
        with domain_errors():
            session = await checkout.complete_checkout_session(
                dependencies(info), stripe_session_id, stripe_subscription_id
            )
        return checkout_session_type(session)

    @strawberry.federation.mutation(
        description="Stripe expired the checkout (service). Idempotent.", inaccessible=True
    )
    async def expire_checkout_session(self, info: Info, stripe_session_id: str) -> CheckoutSession:
        context(info).require("service")
        with domain_errors():
            session = await checkout.expire_checkout_session(dependencies(info), stripe_session_id)
        return checkout_session_type(session)

    @strawberry.federation.mutation(
        description="Stripe reported an invoice paid (service). Recorded once per invoice: "
        "a repeat returns the recorded confirmation.",
        inaccessible=True,
    )
    async def record_payment_confirmation(
        self, info: Info, input: RecordPaymentConfirmationInput
    ) -> PaymentConfirmation:
        context(info).require("service")
        with domain_errors():
            new = NewPaymentConfirmation.checked(
                input.stripe_invoice_id,
                str(input.client_id),
                int(input.amount),
                input.currency,
                input.paid_at,
            )
            confirmation = await payments.record_payment_confirmation(dependencies(info), new)
        return confirmation_type(confirmation)
