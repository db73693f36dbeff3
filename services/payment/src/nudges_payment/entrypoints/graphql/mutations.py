"""Mutations: a client opens a checkout. What Stripe says about it and about invoices
arrives on ``stripe.events`` (``entrypoints/consumers.py``), not through the graph."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from nudges_payment.domain.model import CheckoutRequest
from nudges_payment.entrypoints.graphql.context import (
    Info,
    caller_token,
    dependencies,
    domain_errors,
    require_client,
)
from nudges_payment.entrypoints.graphql.types import (
    CheckoutSession,
    checkout_session_type,
)
from nudges_payment.service_layer import checkout


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
